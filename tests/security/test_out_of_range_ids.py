"""An id no database column can hold names no record: every route with a path parameter answers 404 (or refuses
the actor) for one, never a 500 from the database (PostgreSQL: numeric value out of range, SQLite: OverflowError).
Found by schemathesis; fixed once for all routes in backend/kit/path_ids.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import Harness
from tests.security.route_matrix import MATRIX
from tests.security.routes import PARAM
from tests.security.test_fuzz_api import HEARTBEATS  # its string id goes to the lane's own connections

HUGE = str(10**20)  # beyond PostgreSQL's INTEGER and SQLite's 64-bit INTEGER alike
WITH_PARAMETERS = sorted(
    (route for route in MATRIX if PARAM.search(route[1]) and route[1] != HEARTBEATS), key=lambda r: (r[1], r[0])
)


@pytest.mark.parametrize("route", WITH_PARAMETERS, ids=lambda r: f"{r[0]} {r[1]}")
def test_a_huge_id_in_the_path_is_not_found_not_a_server_error(harness: Harness, route: tuple[str, str]) -> None:
    method, path = route
    url = PARAM.sub(HUGE, path)
    for role in ("district_admin", "teacher"):
        r = harness.request(role, method, url)
        assert r.status_code in (401, 403, 404, 422), f"{method} {url} as {role}: {r.status_code} {r.text[:200]}"


# Numbers in query strings and forms that reach the database unbounded.
QUERIES_AND_FORMS = [
    ("district_admin", "GET", "/admin/teachers", {"params": {"school": HUGE}}),
    ("district_admin", "GET", "/admin/title-review", {"params": {"school": HUGE}}),
    ("district_admin", "GET", "/credits/queue", {"params": {"school": HUGE, "year": HUGE}}),
    ("district_admin", "POST", "/credits/queue", {"data": {"entry": HUGE, "action": "reject", "reason": "证明不全"}}),
    ("trainer", "POST", "/api/v1/courses/{course_id}/quiz/extensions", {"json": {"user_id": int(HUGE), "minutes": 5}}),
]


@pytest.mark.parametrize("role, method, path, body", QUERIES_AND_FORMS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_huge_number_in_a_query_or_form_is_refused_not_a_server_error(
    harness: Harness, role: str, method: str, path: str, body: dict[str, Any]
) -> None:
    r = harness.request(role, method, path.format(**harness.world.ids), **body)
    assert r.status_code < 500, r.text[:300]
    assert r.status_code in (404, 422)


# Text PostgreSQL will not store (SQLite stores it): a NUL character, found by schemathesis in the login name.
NUL_TEXT = [
    ("anonymous", "POST", "/api/v1/auth/login", {"json": {"username": "wang\x00", "password": "x" * 12}}),
    ("trainer", "PATCH", "/api/v1/studio/courses/{draft_course_id}", {"json": {"title": "班会\x00设计"}}),
]


@pytest.mark.parametrize("role, method, path, body", NUL_TEXT, ids=lambda v: v if isinstance(v, str) else "")
def test_text_the_database_cannot_store_is_refused_not_a_server_error(
    harness: Harness, role: str, method: str, path: str, body: dict[str, Any]
) -> None:
    r = harness.request(role, method, path.format(**harness.world.ids), **body)
    assert r.status_code < 500, r.text[:300]
    assert r.status_code in (200, 401, 422)
