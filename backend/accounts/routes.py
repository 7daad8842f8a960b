"""Login, logout, language; the JSON API's session and token endpoints."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backend.accounts import hashing, oidc, service
from backend.accounts.deps import CurrentUser, OptionalUser
from backend.accounts.models import User
from backend.config import Settings
from backend.db import SessionDep
from backend.kit.csrf import CSRF_COOKIE, new_cookie_value
from backend.kit.errors import AppError, NotAuthenticated
from backend.kit.i18n import LOCALES, _, translate
from backend.kit.state import SettingsDep
from backend.kit.web import LOCALE_COOKIE, redirect, render, same_origin_path
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["accounts"])


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def set_session_cookie(settings: Settings, response: Response, new: service.NewSession) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        new.token,
        max_age=new.max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    # A fresh CSRF secret with the fresh session; the next page renders tokens for it.
    response.set_cookie(
        CSRF_COOKIE, new_cookie_value(), httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )


# Where each stage of a sign-in continues (see backend.accounts.service).
STAGE_PAGES = {"mfa": "/login/2fa", "enrol": "/account/2fa", "password": "/account/password"}  # nosec B105 - URLs


def stage_target(stage: str, next_url: str) -> str:
    if stage == "active":
        return same_origin_path(next_url)
    return STAGE_PAGES[stage] + "?" + urlencode({"next": same_origin_path(next_url)})


def _log_in(
    request: Request, session: SessionDep, settings: Settings, user: User, next_url: str, method: str = "password"
) -> Response:
    """Starts the sign-in (a new session id) and redirects to its next step: a second factor, or the page."""
    service.end_session(session, request.cookies.get(settings.session_cookie_name))
    new = service.begin_sign_in(
        session, user, method=method, waive_admin_2fa=settings.demo_mode, address=client_address(request)
    )
    response = redirect(request, stage_target(new.stage, next_url))
    set_session_cookie(settings, response, new)
    return response


def authenticate(request: Request, session: SessionDep, settings: Settings, username: str, password: str) -> User:
    """Checks the credentials; a refusal is committed (failure count, lockout, audit) before it is raised."""
    oidc.require_local_login(settings)
    address = client_address(request)
    try:
        # The lockout is checked first, then a place is taken from this client's share and the shared rate (a
        # locked-out flood spends nobody's places); refused as busy before the password is hashed.
        return service.authenticate(session, username, password, address, admission=hashing.pool.admit(client=address))
    except AppError as exc:
        exc.keep = True  # the refusal's failure count, lockout and audit event stay (the session commits them)
        raise


def _log_out(request: Request, response: Response, session: SessionDep, settings: Settings) -> None:
    user = getattr(request.state, "user", None)
    service.log_out(session, request.cookies.get(settings.session_cookie_name), user, client_address(request))
    response.delete_cookie(settings.session_cookie_name, path="/")


@pages.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, same_origin_path(next))
    return render(request, "accounts/login.html", {"next": same_origin_path(next), "form": {}, "errors": {}})


@pages.post("/login")
def login_submit(  # nosec B107 - empty form defaults, answered with "enter your password"
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    errors: dict[str, str] = {}
    status = 422
    if not username.strip():
        errors["username"] = "Please enter your username."
    if not password:
        errors["password"] = "Please enter your password."  # noqa: S105 - a message, not a secret  # nosec B105
    if not errors:
        try:
            user = authenticate(request, session, settings, username, password)
        except AppError as exc:
            errors["form"] = translate(request.state.locale, exc.message, **exc.params)
            status = exc.status_code
        else:
            return _log_in(request, session, settings, user, next)
    locale = request.state.locale
    return render(
        request,
        "accounts/login.html",
        {
            "next": same_origin_path(next),
            "form": {"username": username},
            "errors": {k: translate(locale, v) for k, v in errors.items()},
        },
        status=422 if "form" not in errors else status,
    )


@pages.post("/logout")
def logout(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser) -> Response:
    # An SSO session also ends at the provider (RP-initiated logout), which then sends the browser back here.
    provider = oidc.provider_logout_url(
        session, settings, request.cookies.get(settings.session_cookie_name), str(request.url_for("login_page"))
    )
    response = redirect(request, provider or "/login")
    _log_out(request, response, session, settings)
    return response


@pages.post("/lang")
def switch_language(
    request: Request, lang: Annotated[str, Form()] = "zh_CN", next: Annotated[str, Form()] = "/"
) -> Response:
    response = redirect(request, same_origin_path(next))
    if lang in LOCALES:
        response.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    school_id: int | None


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type name


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, display_name=user.display_name, role=user.role, school_id=user.school_id
    )


def _api_credentials(request: Request, session: SessionDep, settings: Settings, body: LoginIn) -> User:
    """A password alone opens no API session or token for an account that signs in with a second step."""
    user = authenticate(request, session, settings, body.username, body.password)
    stage = service.stage_after(
        user,
        method="password",
        waive_admin_2fa=settings.demo_mode,
        passed="password",
        policy=load_policy(session),
    )
    if stage != "active":
        raise NotAuthenticated(_("This account signs in with a second step: please use the login page."))
    return user


@api.post("/auth/login", response_model=UserOut)
def api_login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> UserOut:
    """Starts a browser session (cookie). Send the CSRF token from the login page in `X-CSRF-Token`."""
    user = _api_credentials(request, session, settings, body)
    service.end_session(session, request.cookies.get(settings.session_cookie_name))
    new = service.begin_sign_in(session, user, method="password", waive_admin_2fa=True, address=client_address(request))
    set_session_cookie(settings, response, new)
    return _user_out(user)


@api.post("/auth/logout", status_code=204)
def api_logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    response = Response(status_code=204)
    _log_out(request, response, session, settings)
    return response


@api.post("/auth/token", response_model=TokenOut)
def api_token(body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Exchanges credentials for a bearer token (90 days) for scripts and integrations."""
    user = _api_credentials(request, session, settings, body)
    return TokenOut(token=service.create_api_token(session, user, name="api login"))


@api.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return _user_out(user)
