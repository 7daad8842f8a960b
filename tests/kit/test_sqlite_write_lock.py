"""On the embedded SQLite default, a request that reads and then writes must not fail because the heartbeat writer
committed in between: it takes the write lock when it begins, and waits its turn instead."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.db import begin_for_write, make_engine


def _database(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE playback (id INTEGER PRIMARY KEY, credited_ms INTEGER)")
        conn.exec_driver_sql("INSERT INTO playback VALUES (1, 0)")
    engine.dispose()
    return f"sqlite:///{path}", path


def _heartbeat_writer_commits(path: Path) -> str:
    """What the heartbeat writer does between a request's read and its write: a short write of its own."""
    other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE playback SET credited_ms = credited_ms + 15000")
        other.execute("COMMIT")
        return "committed"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


def _read_then_write(url: str, path: Path, *, for_write: bool) -> tuple[str, str]:
    engine = make_engine(url)
    session = Session(engine)
    try:
        if for_write:
            begin_for_write(session)
        session.execute(text("SELECT credited_ms FROM playback")).scalar_one()
        writer = _heartbeat_writer_commits(path)
        try:
            session.execute(text("UPDATE playback SET credited_ms = credited_ms + 1"))
            session.commit()
            return writer, "written"
        except Exception as exc:  # noqa: BLE001 - the failure is what is being shown
            session.rollback()
            return writer, str(exc.__cause__ or exc)
    finally:
        session.close()
        engine.dispose()


def test_a_plain_transaction_that_read_first_fails_when_another_writer_commits_in_between(tmp_path: Path) -> None:
    url, path = _database(tmp_path)  # the failure the fix is for: it is real, and this check can see it
    assert _read_then_write(url, path, for_write=False) == ("committed", "database is locked")


def test_a_request_that_writes_takes_the_lock_first_and_the_other_writer_waits(tmp_path: Path) -> None:
    url, path = _database(tmp_path)
    writer, ours = _read_then_write(url, path, for_write=True)
    assert ours == "written"
    assert writer == "database is locked"  # it waited (0.2 s here) behind us; the heartbeat writer waits 30 s
    assert _heartbeat_writer_commits(path) == "committed"  # and gets its turn once we are done

