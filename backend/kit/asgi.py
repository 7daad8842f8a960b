"""Small helpers for the plain ASGI handlers that stand in front of the framework (the heartbeat lane, the
sign-in gate): read a bounded body, send a whole response."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive, Send

from backend.kit.errors import AppError
from backend.kit.i18n import _


class TooLarge(AppError):
    status_code = 413
    code = "too_large"

    def __init__(self) -> None:
        super().__init__(_("The request is too large."))


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; TooLarge as soon as it passes `limit` bytes."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            raise TooLarge()
        if not message.get("more_body"):
            return body


async def reply(
    send: Send,
    status: int,
    payload: bytes | dict[str, Any],
    content_type: bytes = b"application/json",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A complete response; a dict payload is sent as JSON. `headers` carries the security headers
    (`AppState.answer_headers`, from kit/security_headers.py) and any others."""
    out = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(out)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": out})
