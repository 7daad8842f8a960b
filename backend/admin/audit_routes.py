"""The audit log page: district admins read who did what, when and from where (issue 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts import service as accounts
from backend.accounts.deps import DistrictAdmin
from backend.audit import service
from backend.audit.describe import GROUPS, describe_events
from backend.audit.models import AuditEvent
from backend.db import SessionDep
from backend.kit import lists
from backend.kit.clock import SHANGHAI
from backend.kit.i18n import translator
from backend.kit.web import render

pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    actor_name: str | None
    actor_username: str | None


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
    page: str | None = None,
) -> Response:
    # An unreadable date is no filter; a day outside 2000–2099 is refused with 422 (lists.day).
    first, last = lists.day(since, "since"), lists.day(until, "until")
    result = service.page_of_events(
        session,
        action_prefix=action.strip(),
        actor_ids=accounts.ids_named(session, user) if user.strip() else None,
        since=_start_of(first),
        until=_start_of(last + timedelta(days=1)) if last else None,
        number=lists.page_number(page),
    )
    filters = {"action": action, "user": user, "since": first.isoformat() if first else "",
               "until": last.isoformat() if last else ""}  # fmt: skip
    described = describe_events(session, result.items, translator(request.state.locale))
    actors = accounts.names_by_id(session, {e.actor_id for e in result.items if e.actor_id is not None})
    rows = result.map(lambda e: EventRow(e, *actors.get(e.actor_id or 0, (None, None))))
    return render(request, "audit/log.html", {
        "page": rows, "described": described, "filters": filters, "groups": GROUPS,
    }, block="results")  # fmt: skip
