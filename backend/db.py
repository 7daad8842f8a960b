"""Engine and the request-owned session.

Services `flush()`, never `commit()`: the `SessionDep` dependency commits when the route returns and rolls back on
any error, so a request is all-or-nothing — unless the error says `keep` (an AppError with keep=True): then what was
done before it is committed and the error still answers. Its exit runs before the response is sent
(scope="function"), so a client never sees success for a write that was not committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, String, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Settings
from backend.kit import metrics
from backend.kit.errors import AppError
from backend.kit.state import app_state


def configure_sqlite(engine: Engine, *, always_immediate: bool = False) -> None:
    """The one place SQLite connections are set up, for the request engine and the heartbeat writer's (its
    `sync_engine`) alike. `always_immediate`: every transaction takes the write lock at BEGIN (the writer, whose
    batches read then write); otherwise only those begun with `begin_for_write`."""

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
        # Wait for another writer's lock rather than fail at once.
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # A request that will write takes the write lock at BEGIN (see `begin_for_write`).
        immediate = always_immediate or conn.get_execution_options().get(_SQLITE_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        configure_sqlite(engine)
        return watch_pool(engine, "requests")
    return watch_pool(create_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True), "requests")


def watch_pool(engine: Engine, name: str) -> Engine:
    """Connections in use and the pool's size, in the metrics (`portal_db_pool_in_use{pool=name}`)."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    if callable(size):
        metrics.DB_POOL_SIZE.labels(name).set(size() + max(0, getattr(pool, "_max_overflow", 0)))
    in_use = metrics.DB_POOL_IN_USE.labels(name)
    event.listen(engine, "checkout", lambda *_args: in_use.inc())
    event.listen(engine, "checkin", lambda *_args: in_use.dec())
    return engine


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


def end_read_snapshot(session: Session) -> None:
    """On SQLite, ends a transaction that has only read, before a slow step (a password hash) after which it
    writes: writing on a snapshot that others have written since fails at once ("database is locked"; no busy
    timeout helps), so the writes must begin a transaction of their own. A no-op elsewhere (PostgreSQL locks rows)
    and when anything is pending."""
    bind = session.get_bind()
    if (
        isinstance(bind, Engine | Connection) and bind.dialect.name == "sqlite" and session.in_transaction()
        and not (session.new or session.dirty or session.deleted)
    ):  # fmt: skip
        session.commit()


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(settings.database_url), expire_on_commit=False)


def request_sessionmaker(request: Request) -> sessionmaker[Session]:
    """The application's session factory (backend/kit/state.py), for work outside the request's own session."""
    return app_state(request).sessionmaker


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(request_sessionmaker)]


def get_session(request: Request) -> Iterator[Session]:
    session = app_state(request).sessionmaker()
    try:
        yield session
        session.commit()
    except AppError as exc:
        if exc.keep:  # the error says the work done so far stays (a refusal's failure count, a rejected upload)
            session.commit()
        else:
            session.rollback()
        raise
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


def where_key_in(statement: Any, key: Any, keys: set[str] | list[str], sqlite: bool) -> tuple[Any, dict[str, Any]]:
    """`statement` restricted to rows whose `key` is one of `keys`, for the batch writers. PostgreSQL: one array
    parameter, so every batch is the same prepared statement. SQLite: an IN list padded to a power of two, so it
    sees a handful of statement shapes, not hundreds."""
    items = sorted(keys)
    if sqlite:
        size = 1
        while size < len(items):
            size *= 2
        return statement.where(key.in_(items + [items[-1]] * (size - len(items)))), {}
    return statement.where(key == any_(bindparam("keys", type_=ARRAY(String)))), {"keys": items}
