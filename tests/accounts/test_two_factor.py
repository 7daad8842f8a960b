"""Administrators sign in with a second step (TOTP, or a one-time recovery code) outside demo mode."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend.accounts import totp
from backend.accounts.models import RecoveryCode, Role, User
from backend.audit.models import AuditEvent
from backend.config import Settings
from tests.api.helpers import TOKEN_RE, csrf_from
from tests.factories import PASSWORD, make_user

SECRET_RE = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    """Production rules: outside demo mode admins must use two-factor sign-in."""
    return Settings(database_url=database_url, media_root=tmp_path / "media", demo_mode=False, secret_key="s" * 40)


def _password_step(client, username: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client)
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                       "next": "/courses"}, follow_redirects=False)  # fmt: skip


def _enrol(client, session, admin: User) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get("/account/2fa?next=/courses")
    assert page.status_code == 200 and "<svg" in page.text  # the QR code, inline
    secret = SECRET_RE.search(page.text).group(1).replace(" ", "")
    token = TOKEN_RE.search(page.text).group(1)
    r = client.post("/account/2fa", data={"csrf_token": token, "code": totp.current_code(secret), "next": "/courses",
                                          "password": PASSWORD})  # fmt: skip
    assert r.status_code == 200
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)


def test_an_admin_must_enrol_before_the_first_sign_in_completes(client, session, clock) -> None:
    admin = make_user(session, Role.school_admin)
    r = _password_step(client, admin.username)
    assert r.status_code == 303 and r.headers["location"].startswith("/account/2fa")
    assert client.get("/api/v1/me").status_code == 401  # half-way: no access yet
    codes = _enrol(client, session, admin)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/v1/me").json()["username"] == admin.username
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes at rest
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.2fa_enrolled")) is not None


def test_an_enrolled_admin_needs_a_fresh_code_and_a_code_works_only_once(client, session, clock) -> None:
    admin = make_user(session, Role.district_admin)
    _password_step(client, admin.username)
    _enrol(client, session, admin)
    client.cookies.clear()
    clock.advance(60)

    r = _password_step(client, admin.username)
    assert r.headers["location"].startswith("/login/2fa")
    page = client.get(r.headers["location"])
    token = TOKEN_RE.search(page.text).group(1)
    wrong = client.post("/login/2fa", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 401 and 'id="code-error"' in wrong.text
    session.expire_all()
    code = totp.current_code(session.get(User, admin.id).totp_secret)
    ok = client.post("/login/2fa", data={"csrf_token": token, "code": code, "next": "/courses"},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/courses"
    assert client.get("/api/v1/me").status_code == 200

    # Someone who saw that code over the admin's shoulder cannot use it again.
    thief = client.__class__(client.app)
    _password_step(thief, admin.username)
    token = TOKEN_RE.search(thief.get("/login/2fa").text).group(1)
    assert thief.post("/login/2fa", data={"csrf_token": token, "code": code}).status_code == 401
    assert thief.get("/api/v1/me").status_code == 401


def test_a_recovery_code_signs_in_once(client, session, clock) -> None:
    admin = make_user(session, Role.district_admin)
    _password_step(client, admin.username)
    codes = _enrol(client, session, admin)
    for expected in (303, 401):
        fresh = client.__class__(client.app)
        _password_step(fresh, admin.username)
        token = TOKEN_RE.search(fresh.get("/login/2fa").text).group(1)
        r = fresh.post("/login/2fa", data={"csrf_token": token, "code": codes[3]}, follow_redirects=False)
        assert r.status_code == expected


def test_a_password_alone_opens_no_api_session_or_token_for_an_admin(client, session) -> None:
    admin = make_user(session, Role.school_admin)
    r = client.post("/api/v1/auth/token", json={"username": admin.username, "password": PASSWORD})
    assert r.status_code == 401
    teacher = make_user(session)
    r = client.post("/api/v1/auth/token", json={"username": teacher.username, "password": PASSWORD})
    assert r.status_code == 200  # teachers without two-factor sign-in keep their API access


def test_a_teacher_may_turn_two_factor_on_and_off_with_the_password(client, session, clock) -> None:
    teacher = make_user(session)
    r = _password_step(client, teacher.username)
    assert r.headers["location"] == "/courses"  # not required of teachers
    # Turning it on needs the password, as turning it off does: a stolen session alone cannot do it.
    page = client.get("/account/2fa")
    secret = SECRET_RE.search(page.text).group(1).replace(" ", "")
    refused = client.post("/account/2fa", data={"csrf_token": TOKEN_RE.search(page.text).group(1),
                                                "code": totp.current_code(secret), "password": "wrong"})  # fmt: skip
    assert refused.status_code == 422 and 'id="current-error"' in refused.text
    _enrol(client, session, teacher)
    token = csrf_from(client, "/account")
    assert client.post("/account/2fa/disable", data={"csrf_token": token, "password": "wrong"}).status_code == 422
    r = client.post("/account/2fa/disable", data={"csrf_token": token, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    session.expire_all()
    assert session.get(User, teacher.id).totp_enabled_at is None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.2fa_disabled")) is not None
