"""District admins read the security audit log: filtered, paginated, and free of secrets."""

from __future__ import annotations

import re

from markupsafe import escape

from backend.accounts.models import Role
from backend.audit import service as audit
from backend.kit.i18n import translate
from tests.api.helpers import csrf_from, login
from tests.factories import make_user


def zh(msgid: str) -> str:
    return str(escape(translate("zh_CN", msgid)))


def test_district_admin_reads_sign_in_failures_with_their_address(client, session) -> None:
    teacher = make_user(session)
    admin = make_user(session, Role.district_admin, school_code=None)
    client.post("/login", data={"username": teacher.username, "password": "a-wrong-guess-123",
                                "csrf_token": csrf_from(client)})  # fmt: skip
    login(client, admin.username)
    page = client.get("/admin/audit", params={"action": "auth.login_failed"})
    assert page.status_code == 200
    failed, signed_in = zh("Sign-in failed"), zh("Signed in")
    assert failed in page.text and "testclient" in page.text and teacher.username in page.text
    assert "a-wrong-guess-123" not in page.text
    only_logins = client.get("/admin/audit", params={"action": "auth.login", "user": admin.username})
    rows = only_logins.text.split("<tbody>", 1)[1]
    assert failed not in rows and signed_in in rows


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


def test_audit_log_reads_in_chinese_with_objects_named_and_details_before_and_after(client, session) -> None:
    from backend.credits.models import LedgerEntry
    from backend.kit import clock
    from backend.policies.service import set_policy

    admin = make_user(session, Role.district_admin, school_code=None, display_name="区管理员甲")
    teacher = make_user(session, display_name="王老师")
    entry = LedgerEntry(user_id=teacher.id, hours="2.0", category="practice", level="city", source="adjustment",
                        source_ref="audit-test", year=2026, status="verified", created_at=clock.now())  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(session, "ledger.certify", actor_id=admin.id, subject_type="ledger_entry", subject_id=entry.id,
                 before={"status": "verified"}, after={"status": "certified", "reason": "一致",
                 "hours": "2.0", "teacher_id": teacher.id})  # fmt: skip
    set_policy(session, "coverage_threshold", 0.95, admin.id)
    audit.record(session, "policy.set", actor_id=admin.id, subject_type="policy", subject_id="coverage_threshold",
                 before={"coverage_threshold": "0.9"}, after={"coverage_threshold": "0.95"})  # fmt: skip
    login(client, admin.username)
    page = client.get("/admin/audit").text
    rows = page.split("<tbody>", 1)[1]
    # Event names in Chinese; no raw codes, ids or JSON.
    assert zh("Certified hours") in rows and zh("Changed a policy setting") in rows
    for raw in ("ledger.certify", "policy.set", "ledger_entry", "coverage_threshold\"", "{", "\\u"):
        assert raw not in rows.replace('href="/admin/policy#p-coverage_threshold"', ""), raw
    # Objects by name, linked.
    assert f'<a href="/credits/entries/{entry.id}">王老师 · 2.0 学时</a>' in rows
    setting = zh("Share of a video to watch before it counts")
    assert f'<a href="/admin/policy#p-coverage_threshold">{setting}</a>' in rows
    # Details as what: before → after, codes and ids in words.
    arrow = f"<span aria-label=\"{zh('changed to')}\">→</span>"
    assert f"{zh('status_verified')} {arrow} {zh('status_certified')}" in rows
    assert f"<span class=\"what\">{zh('Teacher')}</span>：王老师" in rows
    assert f"0.9 {zh('share (0.9 = 90%)')} {arrow} 0.95 {zh('share (0.9 = 90%)')}" in rows
    # The filter offers groups by name.
    assert re.search(r'<option value="ledger\." *>' + zh("Credit hours") + "</option>", page)
