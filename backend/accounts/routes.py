"""Login, logout, language; the JSON API's session and token endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backend.accounts import service
from backend.accounts.deps import CurrentUser, OptionalUser
from backend.accounts.models import User
from backend.db import SessionDep
from backend.kit.csrf import CSRF_COOKIE, new_cookie_value
from backend.kit.errors import NotAuthenticated
from backend.kit.i18n import LOCALES, translate
from backend.kit.web import LOCALE_COOKIE, redirect, render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["accounts"])


def _safe_next(url: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow the portal's name.
    return url if url and url.startswith("/") and not url.startswith("//") else "/"


def _log_in(request: Request, response: Response, session: SessionDep, user: User) -> None:
    settings = request.app.state.settings
    service.end_session(session, request.cookies.get(settings.session_cookie_name))
    new = service.start_session(session, user, settings.session_days)
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


def _log_out(request: Request, response: Response, session: SessionDep) -> None:
    settings = request.app.state.settings
    service.end_session(session, request.cookies.get(settings.session_cookie_name))
    response.delete_cookie(settings.session_cookie_name, path="/")


@pages.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, _safe_next(next))
    return render(request, "accounts/login.html", {"next": _safe_next(next), "form": {}, "errors": {}})


@pages.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Please enter your username."
    if not password:
        errors["password"] = "Please enter your password."  # noqa: S105 - a message, not a secret
    if not errors:
        try:
            user = service.authenticate(session, username, password)
        except NotAuthenticated as exc:
            errors["form"] = exc.message
        else:
            response = redirect(request, _safe_next(next))
            _log_in(request, response, session, user)
            return response
    locale = request.state.locale
    return render(
        request,
        "accounts/login.html",
        {
            "next": _safe_next(next),
            "form": {"username": username},
            "errors": {k: translate(locale, v) for k, v in errors.items()},
        },
        status=422 if "form" not in errors else 401,
    )


@pages.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    response = redirect(request, "/login")
    _log_out(request, response, session)
    return response


@pages.post("/lang")
def switch_language(request: Request, lang: Annotated[str, Form()] = "zh_CN", next: Annotated[str, Form()] = "/"):
    response = redirect(request, _safe_next(next))
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


@api.post("/auth/login", response_model=UserOut)
def api_login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> UserOut:
    """Starts a browser session (cookie). Send the CSRF token from the login page in `X-CSRF-Token`."""
    user = service.authenticate(session, body.username, body.password)
    _log_in(request, response, session, user)
    return _user_out(user)


@api.post("/auth/logout", status_code=204)
def api_logout(request: Request, session: SessionDep) -> Response:
    response = Response(status_code=204)
    _log_out(request, response, session)
    return response


@api.post("/auth/token", response_model=TokenOut)
def api_token(body: LoginIn, session: SessionDep) -> TokenOut:
    """Exchanges credentials for a bearer token (90 days) for scripts and integrations."""
    user = service.authenticate(session, body.username, body.password)
    return TokenOut(token=service.create_api_token(session, user, name="api login"))


@api.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return _user_out(user)
