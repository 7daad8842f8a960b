"""The hash-chain migration on both databases: ledger rows written before it are chained (backfill) and verify;
it goes down (keeping the append-only triggers) and up again."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from backend.credits import chain
from backend.migrate import downgrade, upgrade

BEFORE, PARENT, OURS = "7a_cancel", "8a_viewing_credit", "19_chain"  # rows written before issue 13's training dates too
LEGACY = [
    "INSERT INTO users (id, username, display_name, role, is_active, created_at) "
    "VALUES (1, 't', 'T', 'teacher', TRUE, '2026-11-01 08:00:00+00')",
    "INSERT INTO users (id, username, display_name, role, is_active, created_at) "
    "VALUES (2, 'a', 'A', 'school_admin', TRUE, '2026-11-01 08:00:00+00')",
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, year, status, created_at) "
    "VALUES (1, 1, 3.0, 'practice', 'school', 'external', 'e:1', 2026, 'verified', '2026-11-02 08:00:00.123456+00')",
    "INSERT INTO ledger_entries (id, user_id, hours, category, level, source, source_ref, year, status, created_at) "
    "VALUES (2, 1, 1.5, 'practice', 'school', 'external', 'e:2', 2026, 'pending', '2026-11-03 08:00:00+00')",
    "INSERT INTO ledger_entry_events (id, entry_id, from_status, to_status, actor_id, at) "
    "VALUES (1, 1, 'pending', 'verified', 2, '2026-11-04 08:00:00+00')",
]


def test_existing_rows_are_chained_and_verify_and_it_goes_down_and_up(empty_database_url: str) -> None:
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    sqlite = empty_database_url.startswith("sqlite")
    try:
        with engine.begin() as conn:
            for statement in LEGACY:
                # SQLite keeps times as SQLAlchemy writes them: UTC, without an offset.
                conn.execute(text(statement.replace("TRUE", "1").replace("+00'", "'") if sqlite else statement))
        upgrade(empty_database_url, OURS)
        with engine.connect() as conn:
            report = chain.verify(conn)
            assert report.ok, report.problems
            assert report.rows == {"ledger_entries": 2, "ledger_entry_events": 1}
            assert conn.execute(text("SELECT count(*) FROM ledger_entries WHERE chain_hash IS NULL")).scalar() == 0
        with pytest.raises(DatabaseError), engine.begin() as conn:  # events are still append-only after it
            conn.execute(text("UPDATE ledger_entry_events SET reason = 'x'"))

        downgrade(empty_database_url, PARENT)
        engine.dispose()
        assert "chain_hash" not in {c["name"] for c in inspect(engine).get_columns("ledger_entries")}
        with pytest.raises(DatabaseError), engine.begin() as conn:  # the older triggers are still there
            conn.execute(text("DELETE FROM ledger_entry_events"))
        upgrade(empty_database_url)
        engine.dispose()
        with engine.connect() as conn:
            assert chain.verify(conn).ok
    finally:
        engine.dispose()


TOPICS_PARENT, TOPICS_OURS = "8d_dashboards", "19b_chain_topics"
TAGGED = [
    *(statement for statement in LEGACY if "ledger_entry_events" not in statement),
    "INSERT INTO ledger_entry_topics (entry_id, topic) VALUES (1, 'crisis')",
    "INSERT INTO ledger_entry_topics (entry_id, topic) VALUES (1, 'activities')",
]


def test_entries_chained_before_topics_were_hashed_are_restamped_with_them(empty_database_url: str) -> None:
    upgrade(empty_database_url, TOPICS_PARENT)
    engine = create_engine(empty_database_url)
    sqlite = empty_database_url.startswith("sqlite")
    before_columns = {"ledger_entries": chain.HASHED_COLUMNS["ledger_entries"][:-1]}
    assert chain.HASHED_COLUMNS["ledger_entries"][-1] == chain.TOPICS
    try:
        with engine.begin() as conn:
            for statement in TAGGED:
                if statement.startswith("INSERT INTO ledger_entries "):  # the training date is required since 13
                    statement = statement.replace("status, created_at)", "status, created_at, trained_on)")
                    statement = statement.replace("+00')", "+00', '2026-11-02')")
                conn.execute(text(statement.replace("TRUE", "1").replace("+00'", "'") if sqlite else statement))
            chain.restamp(conn, before_columns)  # as the portal of 8d_dashboards chained them: topics not hashed
            old = dict(conn.execute(text("SELECT id, chain_hash FROM ledger_entries")).all())
            assert [p.row_id for p in chain.verify(conn).problems] == [1]  # today's hashing sees entry 1's topics
        upgrade(empty_database_url, TOPICS_OURS)
        with engine.connect() as conn:
            report = chain.verify(conn)
            assert report.ok, report.problems
            new = dict(conn.execute(text("SELECT id, chain_hash FROM ledger_entries")).all())
            assert new[1] != old[1] and new[2] != old[2]  # the tagged entry, and the one chained after it
        with engine.begin() as conn:  # a topic removed by SQL is now reported at its entry
            if sqlite:
                conn.execute(text("DROP TRIGGER ledger_entry_topics_no_delete"))
            else:
                conn.execute(text("ALTER TABLE ledger_entry_topics DISABLE TRIGGER USER"))
            conn.execute(text("DELETE FROM ledger_entry_topics WHERE topic = 'crisis'"))
            assert [str(p) for p in chain.verify(conn).problems] == [
                "ledger_entries row 1: was changed outside the application"
            ]
            conn.execute(text("INSERT INTO ledger_entry_topics (entry_id, topic) VALUES (1, 'crisis')"))
            if not sqlite:
                conn.execute(text("ALTER TABLE ledger_entry_topics ENABLE TRIGGER USER"))
        downgrade(empty_database_url, TOPICS_PARENT)
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT id, chain_hash FROM ledger_entries")).all()) == old
    finally:
        engine.dispose()
