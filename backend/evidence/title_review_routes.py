"""职称评审: the title review of the teachers an administrator oversees, a teacher's review in detail, and the Excel
export. The review reads the teacher records (people) and the one reading of hours (credits.hours), so it sits on the
reports floor above both."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from backend.accounts.deps import AdminUser
from backend.db import SessionDep
from backend.evidence import title_review
from backend.kit import lists
from backend.kit.i18n import translate
from backend.kit.web import download_headers, render
from backend.kit.xlsx import XLSX_TYPE
from backend.people import records, rules
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)


@pages.get("/admin/title-review")
def title_review_page(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    as_of: str | None = None,
    q: str | None = None,
    school: str | None = None,
    only: str | None = None,
    page: str | None = None,
) -> Response:
    day = title_review.parse_as_of(as_of)
    school_id = lists.number(school)
    only = lists.choice(only, title_review.FILTERS)
    result = title_review.review_page(
        session, user, as_of=day, query=q, school_id=school_id, only=only, page=lists.page_number(page)
    )
    return render(
        request,
        "evidence/title_review.html",
        {
            "page": result.page,
            "exact": result.exact,
            "as_of": day,
            "q": lists.text(q),
            "school_id": school_id,
            "only": only,
            "schools": records.schools_to_filter(session, user),
            "policy": (policy := load_policy(session)),
            "window": rules.evaluation_window(day, policy),  # "the last 5 years" in years, as the detail says
        },
        block="results",
    )


@pages.get("/admin/title-review/export.xlsx")
def title_review_export(
    session: SessionDep, user: AdminUser, as_of: str | None = None, school: str | None = None
) -> Response:
    day = title_review.parse_as_of(as_of)
    path = title_review.export_workbook(session, user, as_of=day, school_id=lists.number(school))
    return FileResponse(
        path,
        media_type=XLSX_TYPE,
        headers=download_headers(f"职称评审_{day.isoformat()}.xlsx", fallback="title-review.xlsx"),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@pages.get("/admin/title-review/{teacher_id}")
def title_review_teacher(
    request: Request, teacher_id: int, session: SessionDep, user: AdminUser, as_of: str | None = None
) -> Response:
    day = title_review.parse_as_of(as_of)
    detail = title_review.teacher_review(session, user, teacher_id, day)
    locale = request.state.locale
    kinds = "、".join(
        translate(locale, records.KIND_LABELS.get(k, k)) for k in sorted(rules.counting_kinds(detail.policy))
    )
    context = records.LABELS | {"detail": detail, "as_of": day, "counting_kinds": kinds}
    return render(request, "evidence/review_detail.html", context)
