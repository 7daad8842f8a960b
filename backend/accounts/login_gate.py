"""The sign-in gate: password sign-ins the hashing pool has no room for are refused in front of the framework.

In a login storm (issue 6: 50 a second at the start of a training day) most sign-ins must be turned away with
"busy, try again" (backend/accounts/hashing.py). Measured with `make bench`, a refusal that went through the whole
FastAPI stack cost ~6 ms of CPU, and thirty of them a second were enough to push heartbeat latency up sevenfold.
Here a refusal costs a lookup and a small response. The routes still admit each sign-in themselves (a sign-in
the gate lets through can still be refused there, with the same message).
"""

from __future__ import annotations

from html import escape

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.accounts import hashing
from backend.kit.asgi import TooLarge, read_body, reply
from backend.kit.i18n import LOCALES, _, translate
from backend.kit.web import LOCALE_COOKIE

API_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/token"})
PAGE_PATHS = frozenset({"/login"})
RETRY_AFTER_SECONDS = 5
MAX_BODY = 16 * 1024  # a sign-in form is a few hundred bytes
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/css/portal.css"></head>
<body><main id="main"><section class="card narrow"><p class="muted">{brand}</p><h1>{title}</h1>
<p class="alert error" role="alert">{message}</p>
<p><a class="button primary wide" href="/login">{again}</a></p></section></main></body></html>
"""


class LoginGate:
    def __init__(self, app: ASGIApp, default_locale: str = "zh_CN") -> None:
        self.app, self.default_locale = app, default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and (scope["path"] in API_PATHS or scope["path"] in PAGE_PATHS)
            and not hashing.pool.has_room()
        ):
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:  # read (and drop) the form, so the connection stays usable for the next request
            await read_body(receive, MAX_BODY)
        except TooLarge:
            pass
        locale = HTTPConnection(scope).cookies.get(LOCALE_COOKIE)
        locale = locale if locale in LOCALES else self.default_locale
        busy = hashing.HashingBusy()
        message = translate(locale, busy.message)
        retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]
        if scope["path"] in API_PATHS:
            await reply(send, busy.status_code, {"error": busy.code, "detail": message}, headers=retry)
            return
        page = _PAGE.format(
            lang="zh-CN" if locale == "zh_CN" else "en",
            brand=escape(translate(locale, _("Songjiang Homeroom Teacher Training"))),
            title=escape(translate(locale, _("Log in"))),
            message=escape(message),
            again=escape(translate(locale, _("Back to the login page"))),
        )
        csp = b"default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        await reply(
            send, busy.status_code, page.encode(), b"text/html; charset=utf-8",
            [*retry, (b"content-security-policy", csp)],
        )
