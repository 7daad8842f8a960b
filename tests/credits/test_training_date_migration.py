"""Issue 13, migration 13_hours on both databases: ledger entries get their training date (the external record's
date, the session's day, the original's date for a correction, else the Shanghai day they were written), Horizon
completions get their course's topics as induction tags, the triggers refuse a changed training date and a moved
status on a correction, and the migration goes down and up again."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from backend.migrate import downgrade, upgrade

PARENT, OURS = "7a_cancel", "13_hours"

T = "'2026-11-01 08:00:00+00'"
LEGACY = [
    "INSERT INTO users (id, username, display_name, role, is_active, created_at) "
    f"VALUES (1, 't', 'T', 'teacher', TRUE, {T})",
    "INSERT INTO courses (id, code, version, title, summary, description_md, tier, credit_hours, credit_category, "
    f"status, created_at) VALUES (1, 'C1', 1, '课', '', '', 'horizon', 4.0, 'ethics', 'published', {T})",
    "INSERT INTO course_topics (course_id, topic) VALUES (1, 'norms'), (1, 'crisis')",
    "INSERT INTO external_records (id, user_id, title, hours, category, level, earned_on, evidence_key, evidence_name, "
    f"evidence_type, evidence_size, created_at) VALUES (7, 1, '市级培训', 6.0, 'practice', 'city', '2025-12-30', 'k', "
    f"'e.pdf', 'application/pdf', 10, {T})",
    "INSERT INTO training_sessions (id, title, theme, tier, level, category, school_id, day, start_time, end_time, "
    f"place, hours, created_by, created_at) VALUES (3, '校本', '', NULL, 'school', 'practice', NULL, '2026-10-09', "
    f"'14:00:00', '16:30:00', '', 3.0, 1, {T})",
    # Written at 2026-11-30 17:30 UTC = 2026-12-01 01:30 in Shanghai: trained on 1 December.
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, course_id, year, status, "
    "created_at) VALUES (1, 1, 4.0, 'ethics', 'district', 'course_completion', 'enrollment:1', 1, 2026, 'certified', "
    "'2026-11-30 17:30:00+00')",
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, course_id, year, status, "
    f"created_at) VALUES (2, 1, 6.0, 'practice', 'city', 'external', 'external:7', NULL, 2025, 'pending', {T})",
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, course_id, year, status, "
    "created_at) VALUES (3, 1, 3.0, 'practice', 'school', 'offline_session', 'training:3:user:1', NULL, 2026, "
    f"'verified', {T})",
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, course_id, year, status, "
    "reverses_id, created_at) VALUES (4, 1, -4.0, 'ethics', 'district', 'adjustment', 'reverses:1', 1, 2026, "
    "'certified', 1, '2026-12-02 08:00:00+00')",
]


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def test_training_dates_and_topics_are_backfilled_and_the_triggers_hold(empty_database_url: str) -> None:
    upgrade(empty_database_url, PARENT)
    engine = create_engine(empty_database_url)
    sqlite = empty_database_url.startswith("sqlite")
    try:
        with engine.begin() as conn:
            for statement in LEGACY:
                # SQLite keeps times as SQLAlchemy writes them: UTC without an offset.
                conn.execute(text(statement.replace("TRUE", "1").replace("+00'", "'") if sqlite else statement))
        upgrade(empty_database_url, OURS)
        with engine.connect() as conn:
            days = {i: _day(d) for i, d in conn.execute(text("SELECT id, trained_on FROM ledger_entries"))}
            assert days == {
                1: date(2026, 12, 1),  # the Shanghai day it was written: the completion day
                2: date(2025, 12, 30),  # the external record's date
                3: date(2026, 10, 9),  # the session's day
                4: date(2026, 12, 1),  # a correction: its original's date
            }
            topics = set(conn.execute(text("SELECT entry_id, topic FROM ledger_entry_topics")).tuples())
            assert topics == {(1, "norms"), (1, "crisis"), (4, "norms"), (4, "crisis")}
        for statement in (
            "UPDATE ledger_entries SET trained_on = '2020-01-01' WHERE id = 2",
            "UPDATE ledger_entries SET status = 'rejected' WHERE id = 4",  # a correction's status never moves
            "UPDATE ledger_entry_topics SET topic = 'moral' WHERE entry_id = 1",
            "DELETE FROM ledger_entry_topics WHERE entry_id = 1",
            "DELETE FROM ledger_entries WHERE id = 2",
        ):
            with pytest.raises(DatabaseError), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.begin() as conn:  # the status of an ordinary entry still moves
            conn.execute(text("UPDATE ledger_entries SET status = 'verified' WHERE id = 2"))

        downgrade(empty_database_url, PARENT)
        engine.dispose()
        inspector = inspect(engine)
        assert "ledger_entry_topics" not in inspector.get_table_names()
        assert "trained_on" not in {c["name"] for c in inspector.get_columns("ledger_entries")}
        with pytest.raises(DatabaseError), engine.begin() as conn:  # the old triggers are back
            conn.execute(text("UPDATE ledger_entries SET hours = 1 WHERE id = 2"))
        upgrade(empty_database_url)
        engine.dispose()
        assert "ledger_entry_topics" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
