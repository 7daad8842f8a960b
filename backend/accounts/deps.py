"""Who is asking: typed dependencies that resolve the actor once per request and check roles in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from backend.accounts import service
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit.errors import Forbidden, NotAuthenticated
from backend.kit.i18n import _


@dataclass(frozen=True)
class Viewer:
    id: int
    username: str
    display_name: str
    role: str
    school_id: int | None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.username, user.display_name, user.role, user.school_id)


def optional_user(request: Request, session: SessionDep) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = service.user_for_api_token(session, auth[7:].strip())
        if user is None:
            raise NotAuthenticated(_("The API token is invalid, expired or revoked."))
    else:
        cookie = request.cookies.get(request.app.state.settings.session_cookie_name)
        user = service.user_for_session_token(session, cookie) if cookie else None
    request.state.user = user
    # A plain snapshot for templates: error pages render after the transaction rolled back and expired the row.
    request.state.viewer = Viewer.of(user) if user else None
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated(_("Please log in first."))
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(_("Your role does not allow this."))
        return user

    return check


TeacherUser = Annotated[User, Depends(require_role(Role.teacher, Role.trainer, Role.school_admin, Role.district_admin))]
