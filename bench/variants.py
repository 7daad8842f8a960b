"""Experimental variants of the portal for `make bench` (BENCH_APP=bench.variant_app:app BENCH_VARIANT=...).

Nothing here is used by the portal itself: these are the changes the bench measured as ways to reach issue 3's
targets, kept runnable so the figures can be reproduced before the real code is changed. Variants (join with '-'):

- `puremw`    the `locale_and_cookies` middleware as a pure ASGI middleware instead of `@app.middleware("http")`
              (Starlette's BaseHTTPMiddleware runs every request in an anyio task group and wraps `receive`);
- `first`     the heartbeat route matched first, not after every page and API router;
- `fastlane`  the heartbeat served by a pure ASGI handler in front of the FastAPI stack: the same checks (bearer or
              cookie + CSRF token), the same `HeartbeatIn` validation, `HeartbeatWriter.submit`, the slow-path
              follow-up, the same `HeartbeatOut` body and the same JSON errors;
- `fastwriter` the group-commit writer with its statements built once (`= ANY(:ids)` array binds instead of padded
              IN lists and a new alias per batch) and each batch written with one `UPDATE … FROM unnest(…)` and one
              `INSERT … SELECT unnest(…)` instead of two executemany.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware import Middleware
from pydantic import ValidationError
from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

import backend.app
from backend.accounts.models import ApiToken, AuthSession
from backend.accounts.service import digest_token
from backend.kit.csrf import CSRF_COOKIE, token_for
from backend.kit.errors import AppError, Forbidden, InvalidInput, NotAuthenticated
from backend.kit.i18n import LOCALES, translate
from backend.kit.web import LOCALE_COOKIE
from backend.learning import coverage, hotpath
from backend.learning import routes as learning_routes
from backend.learning.judge import Beat
from backend.learning.models import LearnerState


# --- puremw ---------------------------------------------------------------------------------------------
class PureLocaleAndCookies:
    """backend.app's `locale_and_cookies`, same behaviour, as a plain ASGI middleware."""

    def __init__(self, app: Any, settings: Any) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        lang = cookies.get(LOCALE_COOKIE)
        state = scope.setdefault("state", {})
        state["locale"] = lang if lang in LOCALES else self.settings.default_locale
        had_csrf = bool(cookies.get(CSRF_COOKIE))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                new_csrf = state.get("new_csrf_cookie")
                if new_csrf and not had_csrf:
                    cookie = Response()
                    cookie.set_cookie(CSRF_COOKIE, new_csrf, httponly=True, samesite="lax",
                                      secure=self.settings.cookie_secure, path="/")
                    headers.append("set-cookie", cookie.headers["set-cookie"])
                for key, value in (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                                   ("X-Frame-Options", "DENY")):
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def pure_middleware(app: Any) -> Any:
    app.user_middleware = [Middleware(PureLocaleAndCookies, settings=app.state.settings)]
    app.middleware_stack = None
    return app


# --- first ----------------------------------------------------------------------------------------------
def heartbeat_first(app: Any) -> Any:
    route = next(r for r in learning_routes.api.routes if getattr(r, "path", "").endswith("/heartbeats"))
    router = APIRouter()
    router.routes.append(route)
    app.include_router(router, prefix="/api/v1")  # with the app-wide CSRF dependency, like every route
    app.router.routes.insert(0, app.router.routes.pop())
    return app


# --- fastlane -------------------------------------------------------------------------------------------
HEARTBEAT_PATH = re.compile(r"^/api/v1/playbacks/([^/]+)/heartbeats$")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY")]


