"""Issue 18: hours sent back come back to the teacher — a notice says so with the reason, and an external record
can be changed and submitted again (a new record and a pending entry; the sent-back entry stays as it was)."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from backend.accounts.models import Role
from backend.audit import service as audit
from backend.credits.models import ExternalRecord, LedgerEntry
from backend.kit.i18n import translate
from tests.api.helpers import login
from tests.credits.test_pages import PDF, _form, _submit
from tests.factories import make_user


def zh(msgid: str, **params: object) -> str:
    return str(escape(translate("zh_CN", msgid, **params)))


def test_teacher_is_told_her_record_came_back_then_corrects_and_resubmits_it(client, session, storage) -> None:
    teacher = make_user(session, Role.teacher, "T-01", display_name="王芳")
    admin = make_user(session, Role.school_admin, "T-01")
    token = login(client, teacher.username)
    assert _submit(client, token, _form(hours="60")).status_code == 303
    record = session.scalars(select(ExternalRecord).where(ExternalRecord.user_id == teacher.id)).one()
    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.source_ref == f"external:{record.id}")).one()
    assert client.get(f"/credits/external/{record.id}/edit").status_code == 409  # pending: nothing to correct

    token = login(client, admin.username)
    reason = "学时与证书不符，证书写的是 6 学时"
    reject = {"csrf_token": token, "entry": str(entry.id), "action": "reject", "reason": reason}
    assert client.post("/credits/queue", data=reject, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(LedgerEntry, entry.id).status == "rejected"

    # The header counts it; the notice list says what and why, and links to the correction.
    token = login(client, teacher.username)
    home = client.get("/learning").text
    assert re.search(r'href="/notices"[^>]*>[^<]*<span class="count">1<', home)
    notices = client.get("/notices").text
    assert "上海市班主任专题培训" in notices and "学时与证书不符" in notices
    assert f'href="/credits/external/{record.id}/edit"' in notices
    assert 'class="count"' not in client.get("/learning").text  # seen: no longer counted
    mine = client.get("/credits/mine").text
    assert f'href="/credits/external/{record.id}/edit"' in mine

    form = client.get(f"/credits/external/{record.id}/edit").text
    assert "学时与证书不符" in form and 'value="60.0"' in form and "证书.pdf" in form
    # Bad input is said field by field; nothing is written.
    bad = client.post(f"/credits/external/{record.id}/resubmit", data=_form(hours="0") | {"csrf_token": token})
    assert bad.status_code == 422 and zh("Hours between 0.1 and 200, with at most one decimal.") in bad.text
    # Corrected, without a new file: the evidence sent before stands.
    r = client.post(f"/credits/external/{record.id}/resubmit", data=_form(hours="6") | {"csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/credits/mine?resubmitted=1#external"
    session.expire_all()
    new = session.scalars(select(ExternalRecord).where(ExternalRecord.resubmits_id == record.id)).one()
    assert new.hours == 6 and new.evidence_key == record.evidence_key
    assert client.get(f"/credits/external/{new.id}/evidence").content == PDF
    new_entry = session.scalars(select(LedgerEntry).where(LedgerEntry.source_ref == f"external:{new.id}")).one()
    assert new_entry.status == "pending" and session.get(LedgerEntry, entry.id).status == "rejected"
    assert [e.action for e in audit.events(session, action_prefix="ledger.resubmit")] == ["ledger.resubmit_external"]
    # Once corrected, the old record cannot be resubmitted a second time.
    mine = client.get("/credits/mine").text
    assert zh("Corrected and submitted again.") in mine
    again = client.post(f"/credits/external/{record.id}/resubmit", data=_form() | {"csrf_token": token})
    assert again.status_code == 409


def test_nobody_else_can_change_a_teachers_sent_back_record(client, session) -> None:
    teacher = make_user(session, Role.teacher, "T-01")
    other = make_user(session, Role.teacher, "T-01")
    token = login(client, teacher.username)
    _submit(client, token, _form())
    record = session.scalars(select(ExternalRecord).where(ExternalRecord.user_id == teacher.id)).one()
    token = login(client, other.username)
    assert client.get(f"/credits/external/{record.id}/edit").status_code == 404
    r = client.post(f"/credits/external/{record.id}/resubmit", data=_form() | {"csrf_token": token})
    assert r.status_code == 404
