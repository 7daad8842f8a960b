"""The audit log page: district admins read who did what, when and from where (issue 6)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from backend.accounts.deps import require_role
from backend.accounts.models import Role, User
from backend.audit import service
from backend.db import SessionDep
from backend.kit.clock import SHANGHAI
from backend.kit.web import render

pages = APIRouter(include_in_schema=False)
DistrictAdmin = Annotated[User, Depends(require_role(Role.district_admin))]
# The filter's choices: security events first, then the record-keeping verbs other domains write.
ACTION_GROUPS = ("auth.", "auth.login", "auth.lockout", "auth.password", "auth.role", "auth.2fa", "token.", "ledger.")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, SHANGHAI) if day else None


@pages.get("/admin/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    admin: DistrictAdmin,
    action: str = "",
    user: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> Response:
    first, last = _day(since), _day(until)
    result = service.page_of_events(
        session,
        action_prefix=action.strip(),
        username=user,
        since=_start_of(first),
        until=_start_of(last + timedelta(days=1)) if last else None,
        number=page,
    )
    filters = {"action": action, "user": user, "since": first.isoformat() if first else "",
               "until": last.isoformat() if last else ""}  # fmt: skip
    return render(request, "audit/log.html", {
        "page": result, "filters": filters, "groups": ACTION_GROUPS,
        "page_href": lambda n: "/admin/audit?" + urlencode({**filters, "page": n}),
    }, block="results")  # fmt: skip
