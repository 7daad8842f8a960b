"""CSRF protection: the signed double-submit cookie pattern (OWASP), with no server-side state.

A random value lives in the `portal_csrf` cookie; pages carry HMAC(SECRET_KEY, value) as the token, once on
`<body hx-headers>` for htmx and in a hidden field for plain forms. Every state-changing request must send it
back in the `X-CSRF-Token` header or the `csrf_token` form field. A request to the API (/api/v1) that carries a
*valid* bearer token is exempt: it is authenticated by that token alone, never by a cookie, so a forged
cross-site request has nothing to borrow. Whether a token is valid is the accounts package's one credential check,
handed to this module by create_app (`AppState.bearer_is_valid`, backend/kit/state.py); a junk `Authorization`
header, or any header on a page or form route, changes nothing here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from backend.kit.errors import Forbidden
from backend.kit.i18n import _
from backend.kit.state import AppStateDep, app_state

CSRF_COOKIE = "portal_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Exchanging a password for a bearer token sets no cookie and its answer cannot be read cross-origin. The bench's
# baseline endpoint exists only in the bench's server (bench/server.py) and stores nothing of anyone's.
EXEMPT_PATHS = frozenset({"/api/v1/auth/token", "/bench/baseline"})
API_PREFIX = "/api/v1/"


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def token_for(secret_key: str, cookie_value: str) -> str:
    return hmac.new(secret_key.encode(), cookie_value.encode(), hashlib.sha256).hexdigest()


def csrf_cookie_value(request: Request) -> str:
    """The request's CSRF cookie, or a new one that the response middleware will set."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not value:
        value = new_cookie_value()
        request.state.new_csrf_cookie = value
    return value


def csrf_token(request: Request) -> str:
    return token_for(app_state(request).settings.secret_key, csrf_cookie_value(request))


async def verify_csrf(request: Request, state: AppStateDep) -> None:
    """App-wide dependency: refuses any unsafe request without a valid token."""
    if request.method in SAFE_METHODS or request.url.path in EXEMPT_PATHS:
        return
    if request.url.path.startswith(API_PREFIX) and request.headers.get("authorization", "")[:7].lower() == "bearer ":
        is_valid = state.bearer_is_valid
        if is_valid is not None and await run_in_threadpool(is_valid, request):
            return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    check_token(state.settings.secret_key, cookie, sent)


def check_token(secret_key: str, cookie: str | None, sent: str | None) -> None:
    """The double-submit check itself, for callers outside FastAPI's dependency system (the heartbeat fast lane)."""
    expected = token_for(secret_key, cookie) if cookie else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden(_("The form has expired or was not sent from this site. Reload the page and try again."))
