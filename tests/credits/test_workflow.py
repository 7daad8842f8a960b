"""The ledger's certification workflow: a school admin verifies, the district admin certifies or rejects with a
reason the teacher sees; corrections are reversing entries; nothing an entry says is ever rewritten."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.credits import hours, workflow
from backend.credits import ledger as credits
from backend.credits.models import LedgerEntry, LedgerRewriteRefused
from backend.kit import pagination
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import make_user


def _entry(session: Session, teacher: User, hours: str = "3.0", ref: str = "offline:1") -> LedgerEntry:
    return credits.record_offline_attendance(
        session,
        user_id=teacher.id,
        hours=Decimal(hours),
        category="practice",
        level="school",
        session_ref=ref,
        day=date(2026, 11, 2),
    )


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {
        "teacher": make_user(session, Role.teacher, "T-01"),
        "school_admin": make_user(session, Role.school_admin, "T-01"),
        "other_admin": make_user(session, Role.school_admin, "T-02"),
        "district": make_user(session, Role.district_admin, None),
    }


def test_school_admin_verifies_and_district_certifies_with_history_and_audit(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    assert workflow.apply(session, people["school_admin"], [entry.id], "verify") == 1
    assert entry.status == "verified"
    workflow.apply(session, people["district"], [entry.id], "certify")
    assert entry.status == "certified"
    moves = [(e.from_status, e.to_status) for e in workflow.history(session, entry.id)]
    assert moves == [("pending", "verified"), ("verified", "certified")]
    logged = audit.events(session, action_prefix="ledger.", subject_type="ledger_entry", subject_id=entry.id)
    assert [(e.action, e.before, e.after["status"]) for e in reversed(logged)] == [
        ("ledger.verify", {"status": "pending"}, "verified"),
        ("ledger.certify", {"status": "verified"}, "certified"),
    ]
    assert logged[0].actor_id == people["district"].id
    assert hours.teacher_total(session, people["teacher"].id, year=2026) == hours.Hours(certified=Decimal("3.0"))


def test_rejection_needs_a_reason_which_the_teacher_sees_and_the_hours_stop_counting(session, people) -> None:
    entry = _entry(session, people["teacher"])
    with pytest.raises(InvalidInput):
        workflow.apply(session, people["district"], [entry.id], "reject", "  ")
    workflow.apply(session, people["district"], [entry.id], "reject", "签到记录与名单不符")
    assert (entry.status, entry.reason) == ("rejected", "签到记录与名单不符")
    assert hours.teacher_total(session, people["teacher"].id, year=2026).recorded == 0


def test_the_other_schools_admin_cannot_see_or_verify_the_entry(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    with pytest.raises(NotFound):
        workflow.apply(session, people["other_admin"], [entry.id], "verify")
    assert entry.status == "pending"
    page = workflow.queue(session, people["other_admin"], workflow.QueueFilters(status="pending"))
    assert page.total == 0
    with pytest.raises(NotFound):
        workflow.teacher_in_scope(session, people["other_admin"], people["teacher"].id)


def test_roles_may_only_make_their_own_moves(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    with pytest.raises(Forbidden):
        workflow.apply(session, people["district"], [entry.id], "verify")
    with pytest.raises(Forbidden):
        workflow.apply(session, people["school_admin"], [entry.id], "certify")
    with pytest.raises(Forbidden):
        workflow.apply(session, people["teacher"], [entry.id], "verify")
    with pytest.raises(Conflict):  # a district admin cannot certify what no school admin verified
        workflow.apply(session, people["district"], [entry.id], "certify")
    workflow.apply(session, people["school_admin"], [entry.id], "verify")
    with pytest.raises(Conflict):  # nor verify twice
        workflow.apply(session, people["school_admin"], [entry.id], "verify")


def test_bulk_action_is_all_or_nothing(session: Session, people) -> None:
    a = _entry(session, people["teacher"], ref="offline:1")
    b = _entry(session, people["teacher"], ref="offline:2")
    workflow.apply(session, people["school_admin"], [a.id], "verify")
    with pytest.raises(Conflict):
        workflow.apply(session, people["school_admin"], [a.id, b.id], "verify")
    assert b.status == "pending"
    assert len(workflow.history(session, b.id)) == 0


def test_a_correction_is_a_reversing_entry_and_the_original_is_untouched(session: Session, people) -> None:
    entry = _entry(session, people["teacher"], hours="6.0")
    workflow.apply(session, people["school_admin"], [entry.id], "verify")
    workflow.apply(session, people["district"], [entry.id], "certify")
    with pytest.raises(InvalidInput):
        workflow.reverse(session, people["district"], entry.id, "")
    with pytest.raises(Forbidden):
        workflow.reverse(session, people["school_admin"], entry.id, "录入错误")
    correction = workflow.reverse(session, people["district"], entry.id, "重复录入")
    assert (correction.hours, correction.status, correction.reverses_id) == (Decimal("-6.0"), "certified", entry.id)
    assert (entry.hours, entry.status) == (Decimal("6.0"), "certified")
    assert hours.teacher_total(session, people["teacher"].id, year=2026).recorded == 0
    with pytest.raises(Conflict):
        workflow.reverse(session, people["district"], entry.id, "again")
    with pytest.raises(Conflict):  # a reversed entry is settled
        workflow.apply(session, people["district"], [entry.id], "reject", "x")
    logged = audit.events(session, action_prefix="ledger.reverse")
    assert (logged[0].actor_id, logged[0].on_behalf_of_id) == (people["district"].id, None)
    assert logged[0].after["reason"] == "重复录入" and logged[0].after["teacher_id"] == people["teacher"].id


def test_a_pending_entry_is_rejected_not_reversed(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    with pytest.raises(Conflict):
        workflow.reverse(session, people["district"], entry.id, "错误")


def test_the_orm_refuses_to_rewrite_or_delete_an_entry(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    session.flush()
    entry.hours = Decimal("30")
    with pytest.raises(LedgerRewriteRefused):
        session.flush()
    session.rollback()


@pytest.mark.parametrize("column", ["hours", "user_id", "year", "category"])
def test_the_database_refuses_to_rewrite_an_entry(session: Session, people, column: str) -> None:
    entry = _entry(session, people["teacher"])
    session.flush()
    value = {"hours": Decimal("30"), "user_id": people["school_admin"].id, "year": 2020, "category": "ethics"}[column]
    with pytest.raises(DatabaseError), session.begin_nested():
        session.execute(update(LedgerEntry).where(LedgerEntry.id == entry.id).values({column: value}))
    with pytest.raises(DatabaseError), session.begin_nested():
        session.execute(delete(LedgerEntry).where(LedgerEntry.id == entry.id))
    # The status may move (that is what the workflow does), and the row is still there.
    session.execute(update(LedgerEntry).where(LedgerEntry.id == entry.id).values(status="verified"))
    assert session.scalar(select(LedgerEntry.hours).where(LedgerEntry.id == entry.id)) == Decimal("3.0")


def test_the_queue_counts_and_pages_only_so_far_and_lists_newest_first(session: Session, people, monkeypatch) -> None:
    monkeypatch.setattr(workflow, "COUNT_CAP", 2)
    monkeypatch.setattr(pagination, "PAGE_SIZE", 1)
    entries = [_entry(session, people["teacher"], ref=f"offline:{n}") for n in range(4)]
    first = workflow.queue(session, people["school_admin"], workflow.QueueFilters(status="pending"))
    assert first.total == 3  # "more than 2"
    assert [r.entry_id for r in first.items] == [entries[-1].id]  # same created_at: the higher id is newer
    deepest = workflow.queue(session, people["school_admin"], workflow.QueueFilters(status="pending"), page=99)
    assert deepest.number == 3 and [r.entry_id for r in deepest.items] == [entries[1].id]


def test_after_a_move_the_new_schools_admin_verifies_and_the_old_one_no_longer_can(session: Session, people) -> None:
    entry = _entry(session, people["teacher"])
    people["teacher"].school_id = people["other_admin"].school_id  # moved to T-02
    session.flush()
    with pytest.raises(NotFound):
        workflow.apply(session, people["school_admin"], [entry.id], "verify")
    workflow.apply(session, people["other_admin"], [entry.id], "verify")
    assert entry.status == "verified"
    logged = audit.events(session, action_prefix="ledger.verify", subject_id=entry.id)
    assert logged[0].school_id == people["other_admin"].school_id


@pytest.mark.parametrize("cap", [2, 10_000])  # past the cap: the newest-first index; within it: the teachers' rows
def test_a_schools_queue_pages_newest_first_either_way(session: Session, people, monkeypatch, clock, cap: int) -> None:
    monkeypatch.setattr(workflow, "COUNT_CAP", cap)
    monkeypatch.setattr(pagination, "PAGE_SIZE", 1)
    entries = []
    for n in range(4):
        clock.advance(60)
        entries.append(_entry(session, people["teacher"], ref=f"offline:{n}"))
    pages = [workflow.queue(session, people["school_admin"], workflow.QueueFilters(), page=n) for n in (1, 2, 3)]
    assert [p.items[0].entry_id for p in pages] == [e.id for e in reversed(entries)][:3]
    named = workflow.queue(session, people["district"], workflow.QueueFilters(q="王"), page=1)
    assert named.total == 0  # nobody of that name
