"""In a login storm, sign-ins beyond what the server admits are turned away at once, before any database work, with
a message a teacher understands and a time to try again (issue 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.accounts import hashing
from backend.accounts.hashing import HashingPool
from backend.accounts.models import LoginThrottle
from backend.audit.models import AuditEvent
from tests.api.helpers import csrf_from
from tests.factories import PASSWORD, make_user


@pytest.fixture
def storm_pool(monkeypatch: pytest.MonkeyPatch) -> HashingPool:
    """2 sign-ins at once, as in production, and a bucket that starts full (a burst of 2) but refills only every
    20 s, so that a slow test run cannot refill it between two requests."""
    pool = HashingPool(processes=1, max_waiting=2, per_second=0.05, quiet_per_second=0.05)
    monkeypatch.setattr(hashing, "pool", pool)
    return pool


def _rate(pool: HashingPool, per_second: float, tokens: float | None = None) -> None:
    pool.per_second = pool.quiet_per_second = per_second
    if tokens is not None:
        pool._tokens = tokens


def _rows(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.count()).select_from(LoginThrottle)) or 0)


def test_a_sign_in_beyond_the_rate_is_refused_before_touching_the_database(client, session, storm_pool) -> None:
    teacher = make_user(session)
    body = {"username": teacher.username, "password": PASSWORD}
    assert [client.post("/api/v1/auth/token", json=body).status_code for _ in range(2)] == [200, 200]
    before = _rows(session)

    refused = client.post("/api/v1/auth/token", json={"username": "nobody-at-all", "password": "wrong"})
    assert refused.status_code == 503
    assert refused.json() == {"error": "busy", "detail": "当前登录人数较多，请稍等几秒后再试。"}
    assert refused.headers["retry-after"] == "5"
    assert _rows(session) == before  # no failure counted, no audit row: the gate did no work


def test_the_login_form_in_a_storm_shows_a_page_with_the_message_and_the_way_back(client, session, storm_pool) -> None:
    _rate(storm_pool, 0.001, tokens=0.0)  # the rate is used up
    token = csrf_from(client)
    page = client.post("/login", data={"username": "t1", "password": "x", "csrf_token": token})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "当前登录人数较多，请稍等几秒后再试。" in page.text and "松江区" in page.text  # where they are
    assert 'href="/login"' in page.text and "返回登录页" in page.text
    assert "script" not in page.text and "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["retry-after"] == "5"

    client.cookies.set("portal_lang", "en")
    english = client.post("/login", data={"username": "t1", "password": "x", "csrf_token": token})
    assert "Many people are signing in right now" in english.text and "Back to the login page" in english.text


def test_when_the_storm_passes_the_same_sign_in_works(client, session, storm_pool) -> None:
    teacher = make_user(session)
    _rate(storm_pool, 0.001, tokens=0.0)
    body = {"username": teacher.username, "password": PASSWORD}
    assert client.post("/api/v1/auth/token", json=body).status_code == 503
    _rate(storm_pool, 1000.0)  # as if a second had passed at the production rate: the bucket has refilled
    assert client.post("/api/v1/auth/token", json=body).status_code == 200


def test_other_requests_pass_the_gate_even_when_sign_ins_are_refused(client, session, storm_pool) -> None:
    _rate(storm_pool, 0.001, tokens=0.0)
    assert client.get("/login").status_code == 200
    assert client.get("/api/v1/me").status_code == 401  # answered by the app, not the gate
