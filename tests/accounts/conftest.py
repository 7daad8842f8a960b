"""Fixtures for the accounts tests: a real OpenID Connect provider on localhost (see oidc_provider.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.oidc_provider import Provider, running_provider


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider
