"""Shared pieces for the assessment tests: a trainer who owns a course, teachers enrolled in it, and one logged-in
HTTP client per person (each with its own cookies), all against the real app, database and storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from backend.accounts.models import Role, User
from tests.api.helpers import login


@pytest.fixture
def client_for(app) -> Iterator[Callable[[User], TestClient]]:  # type: ignore[no-untyped-def]
    """A separate logged-in client per user; its CSRF token rides on every request."""
    opened: list[TestClient] = []

    def make(user: User) -> TestClient:
        c = TestClient(app, base_url="http://testserver")
        opened.append(c)
        c.headers["X-CSRF-Token"] = login(c, user.username)
        return c

    yield make
    for c in opened:
        c.close()


__all__ = ["Role"]
