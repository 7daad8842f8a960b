"""The credit-hour pages as their users meet them: a teacher submits hours earned elsewhere and sees them, the
school admin verifies them in the queue, the district admin certifies or sends them back with a reason the teacher
reads; scope and bad input are refused without writing anything."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.credits import hours
from backend.credits import ledger as credits
from backend.credits.models import ExternalRecord, LedgerEntry
from tests.api.helpers import login
from tests.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(**kw: str) -> dict[str, str]:
    return {
        "title": "上海市班主任专题培训",
        "hours": "6",
        "category": "practice",
        "level": "city",
        "earned_on": "2026-10-15",
    } | kw


def _submit(
    client, token: str, data: dict[str, str], file: tuple[str, bytes, str] | None = ("证书.pdf", PDF, "application/pdf")
):  # type: ignore[no-untyped-def]
    files = {"file": file} if file else None
    return client.post("/credits/external", data=data | {"csrf_token": token}, files=files, follow_redirects=False)


def _stored(storage) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(storage.root)  # the local storage of the test app
    files = root.rglob("*") if root.exists() else []
    return [p for p in files if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)]


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {
        "teacher": make_user(session, Role.teacher, "T-01", display_name="王芳"),
        "school_admin": make_user(session, Role.school_admin, "T-01"),
        "other_admin": make_user(session, Role.school_admin, "T-02"),
        "district": make_user(session, Role.district_admin, None),
    }


def test_external_record_goes_from_teacher_through_school_and_district(client, session, people, storage) -> None:
    token = login(client, people["teacher"].username)
    r = _submit(client, token, _form())
    assert r.status_code == 303 and r.headers["location"] == "/credits/mine?submitted=1#external"
    record = session.scalars(select(ExternalRecord).where(ExternalRecord.user_id == people["teacher"].id)).one()
    page = client.get("/credits/mine").text
    assert "上海市班主任专题培训" in page and "待核定" in page
    evidence = client.get(f"/credits/external/{record.id}/evidence")
    assert evidence.status_code == 200 and evidence.content == PDF

    token = login(client, people["school_admin"].username)
    queue = client.get("/credits/queue").text
    entry_id = int(re.search(r'name="entry" value="(\d+)"', queue).group(1))
    assert "王芳" in queue and f"/credits/external/{record.id}/evidence" in queue
    assert client.get(f"/credits/external/{record.id}/evidence").status_code == 200
    r = client.post(
        "/credits/queue",
        data={"csrf_token": token, "entry": str(entry_id), "action": "verify", "status": "pending"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'class="alert success" role="status"' in client.get(r.headers["location"]).text
    assert session.get(LedgerEntry, entry_id).status == "verified"
    assert len(_stored(storage)) == 1

    token = login(client, people["district"].username)
    assert "王芳" in client.get("/credits/queue").text  # verified entries wait here
    r = client.post(
        "/credits/queue",
        data={"csrf_token": token, "entry": str(entry_id), "action": "certify"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert session.get(LedgerEntry, entry_id).status == "certified"
    assert client.get(f"/admin/hours/{entry_id}/evidence").status_code == 200  # the hours audit opens it too
    history = client.get(f"/credits/entries/{entry_id}").text
    assert history.count("<li>") >= 3  # recorded, verified, certified
    assert hours.teacher_total(session, people["teacher"].id, year=2026) == hours.Hours(certified=Decimal("6.0"))
    actions = [e.action for e in audit.events(session, action_prefix="ledger.", subject_id=entry_id)]
    assert actions == ["ledger.certify", "ledger.verify", "ledger.submit_external"]


def test_the_teacher_reads_the_reason_her_hours_were_sent_back(client, session, people) -> None:
    entry = credits.record_offline_attendance(
        session,
        user_id=people["teacher"].id,
        hours=Decimal("3"),
        category="practice",
        level="school",
        session_ref="offline:1",
        day=date(2026, 11, 2),
    )
    token = login(client, people["district"].username)
    no_reason = client.post(
        "/credits/queue", data={"csrf_token": token, "entry": str(entry.id), "action": "reject", "status": "pending"}
    )
    assert no_reason.status_code == 422 and 'class="field-error"' in no_reason.text
    assert session.get(LedgerEntry, entry.id).status == "pending"
    client.post(
        "/credits/queue",
        data={"csrf_token": token, "entry": str(entry.id), "action": "reject", "reason": "签到时间不足半天"},
    )
    login(client, people["teacher"].username)
    page = client.get("/credits/mine").text
    assert "退回" in page and "签到时间不足半天" in page


def test_the_other_schools_admin_can_neither_list_nor_verify_nor_open(client, session, people) -> None:
    entry = credits.record_offline_attendance(
        session,
        user_id=people["teacher"].id,
        hours=Decimal("3"),
        category="practice",
        level="school",
        session_ref="offline:1",
        day=date(2026, 11, 2),
    )
    token = login(client, people["other_admin"].username)
    assert "王芳" not in client.get("/credits/queue").text
    r = client.post("/credits/queue", data={"csrf_token": token, "entry": str(entry.id), "action": "verify"})
    assert r.status_code == 404
    assert session.get(LedgerEntry, entry.id).status == "pending"
    assert client.get(f"/credits/entries/{entry.id}").status_code == 404
    assert client.get(f"/credits/teachers/{people['teacher'].id}").status_code == 404


def test_teachers_cannot_open_the_queue_or_the_policy_page(client, people) -> None:
    login(client, people["teacher"].username)
    assert client.get("/credits/queue").status_code == 403
    assert client.get("/admin/policy").status_code == 403


def test_the_queue_filters_by_year_category_source_and_name(client, session, people) -> None:
    other = make_user(session, Role.teacher, "T-01", display_name="李强")
    for teacher, year, category in [(people["teacher"], 2026, "practice"), (other, 2025, "ethics")]:
        credits.record_offline_attendance(
            session,
            user_id=teacher.id,
            hours=Decimal("3"),
            category=category,
            level="school",
            session_ref=f"offline:{year}",
            day=date(year, 11, 2),
        )
    login(client, people["school_admin"].username)
    page = client.get("/credits/queue", params={"year": "2025"}).text
    assert "李强" in page and "王芳" not in page
    page = client.get("/credits/queue", params={"category": "practice"}).text
    assert "王芳" in page and "李强" not in page
    page = client.get("/credits/queue", params={"q": "李"}).text
    assert "李强" in page and "王芳" not in page
    page = client.get("/credits/queue", params={"source": "external"}).text
    assert "李强" not in page and "王芳" not in page
    fragment = client.get("/credits/queue", params={"q": "李"}, headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="results"') and "李强" in fragment


@pytest.mark.parametrize(
    ("data", "file", "field_text"),
    [
        (_form(hours="0"), ("a.pdf", PDF, "application/pdf"), "at most one decimal"),
        (_form(hours="2.25"), ("a.pdf", PDF, "application/pdf"), "at most one decimal"),
        (_form(title=""), ("a.pdf", PDF, "application/pdf"), "name of the course"),
        (_form(earned_on="2099-01-01"), ("a.pdf", PDF, "application/pdf"), "future"),
        (_form(category="sport"), ("a.pdf", PDF, "application/pdf"), "Choose a category"),
        (_form(), ("a.exe", b"MZ\x90\x00binary", "application/octet-stream"), "PDF, PNG or JPEG"),
        (_form(), None, "Attach the certificate"),
    ],
)
def test_bad_external_records_are_refused_field_by_field_and_nothing_is_kept(
    client, session, people, storage, data, file, field_text
) -> None:
    client.cookies.set("portal_lang", "en")
    token = login(client, people["teacher"].username)
    r = _submit(client, token, data, file)
    assert r.status_code == 422 and field_text in r.text
    assert session.scalar(select(func.count()).select_from(ExternalRecord)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.source == "external")) == 0
    assert _stored(storage) == []


def test_a_district_admin_corrects_a_certified_entry_with_a_reversing_entry(client, session, people) -> None:
    entry = LedgerEntry(
        user_id=people["teacher"].id,
        hours=Decimal("6"),
        category="practice",
        level="school",
        source="offline_session",
        source_ref="x:1",
        year=2026,
        status="certified",
        created_at=__import__("backend.kit.clock", fromlist=["now"]).now(),
    )
    session.add(entry)
    session.flush()
    token = login(client, people["district"].username)
    page = client.get(f"/credits/entries/{entry.id}").text
    assert "/reverse" in page
    r = client.post(
        f"/credits/entries/{entry.id}/reverse", data={"csrf_token": token, "reason": "重复录入"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert hours.teacher_total(session, people["teacher"].id, year=2026).recorded == 0
    assert "重复录入" in client.get(f"/credits/entries/{entry.id}").text


def test_district_admin_changes_a_policy_and_the_progress_page_follows(client, session, people) -> None:
    client.cookies.set("portal_lang", "en")
    token = login(client, people["district"].username)
    assert "hours_per_credit" in client.get("/admin/policy").text
    bad = client.post("/admin/policy", data={"csrf_token": token, "hours_per_credit": "ten", "cycle_credits": "40"})
    assert bad.status_code == 422 and "Enter a number." in bad.text
    r = client.post("/admin/policy", data={"csrf_token": token, "cycle_credits": "40"}, follow_redirects=False)
    assert r.status_code == 303
    logged = audit.events(session, action_prefix="policy.set")
    assert [(e.subject_id, e.before, e.after) for e in logged] == [
        ("cycle_credits", {"cycle_credits": "36"}, {"cycle_credits": "40"})
    ]
    page = client.get(f"/credits/teachers/{people['teacher'].id}").text
    assert "0.0 / 40.0" in page


def test_policy_page_names_every_setting_in_chinese_with_unit_rule_range_and_a_fitting_control(
    client, session, people
) -> None:
    from markupsafe import escape

    from backend.kit.i18n import translate
    from backend.policies.catalog import SETTINGS
    from backend.policies.service import SECTION_OF

    assert set(SETTINGS) == set(SECTION_OF)  # one declaration per setting, no more, no fewer (tests/policies)
    login(client, people["district"].username)
    page = client.get("/admin/policy").text
    zh = lambda msgid: str(escape(translate("zh_CN", msgid)))  # noqa: E731
    # Labels only in Chinese: the English keys stay out of the text (they remain the inputs' names).
    visible = re.sub(r"<[^>]+>", " ", page)
    for name, meta in SETTINGS.items():
        assert zh(meta.label) in page, name
        assert name not in visible, name
        assert zh(meta.source) in page, name
    # A switch for yes/no, a choice for a code, checkboxes for several codes, numbers with their unit and range.
    assert re.search(r'type="radio" name="admin_totp_required" value="true"\s+checked', page)
    assert '<select id="p-workshop_counts_as_level"' in page
    assert re.search(r'type="checkbox" name="homeroom_service_kinds" value="rotating"\s+checked', page)
    assert re.search(r'name="coverage_threshold" value="0.9" type="number"[^>]*min="0.5" max="1"', page)
    assert "true" not in visible and "homeroom,rotating" not in visible


def test_policy_ranges_are_checked_on_the_server_and_nothing_is_saved_on_error(client, session, people) -> None:
    from backend.policies.service import load_policy

    client.cookies.set("portal_lang", "en")
    token = login(client, people["district"].username)
    data = {"csrf_token": token, "coverage_threshold": "1.5", "heartbeat_seconds": "2.5", "cycle_credits": "40",
            "homeroom_service_kinds": ["", "principal"], "workshop_counts_as_level": "galaxy"}  # fmt: skip
    bad = client.post("/admin/policy", data=data)
    assert bad.status_code == 422
    assert "Enter a number from 0.5 to 1." in bad.text and "Enter a whole number." in bad.text
    assert bad.text.count("Choose from the list.") == 2
    assert load_policy(session).credits.cycle_credits == Decimal("36")  # all or nothing
    ok = {"csrf_token": token, "homeroom_service_kinds": ["", "rotating", "deputy", "homeroom"],
          "allow_seek_ahead": "true", "coverage_threshold": "0.95"}  # fmt: skip
    assert client.post("/admin/policy", data=ok, follow_redirects=False).status_code == 303
    policy = load_policy(session)
    assert policy.title_review.homeroom_service_kinds == "homeroom,deputy,rotating"
    assert policy.viewing.allow_seek_ahead is True
    assert policy.viewing.coverage_threshold == 0.95
    none_ticked = client.post("/admin/policy", data={"csrf_token": token, "homeroom_service_kinds": ""})
    assert none_ticked.status_code == 422 and "Choose from the list." in none_ticked.text
