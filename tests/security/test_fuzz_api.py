"""Schemathesis fuzzes the JSON API from the app's own /openapi.json, anonymous and signed in as teacher, trainer,
school admin and district admin: no request may end in a 5xx, every status and content type must be documented,
and every body must match its schema.

Path parameters are the seeded world's records (tests/security/world.py), so generated bodies and queries reach
real courses, lessons, attempts and uploads instead of stopping at 404; every request runs in a savepoint that is
rolled back, so the world stays the same for the next one. Examples are drawn from valid input and from input
that breaks the schema (schemathesis' negative mode): both must end in a documented answer, never a 5xx.

`make test` runs FUZZ_EXAMPLES (default 3) examples per operation and role, on SQLite only (FUZZ_DATABASES): the
matrix already runs every route on both databases, and this stays within its time. `make fuzz` runs many more
examples on both (PostgreSQL also refuses what SQLite lets through, such as over-long strings).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.kit.csrf import CSRF_HEADER
from tests.security.conftest import Harness

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
DATABASES = os.environ.get("FUZZ_DATABASES", "sqlite").split()  # `make fuzz` adds postgresql
# The heartbeat lane answers this one on its own database connections (backend/learning/heartbeat_lane.py), which
# cannot see this module's uncommitted world (on SQLite they would wait for its lock): fuzzed below on committed rows.
HEARTBEATS = "/api/v1/playbacks/{playback_id}/heartbeats"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# The five kinds of actor of the issue; the matrix's second teacher and trainer add nothing to what answers look like.
FUZZ_ROLES = ("anonymous", "teacher", "trainer", "school_admin", "district_admin")


def fuzz_settings(examples: int) -> settings:
    """Reproducible runs (derandomized, no example database), no deadline: the machine is shared with other tests."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_api_never_fails_and_answers_as_declared(harness: Harness, role: str) -> None:
    app = harness.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = get_client(app)
    cookies = harness.world.cookies[role]
    headers = {CSRF_HEADER: harness.world.csrf[role]}
    path_values = {name: str(value) for name, value in harness.world.ids.items()}
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == HEARTBEATS:
            continue
        known = {p.name: path_values[p.name] for p in operation.path_parameters if p.name in path_values}

        @fuzz_settings(EXAMPLES)
        @given(
            case=operation.as_strategy(path_parameters=known)
            | operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known)
            | operation.as_strategy()  # made-up ids too: unknown records end in 404/422, never a 5xx
        )
        def run(case: schemathesis.Case) -> None:
            savepoint = harness.connection.begin_nested()
            try:
                response = case.call(session=client, headers=headers, cookies=cookies)
            finally:
                savepoint.rollback()
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every operation's failure is reported together below
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
