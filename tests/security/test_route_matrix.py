"""The authorisation matrix: every route of the app (its own route table) as every role, against a seeded world
of two schools, with the outcome stated by hand in tests/security/route_matrix.py.

Allowed means the request got past authorisation (not 401, 403 or 404, not sent to log in); refused means 401
(anonymous; HTML pages send them to /login with 303), 403 or 404 (hiding that the record exists is fine).
No request may end in a 5xx. A route added without an entry in the matrix fails the first test.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.app import create_app
from backend.config import Settings
from tests.security.conftest import Harness
from tests.security.route_matrix import MATRIX, Expect
from tests.security.routes import fill, route_table
from tests.security.world import ROLES, SESSION_TITLE

REFUSED = frozenset({401, 403, 404})


def test_every_route_of_the_app_has_an_entry_in_the_matrix_and_every_entry_a_route(tmp_path) -> None:
    table = route_table(create_app(Settings(database_url="sqlite://", media_root=tmp_path, demo_mode=True)))
    missing = sorted(table - MATRIX.keys(), key=lambda r: (r[1], r[0]))
    stale = sorted(MATRIX.keys() - table, key=lambda r: (r[1], r[0]))
    assert not missing, f"routes without an entry in tests/security/route_matrix.py: {missing}"
    assert not stale, f"entries in tests/security/route_matrix.py for routes that no longer exist: {stale}"


def outcome(response: httpx.Response, expect: Expect, allowed: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if allowed and status in expect.allowed_as:
        return "allowed"
    if status in REFUSED or (not allowed and status in expect.refused_as):
        return "refused"
    location = urlsplit(response.headers.get("location", ""))
    if status in (302, 303, 307) and location.path == "/login" and "next" in parse_qs(location.query):
        return "refused"
    return "allowed"


@pytest.mark.parametrize("route", sorted(MATRIX, key=lambda r: (r[1], r[0])), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_as_every_role(harness: Harness, route: tuple[str, str]) -> None:
    method, path = route
    expect = MATRIX[route]
    ids = harness.world.ids
    url = fill(path, ids, expect.params)
    body = expect.body(ids)
    wrong = []
    for role in ROLES:
        response = harness.request(role, method, url, **body)
        should = role in expect.allowed
        got = outcome(response, expect, should)
        if got != ("allowed" if should else "refused"):
            wrong.append(
                f"{role}: expected {'allowed' if should else 'refused'}, got {response.status_code} "
                f"{response.headers.get('location', '')} {response.text[:160]!r}"
            )
    assert not wrong, f"{method} {url}\n" + "\n".join(wrong)


# Lists a school admin may open: school A's admin must find none of school B's people or records in them, while
# school B's admin finds them (so the check cannot pass on an empty page).
SCHOOL_LISTS = [
    "/admin/teachers",
    "/admin/users",
    "/admin/hours",
    "/credits/queue",
    "/admin/certificates",
    "/admin/title-review",
    "/training",
    "/training/compliance",
    "/organisation/classes",
    "/organisation/mentoring",
    "/organisation/pool",
]


@pytest.mark.parametrize("path", SCHOOL_LISTS)
def test_school_a_admin_finds_none_of_school_b_in_a_list(harness: Harness, path: str) -> None:
    teacher = harness.world.users["teacher"]
    of_school_b = (teacher.username, teacher.display_name, SESSION_TITLE)
    own = harness.request("school_admin_own", "GET", path)
    other = harness.request("school_admin", "GET", path)
    assert own.status_code == other.status_code == 200
    assert any(mark in own.text for mark in of_school_b)
    assert not [mark for mark in of_school_b if mark in other.text]
