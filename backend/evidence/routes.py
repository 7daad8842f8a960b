"""学时核查: the credited-hour entries of the teachers an administrator oversees, and the evidence behind each.

Two clicks from any page: the nav item opens the list, a row's link opens the evidence.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import AdminUser
from backend.db import SessionDep
from backend.evidence import service
from backend.kit import lists
from backend.kit.web import render
from backend.people import records

pages = APIRouter(include_in_schema=False)

# Teachers and trainers are refused here (403); the school scope itself is applied inside every service query.


@pages.get("/admin/hours")
def hours_page(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    q: str | None = None,
    school: str | None = None,
    page: str | None = None,
) -> Response:
    # Filters come from links and a GET form: anything unparseable is ignored rather than an error page.
    school_id = lists.number(school)
    result = service.credited_hours(session, user, query=q, school_id=school_id, page=lists.page_number(page))
    return render(
        request,
        "evidence/hours.html",
        {
            "page": result,
            "q": lists.text(q),
            "school_id": school_id,
            "schools": records.schools_to_filter(session, user),
        },
        block="results",
    )


@pages.get("/admin/hours/{entry_id}/evidence")
def evidence_page(request: Request, entry_id: int, session: SessionDep, user: AdminUser) -> Response:
    evidence = service.evidence_for(session, user, entry_id)
    return render(request, "evidence/evidence.html", {"evidence": evidence, "bar_width": service.BAR_WIDTH})
