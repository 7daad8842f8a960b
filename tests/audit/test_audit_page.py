"""District admins read the security audit log: filtered, paginated, and free of secrets."""

from __future__ import annotations

from backend.accounts.models import Role
from backend.audit import service as audit
from tests.api.helpers import csrf_from, login
from tests.factories import make_user


def test_district_admin_reads_sign_in_failures_with_their_address(client, session) -> None:
    teacher = make_user(session)
    admin = make_user(session, Role.district_admin, school_code=None)
    client.post("/login", data={"username": teacher.username, "password": "a-wrong-guess-123",
                                "csrf_token": csrf_from(client)})  # fmt: skip
    login(client, admin.username)
    page = client.get("/admin/audit", params={"action": "auth.login_failed"})
    assert page.status_code == 200
    assert "auth.login_failed" in page.text and "testclient" in page.text and teacher.username in page.text
    assert "a-wrong-guess-123" not in page.text
    only_logins = client.get("/admin/audit", params={"action": "auth.login", "user": admin.username})
    assert "auth.login_failed" not in only_logins.text.split("<table", 1)[1] and "auth.login" in only_logins.text


def test_audit_log_pages_through_long_histories(client, session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    for _ in range(55):
        audit.record(session, "auth.login_failed", actor_id=None, after={"reason": "password"}, address="10.0.0.9")
    login(client, admin.username)
    first = client.get("/admin/audit", params={"action": "auth.login_failed"})
    assert "1–50" in first.text and "action=auth.login_failed&amp;user=&amp;since=&amp;until=&amp;page=2" in first.text
    second = client.get("/admin/audit", params={"action": "auth.login_failed", "page": 2})
    assert "51–55" in second.text


def test_only_district_admins_see_the_audit_log(client, session) -> None:
    school_admin = make_user(session, Role.school_admin)
    login(client, school_admin.username)
    assert client.get("/admin/audit").status_code == 403
