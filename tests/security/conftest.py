"""One seeded world per database (module-scoped), and a client that acts as any role of the matrix.

Building the world costs a few seconds (eight password hashes, files in storage), so it is built once per module and
database. Every request then runs inside a savepoint that is rolled back afterwards, so a refused (or allowed) delete
or revoke cannot change what the next request sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from backend.app import create_app
from backend.config import Settings
from backend.db import make_engine
from backend.kit.csrf import CSRF_HEADER
from backend.kit.state import state_of
from backend.media.local import LocalStorage
from backend.policies.service import forget_cached_policy
from tests.security.world import World, build_world

MOMENT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@dataclass
class Harness:
    client: TestClient
    connection: Connection
    world: World

    def request(
        self,
        role: str,
        method: str,
        path: str,
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """`role` sends the request with its cookies (and, unless csrf=False, its CSRF token); nothing it changes
        outlives the request."""
        sent = dict(headers or {})
        if csrf:
            sent.setdefault(CSRF_HEADER, self.world.csrf[role])
        self.client.cookies.clear()
        for name, value in {**self.world.cookies[role], **(cookies or {})}.items():
            self.client.cookies.set(name, value)
        savepoint = self.connection.begin_nested()
        try:
            return self.client.request(method, path, headers=sent, follow_redirects=False, **kw)
        finally:
            savepoint.rollback()
            forget_cached_policy()


@pytest.fixture(scope="module")
def harness(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    media: Path = tmp_path_factory.mktemp("security-media")
    settings = Settings(database_url=database_url, media_root=media, demo_mode=True)
    storage = LocalStorage(media)
    engine = make_engine(database_url)
    connection = engine.connect()
    outer = connection.begin()
    maker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    forget_cached_policy()
    # One fixed moment for the whole module: during the school-based session of the world (2 November 2026, 10:00 in
    # Shanghai), so its check-in code is current and sessions never idle out while the matrix runs.
    patch = pytest.MonkeyPatch()
    patch.setattr("backend.kit.clock.now", lambda: MOMENT)
    try:
        with maker() as session:
            world = build_world(session, storage, settings.secret_key, settings.session_cookie_name)
            session.commit()
        app = create_app(settings)
        state_of(app).sessionmaker = maker
        state_of(app).storage = storage
        with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
            yield Harness(client, connection, world)
    finally:
        patch.undo()
        outer.rollback()
        connection.close()
        engine.dispose()
        forget_cached_policy()
