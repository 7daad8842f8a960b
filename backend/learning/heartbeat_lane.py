"""The heartbeat fast lane: `POST /api/v1/playbacks/{id}/heartbeats`, answered by a plain ASGI handler in front of
the FastAPI stack. This is the one implementation of the busiest request.

Heartbeats are the busiest request (issue 3: 2,000/s on one 2-core machine). Measured with `make bench`, FastAPI's
routing, dependency resolution and response machinery took most of the CPU of a heartbeat, more than the
validation, the database and the judge together. So the lane does the request's work itself: the CSRF check (for a
cookie), `HeartbeatIn` validation, and `heartbeats.accept` (the writer checks the credential with the accounts
package's one credential check, in the beat's batch). Its answers carry the app's security headers
(`AppState.answer_headers`, backend/kit/state.py) and its errors the app's one error body
(backend/kit/error_schema.py, `fields` included). The route in backend/learning/routes.py is declared from `ROUTE`
and `DOC` below, for /openapi.json only: its body is never reached (issue 14: before, a second copy of the checks
lived there and drifted).
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
from backend.kit.error_schema import error_body, validation_body
from backend.kit.errors import AppError
from backend.kit.i18n import LOCALES, translate
from backend.kit.state import state_of
from backend.kit.web import LOCALE_COOKIE
from backend.learning import heartbeats
from backend.learning.hotpath import writer_of

log = logging.getLogger("portal.heartbeats")
# The declaration the documented route is made from (backend/learning/routes.py), and the lane's own match of it.
ROUTE = "/playbacks/{playback_id}/heartbeats"
PREFIX = "/api/v1"
HEARTBEAT_PATH = re.compile("^" + re.escape(PREFIX + ROUTE).replace(re.escape("{playback_id}"), "([^/]+)") + "$")
DOC: dict[str, Any] = {
    "response_model": heartbeats.HeartbeatOut,
    "responses": {409: {"description": "old heartbeat or ended playback"}, 422: {"description": "impossible beat"}},
    "description": "Acknowledged only after it is stored. Answered by the heartbeat lane in front of the framework "
    "(backend/learning/heartbeat_lane.py); a session cookie needs the X-CSRF-Token header, a personal API token "
    "none.",
}
MAX_BODY = 4096  # a heartbeat is about 100 bytes


class NotServedHere(RuntimeError):
    """The documented route's body: the lane answers every request to it before the framework sees it."""


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
        state = state_of(app)
        settings, headers_out = state.settings, state.answer_headers
        connection = HTTPConnection(scope)
        cookies, headers = connection.cookies, connection.headers
        locale = cookies.get(LOCALE_COOKIE)
        locale = locale if locale in LOCALES else settings.default_locale
        try:
            body = await read_body(receive, MAX_BODY)
            authorization = headers.get("authorization", "")
            if authorization[:7].lower() != "bearer ":
                # Cookie-authenticated: the app-wide signed double-submit CSRF check (backend.kit.csrf). With a
                # bearer token the cookie is never used, and an invalid token is refused by the writer (401).
                check_token(settings.secret_key, cookies.get(CSRF_COOKIE), headers.get("x-csrf-token"))
            try:
                data = heartbeats.HeartbeatIn.model_validate_json(body)
            except ValidationError as exc:
                await reply(send, 422, validation_body(exc.errors()), headers=headers_out)
                return
            credential = heartbeats.credential(authorization, cookies.get(settings.session_cookie_name))
            out = await heartbeats.accept(writer_of(app), playback_id, credential, data)
        except AppError as exc:
            fields = {k: translate(locale, v, **exc.params) for k, v in exc.fields.items()}
            message = translate(locale, exc.message, **exc.params)
            await reply(send, exc.status_code, error_body(exc.code, message, fields), headers=headers_out)
            return
        except Exception:
            # The batch holding this beat was not committed (database down, connection lost): nothing was
            # acknowledged, and the player keeps the beat queued and sends it again.
            log.exception("heartbeat for playback %s not stored", playback_id)
            message = translate(locale, "The database is busy. Please try again.")
            await reply(send, 503, error_body("database_unavailable", message), headers=headers_out)
            return
        await reply(send, 200, out.model_dump_json().encode(), headers=headers_out)
