"""An id no database column can hold names no record: every route with a path parameter answers 404 (or refuses
the actor) for one, never a 500 from the database (PostgreSQL: numeric value out of range, SQLite: OverflowError).
Found by schemathesis; fixed once for all routes in backend/kit/path_ids.py.
"""

from __future__ import annotations

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