class FastLane:
    """POST /api/v1/playbacks/{id}/heartbeats without the FastAPI stack; everything else goes to the app."""

    def __init__(self, app: Any) -> None:
        self.app, self.router, self.state = app, app.router, app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = HEARTBEAT_PATH.match(scope["path"])
            if match:
                await self.heartbeat(match.group(1), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def heartbeat(self, playback_id: str, scope: Any, receive: Any, send: Any) -> None:
        app, settings = self.app, self.app.state.settings

        async def reply(status: int, payload: bytes | dict[str, Any]) -> None:
            out = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(out)).encode()),
                *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": out})

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        cookies = HTTPConnection(scope).cookies
        locale = cookies.get(LOCALE_COOKIE)
        locale = locale if locale in LOCALES else settings.default_locale
        try:
            auth = headers.get(b"authorization", b"").decode("latin-1")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
            else:  # cookie auth: the same signed double-submit check as backend.kit.csrf.verify_csrf
                token = cookies.get(settings.session_cookie_name)
                csrf = cookies.get(CSRF_COOKIE)
                expected = token_for(settings.secret_key, csrf) if csrf else None
                sent = headers.get(b"x-csrf-token", b"").decode("latin-1")
                if not expected or not sent or not hmac.compare_digest(expected, sent):
                    raise Forbidden("The form has expired or was not sent from this site. "
                                    "Reload the page and try again.")
            if not token:
                raise NotAuthenticated("Please log in first.")
            try:
                data = learning_routes.HeartbeatIn.model_validate_json(body)
            except ValidationError as exc:
                fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
                detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
                await reply(422, {"error": "invalid_input", "detail": detail, "fields": fields})
                return
            beat = Beat(seq=data.seq, position_ms=data.position_ms, playing=data.playing, visible=data.visible,
                        ended=data.ended, client_ms=data.client_ms)
            outcome = await app.state.heartbeats.submit(playback_id, digest_token(token), beat)
            if outcome.status in learning_routes._BEAT_ERRORS:
                raise learning_routes._BEAT_ERRORS[outcome.status]()
            if outcome.status == 422:
                raise InvalidInput("This heartbeat is impossible and was refused (%(reason)s).", reason=outcome.error)
        except AppError as exc:
            await reply(exc.status_code, {"error": exc.code,
                                          "detail": translate(locale, exc.message, **exc.params)})
            return
        follow = learning_routes.FollowUp(False, False, None)
        if outcome.wants_close or outcome.wants_lease:
            follow = await run_in_threadpool(learning_routes._follow_up, app, playback_id, outcome.wants_close,
                                             outcome.wants_lease)
        out = learning_routes.HeartbeatOut(
            seq=outcome.seq, credited_ms=outcome.credited_ms, note=outcome.note, duplicate=outcome.duplicate,
            counting=outcome.counting if follow.counting is None else follow.counting,
            session_credited_ms=outcome.session_credited_ms, covered_ms=coverage.total(outcome.coverage),
            duration_ms=outcome.duration_ms, coverage=outcome.coverage, lesson_covered=follow.lesson_covered,
            course_completed=follow.course_completed,
            prompt=learning_routes.PromptOut(id=outcome.prompt_id, seconds_left=outcome.prompt_seconds_left or 0)
            if outcome.prompt_id else None,
        )
        await reply(200, out.model_dump_json().encode())


# --- fastwriter -----------------------------------------------------------------------------------------
P, H = hotpath.P, hotpath.H
_holder = P.alias("holder")
_ls = LearnerState.__table__
LOAD = (
    select(P, _holder.c.last_beat_at.label("holder_beat_at"), _holder.c.ended_at.label("holder_ended_at"),
           _ls.c.active_playback_id)
    .select_from(P.outerjoin(_ls, _ls.c.user_id == P.c.user_id)
                 .outerjoin(_holder, _holder.c.id == _ls.c.active_playback_id))
    .where(P.c.id == any_(bindparam("ids", type_=ARRAY(String))))
    .with_for_update(of=P)
)
AUTH_SESSION = select(AuthSession.token_hash, AuthSession.user_id, AuthSession.expires_at).where(
    AuthSession.token_hash == any_(bindparam("hashes", type_=ARRAY(String))))
AUTH_TOKEN = select(ApiToken.token_hash, ApiToken.user_id, ApiToken.expires_at, ApiToken.revoked_at).where(
    ApiToken.token_hash == any_(bindparam("hashes", type_=ARRAY(String))))
UPDATE_COLUMNS = ("b_id", "last_seq", "last_beat_at", "last_position_ms", "last_client_ms", "bank_ms", "pending_ms",
                  "pending_coverage", "rejected_ms", "prompt_state", "prompt_id", "prompt_deadline", "day_budget_ms",
                  "lesson_budget_ms", "last_note")
