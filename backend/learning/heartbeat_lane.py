"""The heartbeat fast lane: `POST /api/v1/playbacks/{id}/heartbeats` answered by a plain ASGI handler in front of
the FastAPI stack.

Heartbeats are the busiest request (issue 3: 2,000/s on one 2-core machine). Measured with `make bench`, FastAPI's
routing, dependency resolution and response machinery took most of the CPU of a heartbeat, more than the
validation, the database and the judge together. This lane performs the same steps as the documented route
(backend/learning/routes.py `heartbeat`): the same credential and CSRF checks, the same `HeartbeatIn` validation,
`heartbeats.accept`, the same `HeartbeatOut` body and the same JSON errors. Every other request passes through.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.kit.asgi import read_body, reply
from backend.kit.csrf import CSRF_COOKIE, check_token
from backend.kit.errors import AppError
from backend.kit.i18n import LOCALES, translate
from backend.kit.web import LOCALE_COOKIE
from backend.learning import heartbeats

log = logging.getLogger("portal.heartbeats")
HEARTBEAT_PATH = re.compile(r"^/api/v1/playbacks/([^/]+)/heartbeats$")
MAX_BODY = 4096  # a heartbeat is about 100 bytes


class HeartbeatLane:
    """Installed twice: inside the app by create_app (so every test client has it) and, by backend/main.py, in
    front of the whole Starlette stack (error and telemetry wrappers included) for the served app."""

    def __init__(self, app: ASGIApp, fastapi_app: Any = None) -> None:
        self.app, self.fastapi_app = app, fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = HEARTBEAT_PATH.match(scope["path"])
            if match:
                await self._heartbeat(match.group(1), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _heartbeat(self, playback_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        # The FastAPI application: given when the lane stands in front of it, else set by Starlette in the scope.
        app = self.fastapi_app or scope["app"]
        settings = app.state.settings
        connection = HTTPConnection(scope)
        cookies, headers = connection.cookies, connection.headers
        locale = cookies.get(LOCALE_COOKIE)
        locale = locale if locale in LOCALES else settings.default_locale
        try:
            body = await read_body(receive, MAX_BODY)
            authorization = headers.get("authorization", "")
            if not authorization.lower().startswith("bearer "):
                # Cookie-authenticated: the app-wide signed double-submit CSRF check (backend.kit.csrf).
                check_token(settings.secret_key, cookies.get(CSRF_COOKIE), headers.get("x-csrf-token"))
            try:
                data = heartbeats.HeartbeatIn.model_validate_json(body)
            except ValidationError as exc:
                fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
                detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
                await reply(send, 422, {"error": "invalid_input", "detail": detail, "fields": fields})
                return
            token_hash = heartbeats.credential(authorization, cookies.get(settings.session_cookie_name))
            out = await heartbeats.accept(app, playback_id, token_hash, data)
        except AppError as exc:
            message = translate(locale, exc.message, **exc.params)
            await reply(send, exc.status_code, {"error": exc.code, "detail": message})
            return
        except Exception:
            # The batch holding this beat was not committed (database down, connection lost): nothing was
            # acknowledged, and the player keeps the beat queued and sends it again.
            log.exception("heartbeat for playback %s not stored", playback_id)
            message = translate(locale, "The database is busy. Please try again.")
            await reply(send, 503, {"error": "database_unavailable", "detail": message})
            return
        await reply(send, 200, out.model_dump_json().encode())
