"""The audit log page: district admins read who did what, when and from where (issue 6)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import DistrictAdmin
from backend.audit import service
from backend.audit.describe import GROUPS, describe_events
from backend.db import SessionDep
from backend.kit.clock import SHANGHAI
from backend.kit.errors import InvalidInput
from backend.kit.i18n import _, translator
from backend.kit.web import render

pages = APIRouter(include_in_schema=False)


# The filter's dates: the audit log starts with the portal; a day past these is a mistake (9999-12-31 would
# overflow the end-of-day arithmetic), refused with 422.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _day(value: str, field: str) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={field: _("Enter a date between 2000 and 2099.")}
        )
    return day


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
    first, last = _day(since, "since"), _day(until, "until")
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
    described = describe_events(session, [row.event for row in result.items], translator(request.state.locale))
    return render(request, "audit/log.html", {
        "page": result, "described": described, "filters": filters, "groups": GROUPS,
        "page_href": lambda n: "/admin/audit?" + urlencode({**filters, "page": n}),
    }, block="results")  # fmt: skip
