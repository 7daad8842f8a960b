"""The sign-in gate: password sign-ins the hashing pool has no room for are refused in front of the framework.

In a login storm (issue 6: 50 a second at the start of a training day) most sign-ins must be turned away with
"busy, try again" (backend/accounts/hashing.py). Measured with `make bench`, a refusal that went through the whole
FastAPI stack cost ~6 ms of CPU, and thirty of them a second were enough to push heartbeat latency up sevenfold.
Here a refusal costs a lookup and a small response. A client that has used up its own share of the sign-in rate
is refused here too, so a flood from one address is shed before it costs anything (backend/accounts/hashing.py).
The routes still check the lockout and then admit each sign-in themselves (a sign-in the gate lets through can
still be refused there, with the same message).
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.accounts import hashing
from backend.kit import metrics
from backend.kit.asgi import TooLarge, read_body, reply
from backend.kit.error_schema import error_body
from backend.kit.i18n import LOCALES, _, translate
from backend.kit.state import state_of
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


# A client over its own share is answered only after this delay (ASVS 2.2.1's "progressive delays"): a flood's
# connections then send one request a second each instead of thousands, and the CPU its refusals would take stays
# with the sign-ins of everyone else (issue 14). At most TARPIT_MAX such answers wait at once per process; beyond
# that they are refused at once.
TARPIT_SECONDS = 1.0
TARPIT_MAX = 512


class LoginGate:
    def __init__(self, app: ASGIApp, default_locale: str = "zh_CN") -> None:
        self.app, self.default_locale = app, default_locale
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and (scope["path"] in API_PATHS or scope["path"] in PAGE_PATHS)
        ):
            why = hashing.pool.refusal(scope["client"][0] if scope.get("client") else None)
            if why is not None:
                if why == "client" and self.waiting < TARPIT_MAX:
                    self.waiting += 1
                    try:
                        await asyncio.sleep(TARPIT_SECONDS)
                    finally:
                        self.waiting -= 1
                await self._refuse(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics.SIGN_INS.labels("refused", "gate").inc()
        try:  # read (and drop) the form, so the connection stays usable for the next request
            await read_body(receive, MAX_BODY)
        except TooLarge:
            pass
        locale = HTTPConnection(scope).cookies.get(LOCALE_COOKIE)
        locale = locale if locale in LOCALES else self.default_locale
        busy = hashing.HashingBusy()
        message = translate(locale, busy.message)
        # The app's security headers (no-store among them): in front of the framework, none are added for us.
        app: Any = scope.get("app") or self.app
        security = state_of(app).answer_headers
        retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
        if scope["path"] in API_PATHS:
            await reply(send, busy.status_code, error_body(busy.code, message), headers=[*security, *retry])
            return
        page = _PAGE.format(
            lang="zh-CN" if locale == "zh_CN" else "en",
            brand=escape(translate(locale, _("Songjiang Homeroom Teacher Training"))),
            title=escape(translate(locale, _("Log in"))),
            message=escape(message),
            again=escape(translate(locale, _("Back to the login page"))),
        )
        csp = b"default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        page_headers = [(k, v) for k, v in security if k not in (b"content-security-policy", b"x-frame-options")]
        await reply(
            send,
            busy.status_code,
            page.encode(),
            b"text/html; charset=utf-8",
            [*page_headers, *retry, (b"content-security-policy", csp), (b"x-frame-options", b"DENY")],
        )
