"""Sessions end when they should, and guessing passwords locks the guesser out without telling who exists."""

from __future__ import annotations

import inspect

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.accounts import routes, security_routes
from backend.accounts.models import User
from backend.audit.models import AuditEvent
from tests.api.helpers import csrf_from, login
from tests.factories import PASSWORD, make_user


def _attempt(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )


def _message(html: str) -> str:
    return html.split('class="alert error"', 1)[1].split("</p>", 1)[0]


def test_every_login_gets_a_new_session_id_and_the_old_one_stops_working(client, session) -> None:
    teacher = make_user(session)
    login(client, teacher.username)
    first = client.cookies.get("portal_session")
    login(client, teacher.username)  # the browser still sends the first cookie: it must not be kept
    second = client.cookies.get("portal_session")
    assert first and second and first != second
    stale = client.__class__(client.app)
    stale.cookies.set("portal_session", first)
    assert stale.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_an_idle_session_ends_after_30_minutes_but_an_active_one_lasts_the_day(client, session, clock) -> None:
    teacher = make_user(session)
    login(client, teacher.username)
    for _ in range(20):  # 20 requests 25 minutes apart: 8 h 20 min of active use
        clock.advance(25 * 60)
        assert client.get("/api/v1/me").status_code == 200
    clock.advance(31 * 60)
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_ends_12_hours_after_login_however_active(client, session, clock) -> None:
    teacher = make_user(session)
    login(client, teacher.username)
    for _ in range(28):  # 11 h 40 min of requests every 25 minutes
        clock.advance(25 * 60)
        assert client.get("/api/v1/me").status_code == 200
    clock.advance(25 * 60)
    assert client.get("/api/v1/me").status_code == 401


def test_log_out_everywhere_ends_the_sessions_on_every_device(client, session) -> None:
    teacher = make_user(session)
    phone = client.__class__(client.app)
    login(phone, teacher.username)
    token = login(client, teacher.username)
    r = client.post("/account/logout-everywhere", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert phone.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.logout_everywhere")) is not None


def test_five_wrong_passwords_lock_the_name_from_that_address_and_an_unknown_name_alike(client, session, clock) -> None:
    teacher = make_user(session)
    for name in (teacher.username, "nobody-by-this-name"):
        for _ in range(5):
            r = _attempt(client, name, "wrong-password-123")
            assert r.status_code == 401
        assert _attempt(client, name, "wrong-password-123").status_code == 429
    real = _attempt(client, teacher.username, PASSWORD)  # from this address even the right password waits
    ghost = _attempt(client, "nobody-by-this-name", PASSWORD)
    assert real.status_code == ghost.status_code == 429
    assert _message(real.text) == _message(ghost.text)
    assert "15" in _message(real.text)
    lock = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "auth.lockout", AuditEvent.subject_id == str(teacher.id))
    )
    assert lock is not None and lock.address == "testclient"
    # ASVS 2.2.1: the owner, signing in from another address, is not locked out by someone else's guesses.
    with TestClient(client.app, base_url="http://testserver", client=("10.1.2.3", 50000)) as owner:
        assert _attempt(owner, teacher.username, PASSWORD).status_code == 303
    clock.advance(16 * 60)
    assert _attempt(client, teacher.username, PASSWORD).status_code == 303


def test_guesses_at_one_name_from_many_addresses_lock_it_everywhere_but_only_for_a_minute(
    client, session, clock
) -> None:
    teacher = make_user(session)
    for i in range(6):  # 6 addresses × 5 guesses: the name's limit from every address (30)
        with TestClient(client.app, base_url="http://testserver", client=(f"10.9.0.{i}", 50000)) as guesser:
            for _ in range(5):
                assert _attempt(guesser, teacher.username, "wrong-password-123").status_code == 401
    with TestClient(client.app, base_url="http://testserver", client=("10.1.2.3", 50000)) as owner:
        assert _attempt(owner, teacher.username, PASSWORD).status_code == 429
        clock.advance(61)
        assert _attempt(owner, teacher.username, PASSWORD).status_code == 303


def test_an_address_that_sprays_many_names_is_locked_out(client, session) -> None:
    teacher = make_user(session)
    for i in range(20):
        assert _attempt(client, f"spray-{i}", "Password-123456").status_code == 401
    assert _attempt(client, teacher.username, PASSWORD).status_code == 429


def test_failed_api_logins_count_although_the_request_fails(client, session) -> None:
    teacher = make_user(session)
    token = csrf_from(client)
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/login",
            json={"username": teacher.username, "password": "nope-nope-nope"},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": teacher.username, "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    failures = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.login_failed", AuditEvent.subject_id == str(teacher.id))
    ).all()
    assert len(failures) == 5
    assert all("password" not in str(e.after).lower().replace("'reason': 'password'", "") for e in failures)


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_login(client, session) -> None:
    teacher = make_user(session)
    teacher.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    session.flush()
    login(client, teacher.username)
    session.expire_all()
    upgraded = session.scalar(select(User.password_hash).where(User.id == teacher.id))
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_password_hashing_routes_run_off_the_event_loop() -> None:
    # FastAPI runs `def` endpoints in its threadpool; an `async def` one would hash on the event loop and stall
    # every heartbeat for ~45 ms per login.
    hashing = [
        routes.login_submit,
        routes.api_login,
        routes.api_token,
        security_routes.second_factor_submit,
        security_routes.password_submit,
        security_routes.enrol_submit,
        security_routes.disable_2fa,
        security_routes.reset_password,
    ]
    assert not [f.__name__ for f in hashing if inspect.iscoroutinefunction(f)]


def test_a_new_password_must_be_long_not_the_username_and_not_common(client, session) -> None:
    teacher = make_user(session, username="liuyang-teacher")
    token = login(client, teacher.username)

    def change(new: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "password": new, "confirm": new},
            follow_redirects=False,
        )

    assert "12" in change("short-pw").text
    assert change("LiuYang-Teacher").status_code == 422
    assert change("password1234").status_code == 422
    assert change("aaaaaaaaaaaaaaaa").status_code == 422
    # Not in any short list, but guessable all the same (zxcvbn: keyboard walks, pinyin, breach corpora).
    for guessable in ("qwertyuiop12", "1qaz2wsx3edc", "woaini1314520", "Songjiang2026"):
        assert change(guessable).status_code == 422, guessable
    other = client.__class__(client.app)
    login(other, teacher.username)
    r = change("willow river lantern")
    assert r.status_code == 303
    assert other.get("/api/v1/me").status_code == 401  # a new password ends the other sessions
    assert client.get("/api/v1/me").status_code == 200  # and this one carries on under a new id
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(client, "/account"),
            "current": "not-it-at-all",
            "password": "another long phrase",
            "confirm": "another long phrase",
        },
    )
    assert wrong.status_code == 422 and 'id="current-error"' in wrong.text
