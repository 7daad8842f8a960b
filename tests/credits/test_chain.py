"""The tamper-evident ledger: what the portal writes verifies; a row changed, removed or added by direct SQL is
reported, the first one by its id — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits import chain, workflow
from backend.credits import ledger as credits
from backend.credits.models import IMMUTABLE_COLUMNS, LedgerEntry
from tests.factories import make_user


@pytest.fixture
def ledger(session: Session) -> dict[str, object]:
    """Five entries by the services and their moves by the workflow (verified, certified, rejected, a reversal).
    Two are offline sessions on an induction topic."""
    teacher = make_user(session, Role.teacher, "T-01")
    admin = make_user(session, Role.school_admin, "T-01")
    district = make_user(session, Role.district_admin, None)
    entries = [
        credits.record_offline_attendance(session, user_id=teacher.id, hours=Decimal(h), category="practice",
                                          level="school", session_ref=f"chain:{n}", day=date(2026, 11, 2),
                                          topic={0: "crisis", 2: "policy_law"}.get(n))
        for n, h in enumerate(("3.0", "6.0", "1.5", "2.0", "4.0"))
    ]
    workflow.apply(session, admin, [entries[0].id, entries[1].id, entries[2].id], "verify")
    workflow.apply(session, district, [entries[0].id, entries[1].id], "certify")
    workflow.apply(session, district, [entries[2].id], "reject", reason="证明不全")
    correction = workflow.reverse(session, district, entries[1].id, reason="重复登记")
    session.flush()
    return {"teacher": teacher, "entries": entries, "correction": correction}


def _tamper(session: Session, sql: str, **params: object) -> None:
    """Direct SQL by someone who also switched the append-only triggers off, as a database owner can."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER USER"))
        session.execute(text("ALTER TABLE ledger_entry_events DISABLE TRIGGER USER"))
        session.execute(text("ALTER TABLE ledger_entry_topics DISABLE TRIGGER USER"))
    else:
        for name in ("ledger_entries_no_rewrite", "ledger_entries_no_delete", "ledger_entry_events_no_update",
                     "ledger_entry_events_no_delete", "ledger_entry_topics_no_update", "ledger_entry_topics_no_delete"):
            session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    session.execute(text(sql), params)
    session.expire_all()


def _report(session: Session) -> chain.Report:
    return chain.verify(session.connection())


