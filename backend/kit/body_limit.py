"""The size limit of every request body, enforced while it streams in (issue 14).

Before, limits were checked after the whole body was read (a form with a file was parsed first, or only the
declared Content-Length was looked at, which a chunked request does not send). Here `receive` counts the bytes as
they arrive; as soon as the count passes MAX_REQUEST_BYTES (or the declared length does) the request is answered
413 with the app's error body, and the application is told the client has gone (the framework turns any error
while reading a body into a 400, so raising here would not do), its own answer dropped.

The largest body the portal accepts is a form with a 20 MB file (assignments, external records) and its multipart
wrapping; an upload chunk is 8 MiB (backend/media/uploads.py). deploy/nginx.conf's
`client_max_body_size` is the same number (tests/kit/test_body_limit.py reads it), so the proxy and the portal
refuse the same requests. Per-feature limits (a 5 MB question sheet, 10 MB roster) are checked by their services.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.kit.asgi import TooLarge, reply
from backend.kit.error_schema import error_body
from backend.kit.i18n import LOCALES, translate
from backend.kit.web import LOCALE_COOKIE

MAX_REQUEST_BYTES = 21 * 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        seen = int(declared) if declared.isdigit() and int(declared) > self.limit else 0
        limit = self.limit
        state = {"started": False, "refused": False}

        async def refuse() -> Message:
            if not state["refused"] and not state["started"]:
                state["refused"] = True
                locale = HTTPConnection(scope).cookies.get(LOCALE_COOKIE)
                too_large = TooLarge()
                message = translate(locale if locale in LOCALES else "zh_CN", too_large.message)
                await reply(send, too_large.status_code, error_body(too_large.code, message),
                            headers=[(b"connection", b"close")])  # fmt: skip
            return {"type": "http.disconnect"}

        async def counting() -> Message:
            nonlocal seen
            if seen > limit:  # declared too large, or already past the limit: nothing more is read
                return await refuse()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    return await refuse()
            return message

        async def sending(message: Message) -> None:
            if state["refused"]:
                return  # the application's answer to a body it never got whole
            state["started"] = True
            await send(message)

        await self.app(scope, counting, sending)
