"""What each request leaves behind: a request id, one log line, and its count and time in the metrics.

`Telemetry` is the outermost ASGI layer (installed by create_app, and by backend/main.py in front of the heartbeat
lane and the sign-in gate, so those are counted too; the inner copy then stands aside). For each request it:

- takes the `X-Request-ID` header (when it is a plain token of at most 64 characters) or makes one, returns it in
  the response, and makes it part of every log line written while the request runs (`RequestContext`);
- counts the request in `portal_http_requests_total` and `portal_http_request_duration_seconds` by method, route
  template (`/courses/{course_id}`, never the raw path) and status (backend/kit/metrics.py);
- writes one access line: method, route, status, duration and the user id — never a name, password, token, ID
  number or query string. Successful heartbeats are counted, not logged, unless `LOG_HEARTBEATS` is on: at 2,000 a
  second the lines would cost more than the beats.

Log lines are one JSON object each (`LOG_FORMAT=json`, the default) or readable text (`LOG_FORMAT=text`, for
development); `logging_config(settings)` builds the configuration `portal serve` hands to uvicorn.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from re import Pattern
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.kit import metrics

log = logging.getLogger("portal.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HANDLED = "portal.telemetry"
UNMATCHED = "(unmatched)"
# Fields a log line may carry besides its message (`log.info(..., extra={...})`); anything else is not written.
FIELDS = ("method", "route", "status", "duration_ms", "outcome", "count", "table", "row_id")


@dataclass
class RequestContext:
    """Mutable on purpose: a sync dependency runs in a worker thread with a copy of the context, so it fills in
    this shared object (`identify`) rather than setting a context variable the endpoint would not see."""

    request_id: str
    user_id: int | None = None


_current: ContextVar[RequestContext | None] = ContextVar("portal_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def identify(user_id: int | None) -> None:
    """The signed-in user of the request being served (backend/accounts/deps.py): its id goes on every line."""
    context = _current.get()
    if context is not None:
        context.user_id = user_id


class Telemetry:
    def __init__(
        self, app: ASGIApp, fast_routes: tuple[tuple[Pattern[str], str], ...] = (), log_heartbeats: bool = False
    ) -> None:
        # fast_routes: (path pattern, route template) of requests answered in front of the router (the heartbeat
        # lane, the sign-in gate), which leave no route in the scope.
        self.app, self.fast_routes, self.log_heartbeats = app, fast_routes, log_heartbeats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(_HANDLED):
            await self.app(scope, receive, send)
            return
        scope[_HANDLED] = True
        request_id = _request_id(scope)
        context = RequestContext(request_id)
        token = _current.set(context)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            log.exception("unhandled error")
            raise
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], self._route(scope)
            counter, histogram = _series(method, route, status)
            counter.inc()
            histogram.observe(seconds)
            if status >= 400 or self.log_heartbeats or not route.endswith("/heartbeats"):
                if context.user_id is None:
                    context.user_id = _user_id(scope)
                log.info(
                    "%s %s %s", method, route, status,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(seconds * 1000, 1)},
                )
            _current.reset(token)

    def _route(self, scope: Scope) -> str:
        path = scope["path"]
        route = scope.get("route")
        template = getattr(route, "path_format", None)
        if template:
            return _prefix(path, getattr(route, "path_regex", None)) + str(template)
        for pattern, name in self.fast_routes:
            if pattern.match(path):
                return name
        return UNMATCHED


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of one (method, route, status), looked up once per process:
    `labels()` takes a lock and builds keys, a cost the heartbeat lane should not pay on every beat."""
    key = (method, route, status)
    found = _SERIES.get(key)
    if found is None:
        found = _SERIES[key] = (
            metrics.REQUESTS.labels(method, route, str(status)), metrics.REQUEST_SECONDS.labels(method, route)
        )
    return found


def _prefix(path: str, pattern: Pattern[str] | None) -> str:
    """The part of the path before the route's own (a router included with `prefix="/api/v1"` keeps its routes'
    templates without the prefix)."""
    if pattern is None or pattern.match(path):
        return ""
    at = path.find("/", 1)
    while at > 0:
        if pattern.match(path[at:]):
            return path[:at]
        at = path.find("/", at + 1)
    return ""


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID object


def _user_id(scope: Scope) -> int | None:
    user = scope.get("state", {}).get("user")
    return getattr(user, "id", None) if user is not None else None


# ---------------------------------------------------------------------------------------------------------------
# Log formats


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's id and user id, known fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,  # which worker process
        }
        context = _current.get()
        if context is not None:
            line["request_id"] = context.request_id
            if context.user_id is not None:
                line["user_id"] = context.user_id
        for name in FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development: time, level, logger, [request id, user], message."""

    def format(self, record: logging.LogRecord) -> str:
        context = _current.get()
        where = ""
        if context is not None:
            where = f" [{context.request_id[:8]}" + (f" user {context.user_id}" if context.user_id else "") + "]"
        text = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}{where} {record.getMessage()}"
        if "duration_ms" in record.__dict__:
            text += f" {record.__dict__['duration_ms']} ms"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the portal and uvicorn's own loggers (uvicorn's access log is replaced
    by the access lines above)."""
    formatter = "backend.kit.telemetry.JsonFormatter" if log_format == "json" else "backend.kit.telemetry.TextFormatter"
    handler = {"class": "logging.StreamHandler", "formatter": "portal", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"portal": {"()": formatter}},
        "handlers": {"portal": handler},
        "root": {"handlers": ["portal"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
