"""Structured logs: one JSON object a line, each line of a request carrying its request id and the user's id,
never a name or a password; readable lines when LOG_FORMAT=text."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import Request

from backend.accounts.deps import CurrentUser
from backend.kit.telemetry import JsonFormatter, TextFormatter
from tests.api.helpers import login
from tests.factories import PASSWORD, make_user


@pytest.fixture
def logged(app) -> Iterator[io.StringIO]:  # type: ignore[no-untyped-def]
    """Everything the portal logs while the test runs, as the JSON lines `portal serve` writes."""

    @app.get("/probe/{n}")  # a route that writes a line of its own while it serves the request
    def probe(n: int, user: CurrentUser, request: Request) -> dict[str, int]:
        logging.getLogger("portal.probe").warning("probe %s served", n)
        return {"n": n}

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    portal = logging.getLogger("portal")
    portal.addHandler(handler)
    # setLevel, not an assignment: loggers cache whether a level is enabled, and only setLevel clears that cache
    # (an earlier test's request already asked portal.access about INFO while the level was WARNING).
    level = portal.level
    portal.setLevel(logging.INFO)
    try:
        yield out
    finally:
        portal.removeHandler(handler)
        portal.setLevel(level)


def lines(out: io.StringIO, until: Callable[[list[dict]], bool] = lambda _found: True) -> list[dict]:
    """The lines written so far. The test client may hand back the response before the server side has written
    the request's access line (as a real client may), so wait until `until` holds, briefly."""
    deadline = time.monotonic() + 5
    while True:
        found = [json.loads(line) for line in out.getvalue().splitlines()]
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def access_of(request_id: str) -> Callable[[list[dict]], bool]:
    return lambda found: any(line["logger"] == "portal.access" and line.get("request_id") == request_id
                             for line in found)


def test_every_line_of_a_request_carries_its_request_id_and_the_user_id(client, session, logged) -> None:
    teacher = make_user(session)
    session.commit()
    login(client, teacher.username)
    r = client.get("/probe/7", headers={"X-Request-ID": "trace-abc-123"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "trace-abc-123"
    of_request = [line for line in lines(logged, access_of("trace-abc-123"))
                  if line.get("request_id") == "trace-abc-123"]
    assert [line["logger"] for line in of_request] == ["portal.probe", "portal.access"]
    assert all(line["user_id"] == teacher.id for line in of_request)
    access = of_request[-1]
    assert access["route"] == "/probe/{n}" and access["status"] == 200 and access["method"] == "GET"
    assert access["duration_ms"] >= 0
    # Never a name, a password, a session token or the raw path with its ids.
    text = logged.getvalue()
    assert teacher.username not in text and PASSWORD not in text
    assert client.cookies.get("portal_session") not in text
    assert "/probe/7" not in text


def test_a_request_without_an_id_gets_one_made_and_each_request_its_own(client, logged) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1] and all(len(i) == 32 for i in ids)
    both = lines(logged, lambda found: access_of(ids[0])(found) and access_of(ids[1])(found))
    access = [line for line in both if line["logger"] == "portal.access"]
    assert sorted(line["request_id"] for line in access) == sorted(ids)
    assert all("user_id" not in line for line in access)  # nobody signed in


def test_readable_lines_for_development() -> None:
    record = logging.LogRecord("portal.access", logging.INFO, __file__, 1, "GET %s %s", ("/healthz", 200), None)
    record.duration_ms = 1.5
    line = TextFormatter().format(record)
    assert "INFO" in line and "portal.access GET /healthz 200 1.5 ms" in line and not line.startswith("{")
