"""CSRF: every state-changing route of the app's route table refuses a cookie-authenticated request that does not
carry a valid token (backend/kit/csrf.py, the signed double-submit cookie), with 403 and the CSRF message.

Each route is called as a role the matrix lets through (so a 403 cannot come from authorisation: the message says
which refusal it is), with the body the matrix sends, once without a token and once with the token of another
browser's cookie. The only exemptions are the documented ones in backend/kit/csrf.py EXEMPT_PATHS, each justified
below; a new exemption fails here until it is.

Only on SQLite: the token is checked by an app-wide dependency before any route reads the database, so PostgreSQL
would repeat the same answers (the matrix, which does depend on the database, runs on both).
"""

from __future__ import annotations

import pytest
from markupsafe import escape

from backend.kit.csrf import CSRF_HEADER, EXEMPT_PATHS, token_for
from backend.kit.i18n import translate
from backend.kit.state import state_of
from tests.security.conftest import Harness
from tests.security.route_matrix import MATRIX
from tests.security.routes import fill

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_MESSAGE = "The form has expired or was not sent from this site. Reload the page and try again."
# Why each exempt path is safe without a token.
JUSTIFIED = {
    "/api/v1/auth/token": "exchanges a password for a bearer token in the JSON body: it sets no cookie and reads "
    "none, and a cross-site page cannot read the answer (no CORS), so a forged request gains the attacker nothing",
    "/bench/baseline": "exists only in the bench's own server (bench/server.py), never in the portal's app; it "
    "stores a probe row of nobody's and authenticates nobody",
}
STATE_CHANGING = sorted(
    (route for route in MATRIX if route[0] in UNSAFE and route[1] not in EXEMPT_PATHS),
    key=lambda r: (r[1], r[0]),
)


def test_every_csrf_exemption_is_justified() -> None:
    assert set(EXEMPT_PATHS) == set(JUSTIFIED)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_exempt_token_exchange_sets_no_cookie(harness: Harness) -> None:
    user = harness.world.users["teacher"]
    r = harness.request(
        "anonymous",
        "POST",
        "/api/v1/auth/token",
        csrf=False,
        json={"username": user.username, "password": "wrong-password-1234"},
    )
    assert r.status_code == 401
    assert not [c for c in r.headers.get_list("set-cookie") if c.startswith("portal_session=")]


def _actor(route: tuple[str, str]) -> str:
    """A role the matrix lets through (a signed-in one where there is one), so only the token can refuse it."""
    allowed = MATRIX[route].allowed
    for role in ("teacher", "trainer", "school_admin_own", "district_admin", "other_teacher", "anonymous"):
        if role in allowed:
            return role
    return "district_admin"  # routes nobody reaches with a session: the token is checked before anything else


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", STATE_CHANGING, ids=lambda r: f"{r[0]} {r[1]}")
def test_state_changing_route_refuses_a_request_without_a_valid_token(harness: Harness, route: tuple[str, str]) -> None:
    method, path = route
    expect = MATRIX[route]
    ids = harness.world.ids
    role = _actor(route)
    body = expect.body(ids)
    url = fill(path, ids, expect.params)
    message = translate("zh_CN", CSRF_MESSAGE)
    someone_elses = token_for(state_of(harness.client.app).settings.secret_key, "another-browser-cookie")
    for headers in ({}, {CSRF_HEADER: someone_elses}):
        r = harness.request(role, method, url, csrf=False, headers=headers, **body)
        assert r.status_code == 403, f"{method} {url} as {role} with {headers or 'no token'}: {r.status_code}"
        assert message in r.text or str(escape(message)) in r.text, r.text[:300]
