"""通知: the list of what came back to the signed-in person, newest first; opening it marks the new ones read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.db import SessionDep
from backend.kit.state import app_state
from backend.kit.web import register_context, render
from backend.notices import service

pages = APIRouter(include_in_schema=False)


@pages.get("/notices")
def notices_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    items = service.latest(session, user.id)
    unread = {n.id for n in items if n.read_at is None}  # shown as new this once
    service.mark_all_read(session, user.id)
    return render(request, "notices/list.html", {"items": items, "unread": unread})


def _unread(request: Request) -> dict[str, object]:
    """The header's count of unread notices (full pages of a signed-in person only; one indexed count)."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None:
        return {}
    with app_state(request).sessionmaker() as session:
        return {"unread_notices": service.unread_count(session, viewer.id)}


register_context(_unread)
