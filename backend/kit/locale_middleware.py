"""Per-request locale and the CSRF cookie, as a plain ASGI middleware (security headers: kit/security_headers.py).

Plain ASGI rather than `@app.middleware("http")`: Starlette runs the latter in an anyio task group with a wrapped
`receive` for every request, which cost the heartbeat hot path more than its own work (issue 3's bench).
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.kit.csrf import CSRF_COOKIE
from backend.kit.i18n import LOCALES
from backend.kit.web import LOCALE_COOKIE


def csrf_set_cookie(value: str, secure: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[CSRF_COOKIE] = value
    morsel = cookie[CSRF_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


class LocaleAndCookies:
    def __init__(self, app: ASGIApp, default_locale: str, cookie_secure: bool) -> None:
        self.app, self.default_locale, self.cookie_secure = app, default_locale, cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        lang = cookies.get(LOCALE_COOKIE)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["locale"] = lang if lang in LOCALES else self.default_locale
        had_csrf = bool(cookies.get(CSRF_COOKIE))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                new_csrf = state.get("new_csrf_cookie")
                if new_csrf and not had_csrf:
                    headers.append("set-cookie", csrf_set_cookie(new_csrf, self.cookie_secure))
            await send(message)

        await self.app(scope, receive, send_with_headers)