UPDATE_SQL = """
UPDATE playback_sessions AS p SET last_seq = u.last_seq, last_beat_at = u.last_beat_at,
  last_position_ms = u.last_position_ms, last_client_ms = u.last_client_ms, bank_ms = u.bank_ms,
  pending_ms = u.pending_ms, pending_coverage = u.pending_coverage::json, rejected_ms = u.rejected_ms,
  prompt_state = u.prompt_state, prompt_id = u.prompt_id, prompt_deadline = u.prompt_deadline,
  day_budget_ms = u.day_budget_ms, lesson_budget_ms = u.lesson_budget_ms, last_note = u.last_note
FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::bigint[], $6::int[], $7::int[], $8::text[],
            $9::int[], $10::text[], $11::text[], $12::timestamptz[], $13::int[], $14::int[], $15::text[])
  AS u(id, last_seq, last_beat_at, last_position_ms, last_client_ms, bank_ms, pending_ms, pending_coverage,
       rejected_ms, prompt_state, prompt_id, prompt_deadline, day_budget_ms, lesson_budget_ms, last_note)
WHERE p.id = u.id
"""
INSERT_COLUMNS = ("playback_id", "seq", "received_at", "position_ms", "playing", "visible", "client_ms",
                  "elapsed_ms", "credited_ms", "rejected_ms", "covered_from_ms", "covered_to_ms", "note")
INSERT_SQL = """
INSERT INTO heartbeats (playback_id, seq, received_at, position_ms, playing, visible, client_ms, elapsed_ms,
  credited_ms, rejected_ms, covered_from_ms, covered_to_ms, note)
SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::bool[], $6::bool[], $7::bigint[],
  $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::text[])
"""


class _ArrayWrites:
    """The writer's connection, with its two executemany (playback rows, heartbeat records) sent as one array
    statement each on the same asyncpg connection, inside the same transaction."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def execute(self, stmt: Any, params: Any = None) -> Any:
        table = getattr(stmt, "table", None)
        if isinstance(params, list) and params and table is P and "b_id" in params[0]:
            columns = [[row[c] for row in params] for c in UPDATE_COLUMNS]
            columns[7] = [json.dumps(v) for v in columns[7]]
            driver = (await self.conn.get_raw_connection()).driver_connection
            return await driver.execute(UPDATE_SQL, *columns)
        if isinstance(params, list) and params and table is H:
            columns = [[row[c] for row in params] for c in INSERT_COLUMNS]
            driver = (await self.conn.get_raw_connection()).driver_connection
            return await driver.execute(INSERT_SQL, *columns)
        return await (self.conn.execute(stmt) if params is None else self.conn.execute(stmt, params))


class _Begin:
    def __init__(self, engine: Any) -> None:
        self.context = engine.begin()

    async def __aenter__(self) -> _ArrayWrites:
        return _ArrayWrites(await self.context.__aenter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return await self.context.__aexit__(*exc)


class _Engine:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def begin(self) -> _Begin:
        return _Begin(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


class FastWriter(hotpath.HeartbeatWriter):
    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        if not self.is_sqlite:
            self.engine = _Engine(self.engine)  # type: ignore[assignment]

    async def _load(self, conn: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = await getattr(conn, "conn", conn).execute(LOAD, {"ids": ids})
        return {row["id"]: dict(row) for row in rows.mappings()}

    async def _authenticate(self, conn: Any, hashes: set[str], now: Any) -> dict[str, int]:
        conn = getattr(conn, "conn", conn)
        found: dict[str, int] = {}
        for token_hash, user_id, expires_at in (await conn.execute(AUTH_SESSION, {"hashes": list(hashes)})):
            if expires_at > now:
                found[token_hash] = user_id
        missing = [h for h in hashes if h not in found]
        if missing:
            for token_hash, user_id, expires_at, revoked_at in (
                await conn.execute(AUTH_TOKEN, {"hashes": missing})
            ):
                if expires_at > now and revoked_at is None:
                    found[token_hash] = user_id
        return found


# --- assembling -----------------------------------------------------------------------------------------
def apply(variant: str, app: Any) -> Any:
    """The app with the variant's changes ("asis" for none). Call before the app starts (the writer is made at
    startup)."""
    parts = set(variant.split("-"))
    unknown = parts - {"asis", "puremw", "first", "fastlane", "fastwriter"}
    if unknown:
        raise ValueError(f"unknown bench variant parts: {sorted(unknown)}")
    if "fastwriter" in parts:
        backend.app.HeartbeatWriter = FastWriter  # create_app's lifespan makes the writer from this name
    if "puremw" in parts:
        app = pure_middleware(app)
    if "first" in parts:
        app = heartbeat_first(app)
    if "fastlane" in parts:
        app = FastLane(app)
    return app