def test_what_the_portal_writes_verifies_and_each_row_is_chained_to_the_one_before(session, ledger) -> None:
    report = _report(session)
    assert report.ok, report.problems
    assert report.rows == {"ledger_entries": 6, "ledger_entry_events": 7}
    rows = session.execute(text("SELECT chain_prev, chain_hash FROM ledger_entries ORDER BY id")).all()
    assert rows[0].chain_prev == chain.GENESIS
    assert all(later.chain_prev == earlier.chain_hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert report.heads["ledger_entries"] == {"id": ledger["correction"].id, "hash": rows[-1].chain_hash}


def test_induction_topics_are_written_with_their_entry_and_a_reversal_carries_them(session, ledger) -> None:
    entries = ledger["entries"]
    correction = workflow.reverse(session, make_user(session, Role.district_admin, None), entries[0].id, reason="错记")
    assert credits.topics_of(session, entries[0].id) == ["crisis"] == credits.topics_of(session, correction.id)
    assert credits.topics_of(session, entries[2].id) == ["policy_law"] and not credits.topics_of(session, entries[3].id)
    assert _report(session).ok
    with pytest.raises(ValueError, match="before it is flushed"):  # later tagging would not match its hash
        credits.tag(session, entries[3], ["moral"])


def test_an_induction_topic_added_removed_or_changed_by_sql_is_reported_at_its_entry(session, ledger) -> None:
    entries = ledger["entries"]
    tagged, changed, plain = entries[0], entries[2], entries[3]
    _tamper(session, "DELETE FROM ledger_entry_topics WHERE entry_id = :id", id=tagged.id)
    _tamper(session, "UPDATE ledger_entry_topics SET topic = 'norms' WHERE entry_id = :id", id=changed.id)
    # Adding needs no trigger switched off: a topic row counts toward the induction from the moment it is there.
    session.execute(text("INSERT INTO ledger_entry_topics (entry_id, topic) VALUES (:id, 'moral')"), {"id": plain.id})
    problems = [str(p) for p in _report(session).problems]
    assert problems == [
        f"ledger_entries row {entry.id}: was changed outside the application" for entry in (tagged, changed, plain)
    ]


def test_hours_changed_by_sql_are_reported_at_that_row(session, ledger) -> None:
    entry = ledger["entries"][3]
    _tamper(session, "UPDATE ledger_entries SET hours = 40.0 WHERE id = :id", id=entry.id)
    report = _report(session)
    assert [str(p) for p in report.problems] == [f"ledger_entries row {entry.id}: was changed outside the application"]


def test_a_status_set_to_certified_by_sql_is_reported(session, ledger) -> None:
    pending, rejected = ledger["entries"][4], ledger["entries"][2]
    # No trigger stops this (the status is the column that moves), but the status history does not lead there.
    session.execute(text("UPDATE ledger_entries SET status = 'certified' WHERE id IN (:a, :b)"),
                    {"a": pending.id, "b": rejected.id})
    problems = _report(session).problems
    assert [(p.table, p.row_id) for p in problems] == [
        ("ledger_entries", rejected.id), ("ledger_entries", pending.id),
    ]
    assert "last recorded move was to rejected" in problems[0].what
    assert "changed outside the application" in problems[1].what  # never moved: its hash holds its status


def test_a_removed_status_event_is_reported_at_the_row_after_it(session, ledger) -> None:
    events = session.execute(text("SELECT id FROM ledger_entry_events ORDER BY id")).scalars().all()
    _tamper(session, "DELETE FROM ledger_entry_events WHERE id = :id", id=events[2])
    problems = [str(p) for p in _report(session).problems if p.table == "ledger_entry_events"]
    assert problems[0] == (
        f"ledger_entry_events row {events[3]}: the row before it (after row {events[1]}) was removed, "
        "or this row was added outside the application"
    )


def test_a_removed_entry_and_a_row_added_by_sql_are_reported(session, ledger) -> None:
    entries = ledger["entries"]
    teacher: User = ledger["teacher"]  # type: ignore[assignment]
    _tamper(session, "DELETE FROM ledger_entries WHERE id = :id", id=entries[4].id)
    _tamper(session, "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, year, "
                     "status, created_at, trained_on) VALUES (:id, :user, 30.0, 'practice', 'school', 'external', "
                     "'forged', 2026, 'certified', '2026-11-01 00:00:00', '2026-11-01')",
            id=ledger["correction"].id + 100, user=teacher.id)
    problems = [str(p) for p in _report(session).problems]
    assert problems == [
        f"ledger_entries row {ledger['correction'].id}: the row before it (after row {entries[3].id}) was removed, "
        "or this row was added outside the application",
        f"ledger_entries row {ledger['correction'].id + 100}: has no hash: it was written outside the application",
    ]


def test_rows_removed_from_the_end_show_against_the_heads_kept_earlier(session, ledger) -> None:
    kept, last = chain.heads(session.connection()), ledger["correction"].id
    _tamper(session, "DELETE FROM ledger_entry_events WHERE entry_id = :id", id=last)
    _tamper(session, "DELETE FROM ledger_entries WHERE id = :id", id=last)
    assert _report(session).ok  # a shorter chain is still a chain…
    problems = [str(p) for p in chain.verify(session.connection(), kept).problems]
    assert f"ledger_entries row {last}: the recorded head row is gone (rows were removed)" in problems


def test_every_column_that_says_what_an_entry_is_is_hashed() -> None:
    assert set(IMMUTABLE_COLUMNS) <= set(chain.HASHED_COLUMNS["ledger_entries"])
    assert {"id", "status"} <= set(chain.HASHED_COLUMNS["ledger_entries"])
    columns = set(LedgerEntry.__table__.c.keys()) - {"chain_prev", "chain_hash"}
    # The columns that move after writing (status via events; who moved it last and why) are the only ones left.
    assert columns - set(chain.HASHED_COLUMNS["ledger_entries"]) == {"reason", "actor_id"}
