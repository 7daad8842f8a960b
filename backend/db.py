"""Engine and the request-owned session.

Services `flush()`, never `commit()`: the `SessionDep` dependency commits when the route returns and rolls back on
any error, so a request is all-or-nothing. Its exit runs before the response is sent (scope="function"), so a
client never sees success for a write that was not committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Settings


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # WAL lets readers go on while a heartbeat writes; foreign keys are off by default in SQLite.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # FULL: an acknowledged heartbeat survives power loss, not only a process crash.
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A request that will write takes the write lock at BEGIN (see `begin_for_write`).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_SQLITE_WRITE) else "BEGIN")

        return engine
    return create_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True)


_SQLITE_WRITE = "sqlite_write"


def begin_for_write(session: Session) -> None:
    """On SQLite, begins the session's transaction with BEGIN IMMEDIATE. A transaction that read first and writes
    later fails at once with "database is locked" when another writer (the heartbeat writer, say) committed in
    between: SQLite cannot move its snapshot forward, so no busy timeout helps. Holding the write lock from the
    start makes such a request wait its turn instead. For the requests that write the rows the heartbeat writer
    writes (`WriteSessionDep`), not for every request: a request that holds the lock and then opens a second
    session to write would wait for itself. Elsewhere (PostgreSQL), and once the transaction has begun, a no-op."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={_SQLITE_WRITE: True})


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(settings.database_url), expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _session_for_write(session: SessionDep) -> Session:
    begin_for_write(session)
    return session


# Declare it before any other dependency that uses the session (CurrentUser…), so that BEGIN IMMEDIATE comes first.
WriteSessionDep = Annotated[Session, Depends(_session_for_write)]
