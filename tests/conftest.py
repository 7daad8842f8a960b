"""Test harness on real parts: SQLite and PostgreSQL migrated by Alembic once per run; each test in a
transaction that is rolled back; real storage (a local folder, or a moto S3 server in tests/media)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from backend.accounts import hashing
from backend.app import create_app
from backend.config import Settings
from backend.db import make_engine
from backend.kit.state import state_of
from backend.media.local import LocalStorage
from backend.migrate import upgrade
from backend.policies.service import forget_cached_policy

# The suite signs in far faster than a person does: no sign-in rate limit for the app under test, here and in the
# servers the browser tests start (they inherit this environment). tests/accounts/test_hashing.py and
# tests/accounts/test_login_gate.py test the limits with pools of their own.
os.environ["PASSWORD_HASH_PER_S"], os.environ["PASSWORD_HASH_QUEUE"] = "0", "8"
hashing.pool.per_second, hashing.pool.max_waiting = 0.0, 8

# The app under test (and the servers browser tests start) signs CSRF tokens and check-in codes with this key, so
# tests can mint a code as a projector would; a demo installation makes a random one (tests/test_settings.py).
TEST_SECRET_KEY = "test-secret-key-of-the-suite-0123456789abcdef"  # noqa: S105 - tests only
os.environ["SECRET_KEY"] = TEST_SECRET_KEY

PG_ADMIN = os.environ.get("TEST_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@contextmanager
def new_postgresql_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own (empty: no schema), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(db=name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with new_postgresql_database("portal_test") as url:
        try:
            upgrade(url)
            yield url
        finally:
            from backend.db import engine_for

            engine_for(url).dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, on each of the two, for tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.db'}"
        return
    with new_postgresql_database("portal_mig") as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every test that touches the database runs on both; the test id shows which ([sqlite] / [postgresql])."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    engine = make_engine(database_url)
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()
        engine.dispose()


@pytest.fixture
def session_maker(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test release a savepoint; the outer transaction is rolled back.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_maker: sessionmaker[Session]) -> Iterator[Session]:
    forget_cached_policy()
    with session_maker() as s:
        yield s
    forget_cached_policy()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, media_root=tmp_path / "media", demo_mode=True)


@pytest.fixture
def app(settings: Settings, session_maker: sessionmaker[Session], storage: LocalStorage):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    state_of(application).sessionmaker = session_maker
    state_of(application).storage = storage
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


class ManualClock:
    """The server clock, advanced by the test: heartbeats are judged by elapsed server time."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.current = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)

    def now(self):  # type: ignore[no-untyped-def]
        return self.current

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    manual = ManualClock()
    monkeypatch.setattr("backend.kit.clock.now", manual.now)
    return manual


@pytest.fixture(scope="session")
def sqlite_live_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_live_url() -> Iterator[str]:
    with new_postgresql_database("portal_live") as url:
        try:
            upgrade(url)
            yield url
        finally:
            from backend.db import engine_for

            engine_for(url).dispose()


@pytest.fixture(scope="session")
def live_database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """A second migrated database of the same kind, for tests whose rows are committed: kept apart from the
    rolled-back tests' database, so what they leave behind never shows up in another test's lists."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    return request.getfixturevalue(f"{kind}_live_url")


@pytest.fixture
def live_session_maker(live_database_url: str) -> Iterator[sessionmaker[Session]]:
    """Committing sessions on the live test database, for the heartbeat hot path, which writes through its
    own connections and so cannot see a test's uncommitted rows. Tests using it create their own users."""
    engine = make_engine(live_database_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def live_client(live_database_url: str, tmp_path: Path, live_session_maker) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    forget_cached_policy()
    application = create_app(Settings(database_url=live_database_url, media_root=tmp_path / "media", demo_mode=True))
    state_of(application).sessionmaker = live_session_maker
    state_of(application).storage = LocalStorage(tmp_path / "media")
    with TestClient(application, base_url="http://testserver") as c:
        yield c
    forget_cached_policy()
