"""Admins reset forgotten passwords within their scope; a district admin changes roles. All of it is audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.accounts.models import Role, User
from backend.audit.models import AuditEvent
from tests.api.helpers import csrf_from, login
from tests.factories import make_user

TEMPORARY_RE = re.compile(r'<code class="secret">([^<]+)</code>')


def test_a_school_admin_resets_a_teachers_password_and_the_teacher_must_choose_a_new_one(client, session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    teacher_browser = client.__class__(client.app)
    login(teacher_browser, teacher.username)
    token = login(client, admin.username)
    listing = client.get("/admin/users")
    assert teacher.username in listing.text and admin.username not in listing.text.split("<table", 1)[1]

    r = client.post(f"/admin/users/{teacher.id}/password-reset", data={"csrf_token": token})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    temporary = TEMPORARY_RE.search(r.text).group(1)
    assert teacher_browser.get("/api/v1/me").status_code == 401  # the reset signed the teacher out everywhere

    fresh = client.__class__(client.app)
    r = fresh.post(
        "/login",
        data={"username": teacher.username, "password": temporary, "csrf_token": csrf_from(fresh), "next": "/learning"},
        follow_redirects=False,
    )
    assert r.headers["location"].startswith("/account/password")
    assert fresh.get("/api/v1/me").status_code == 401  # nothing else until the password is changed
    page = fresh.get(r.headers["location"])
    assert 'name="current"' not in page.text  # the temporary password was just typed
    r = fresh.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(fresh, "/account/password"),
            "password": "autumn leaves by the river",
            "confirm": "autumn leaves by the river",
            "next": "/learning",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/learning"
    assert fresh.get("/api/v1/me").json()["username"] == teacher.username

    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.password_reset"))
    assert event.actor_id == admin.id and event.subject_id == str(teacher.id) and event.address == "testclient"
    logged = " ".join(str(e.after) + str(e.before) for e in session.scalars(select(AuditEvent)))
    assert temporary not in logged and "autumn leaves" not in logged


def test_a_school_admin_cannot_reach_another_schools_teacher_or_a_trainer(client, session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    elsewhere = make_user(session, school_code="S-B")
    trainer = make_user(session, Role.trainer, school_code="S-A")
    token = login(client, admin.username)
    assert elsewhere.username not in client.get("/admin/users").text
    for target in (elsewhere, trainer):
        assert client.get(f"/admin/users/{target.id}").status_code == 404
        assert client.post(f"/admin/users/{target.id}/password-reset", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/users/{elsewhere.id}/role", data={"csrf_token": token, "role": "district_admin"}
                       ).status_code == 404  # fmt: skip


def test_a_school_admin_without_a_school_sees_and_manages_nobody(client, session) -> None:
    """The one school scope (backend/accounts/scope.py): no school means nobody, not "everybody without a school"."""
    admin = make_user(session, Role.school_admin, school_code=None)
    schoolless = make_user(session, school_code=None)
    token = login(client, admin.username)
    listing = client.get("/admin/users")
    assert listing.status_code == 200 and schoolless.username not in listing.text
    assert client.get(f"/admin/users/{schoolless.id}").status_code == 404
    assert client.post(f"/admin/users/{schoolless.id}/password-reset", data={"csrf_token": token}).status_code == 404


def test_a_teacher_cannot_open_the_account_pages(client, session) -> None:
    teacher = make_user(session)
    other = make_user(session)
    token = login(client, teacher.username)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{other.id}/password-reset", data={"csrf_token": token}).status_code == 403


def test_a_district_admin_changes_a_role_and_the_account_signs_in_again(client, session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    teacher = make_user(session)
    teacher_browser = client.__class__(client.app)
    login(teacher_browser, teacher.username)
    token = login(client, admin.username)
    r = client.post(f"/admin/users/{teacher.id}/role", data={"csrf_token": token, "role": "trainer"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    session.expire_all()
    assert session.get(User, teacher.id).role == "trainer"
    assert teacher_browser.get("/api/v1/me").status_code == 401  # new rights, new session
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.role_changed"))
    assert event.before == {"role": "teacher"} and event.after == {"role": "trainer"}
    bad = client.post(f"/admin/users/{teacher.id}/role", data={"csrf_token": token, "role": "superuser"})
    assert bad.status_code == 422
