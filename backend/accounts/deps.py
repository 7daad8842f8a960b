"""Who is asking: typed dependencies that resolve the actor once per request and check roles in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from backend.accounts import credentials
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit import telemetry
from backend.kit.errors import Forbidden, NotAuthenticated
from backend.kit.i18n import _
from backend.kit.state import SettingsDep, app_state
from backend.policies.service import load_policy


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


def session_cookie(request: Request, settings: SettingsDep) -> str | None:
    """The sign-in cookie the request carries (its name is a setting)."""
    return request.cookies.get(settings.session_cookie_name)


SessionCookie = Annotated[str | None, Depends(session_cookie)]


def optional_user(request: Request, session: SessionDep, cookie: SessionCookie) -> User | None:
    """The user behind the request's cookie or bearer token (backend.accounts.credentials decides, for pages or
    /api/v1 by the path). A bearer token that is refused is an error, not an anonymous request."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    presented = credentials.Presented.of(request.headers.get("authorization"), cookie)
    user = credentials.resolve(session, presented, credentials.purpose_of(request.url.path), load_policy(session))
    request.state.user = user
    telemetry.identify(user.id if user else None)  # the user id on every log line of this request
    # A plain snapshot for templates: error pages render after the transaction rolled back and expired the row.
    request.state.viewer = Viewer.of(user) if user else None
    return user


def bearer_is_valid(request: Request) -> bool:
    """Whether the request's bearer token passes the credential check (any kind): for the CSRF check, which lets
    only such a request skip the token (backend.kit.csrf). Its own short session: it runs before the request's."""
    presented = credentials.Presented.of(request.headers.get("authorization"), None)
    if presented is None:
        return False
    with app_state(request).sessionmaker() as session:
        verdict = credentials.verdict_for(session, presented, load_policy(session))
        return isinstance(verdict, credentials.Grant)


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


# The role aliases, defined here once; routes name the role they need in their signature.
# Admins of a school or of the district (their school scope is decided by the service they call).
AdminUser = Annotated[User, Depends(require_role(Role.school_admin, Role.district_admin))]
DistrictAdmin = Annotated[User, Depends(require_role(Role.district_admin))]
# Who writes courses, quizzes and their media: trainers (德研员) and district admins.
AuthorUser = Annotated[User, Depends(require_role(Role.trainer, Role.district_admin))]
# Who runs an offline session: a trainer or an admin.
RunnerUser = Annotated[User, Depends(require_role(Role.school_admin, Role.district_admin, Role.trainer))]
