"""Single sign-on pages: POST /sso/login sends the browser to the district's identity provider, GET /sso/callback
brings it back logged in (a normal database-backed session) or on the login page with the reason it was refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from backend.accounts import oidc
from backend.accounts.routes import _log_in
from backend.config import Settings
from backend.db import SessionDep
from backend.kit.errors import NotFound
from backend.kit.i18n import _, translate
from backend.kit.state import SettingsDep
from backend.kit.web import render, same_origin_path

pages = APIRouter(include_in_schema=False)


def _sso_settings(settings: SettingsDep) -> Settings:
    if not settings.sso_enabled:
        raise NotFound(_("Unified identity sign-in is not enabled for this portal."))
    return settings


SsoSettings = Annotated[Settings, Depends(_sso_settings)]


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("sso_callback"))


def _next_url(raw: str) -> str:
    """A local path that fits the attempt's column (kit.web.same_origin_path); anything else becomes "/"."""
    url = same_origin_path(raw)
    return url if len(url) <= 500 else "/"


def _refused(request: Request, exc: oidc.SsoRefused, next_url: str = "/") -> Response:
    message = translate(request.state.locale, exc.message, **exc.params)
    response = render(
        request,
        "accounts/login.html",
        {"next": next_url, "form": {}, "errors": {"form": message}},
        status=exc.status_code,
    )
    response.delete_cookie(oidc.BROWSER_COOKIE, path="/sso")
    return response


@pages.post("/sso/login")
def sso_login(
    request: Request, session: SessionDep, settings: SsoSettings, next: Annotated[str, Form()] = "/"
) -> Response:
    try:
        start = oidc.begin_login(
            session, settings, redirect_uri=_redirect_uri(request, settings), next_url=_next_url(next)
        )
    except oidc.SsoRefused as exc:
        return _refused(request, exc, _next_url(next))
    response = RedirectResponse(start.authorization_url, status_code=303)
    # Lax: the provider's redirect back is a top-level GET navigation, which carries Lax cookies.
    response.set_cookie(
        oidc.BROWSER_COOKIE,
        start.browser_secret,
        max_age=oidc.ATTEMPT_MINUTES * 60,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/sso",
    )
    return response


@pages.get("/sso/callback", name="sso_callback")
def sso_callback(
    request: Request,
    session: SessionDep,
    settings: SsoSettings,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    try:
        done = oidc.finish_login(
            session,
            settings,
            state=state,
            code=code,
            error=error,
            browser_secret=request.cookies.get(oidc.BROWSER_COOKIE),
            address=request.client.host if request.client else None,
        )
    except oidc.SsoRefused as exc:
        # Rendered, not raised: the request commits, so the attempt stays used up and the refusal is audited.
        return _refused(request, exc)
    # The app's normal sign-in: a new database-backed session marked "sso" (its second factor was the provider's).
    response = _log_in(request, session, settings, done.user, done.next_url, method="sso")
    response.delete_cookie(oidc.BROWSER_COOKIE, path="/sso")
    return response
