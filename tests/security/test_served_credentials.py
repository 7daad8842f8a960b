"""Credentials against the served portal over HTTP (issue 14): an integration token opens only its scopes (never
a heartbeat), personal API tokens end with every event that ends a person's sessions and are listed and revoked,
tokens open /api/v1 only, and only a valid bearer token lets the CSRF check step aside."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts import totp
from backend.accounts.models import Role
from backend.credits.models import ExternalRecord
from backend.db import make_engine
from tests.conftest import new_postgresql_database
from tests.security.served import PASSWORD, Served, bearer, csrf, personal_token, serve, sign_in

HEARTBEAT = {"seq": 1, "position_ms": 0, "playing": True, "visible": True}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("served")
    if request.param == "sqlite":
        with serve(f"sqlite:///{tmp / 'portal.db'}", tmp) as s:
            yield s
        return
    with new_postgresql_database("portal_served") as url, serve(url, tmp) as s:
        yield s


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _signed_in(served: Served, role: Role = Role.teacher):  # type: ignore[no-untyped-def]
    user = served.make_user(_name(role.value), role)
    client = served.client()
    assert sign_in(client, user.username).status_code == 303
    return user, client


def test_an_integration_token_reads_its_scope_and_authenticates_no_heartbeat(served: Served) -> None:
    admin, browser = _signed_in(served, Role.district_admin)
    created = browser.post("/admin/tokens", data={
        "csrf_token": csrf(browser, "/admin/tokens"), "name": "人事系统", "scopes": "records:read", "days": "90",
    })  # fmt: skip
    assert created.status_code == 201
    value = re.search(r"sji_[A-Za-z0-9_-]+", created.text).group(0)  # type: ignore[union-attr]
    script = served.client()

    assert script.get("/api/v1/records/teachers", headers=bearer(value)).status_code == 200
    # Not a person: not the admin who made it, on the API or the heartbeat lane (before: 404, i.e. signed in).
    assert script.get("/api/v1/me", headers=bearer(value)).status_code == 403
    beat = script.post("/api/v1/playbacks/none/heartbeats", json=HEARTBEAT, headers=bearer(value))
    assert beat.status_code == 401 and beat.json()["error"] == "not_authenticated"
    # The admin's own credentials are signed in there (no such playback, so 404).
    own = personal_token(script, admin.username)
    assert script.post("/api/v1/playbacks/none/heartbeats", json=HEARTBEAT, headers=bearer(own)).status_code == 404
    lane = browser.post("/api/v1/playbacks/none/heartbeats", json=HEARTBEAT,
                        headers={"X-CSRF-Token": csrf(browser, "/account")})  # fmt: skip
    assert lane.status_code == 404


def _token_alive(served: Served, token: str) -> bool:
    status = served.client().get("/api/v1/me", headers=bearer(token)).status_code
    assert status in (200, 401), status
    return status == 200


def test_personal_tokens_end_at_log_out_everywhere_and_own_password_change(served: Served) -> None:
    user, browser = _signed_in(served)
    token = personal_token(served.client(), user.username)
    assert _token_alive(served, token)
    assert browser.post("/account/logout-everywhere", data={"csrf_token": csrf(browser)}).status_code == 303
    assert not _token_alive(served, token)

    assert sign_in(browser, user.username).status_code == 303
    token = personal_token(served.client(), user.username)
    changed = browser.post("/account/password", data={
        "csrf_token": csrf(browser), "current": PASSWORD, "password": "another-long-password-7", "confirm":
        "another-long-password-7",
    })  # fmt: skip
    assert changed.status_code == 303
    assert not _token_alive(served, token)


def test_personal_tokens_end_at_an_admins_reset_and_a_role_change(served: Served) -> None:
    _admin, admin_browser = _signed_in(served, Role.district_admin)
    for action, form in (("password-reset", {}), ("role", {"role": "trainer"})):
        user = served.make_user(_name("teacher"))
        token = personal_token(served.client(), user.username)
        assert _token_alive(served, token)
        path = f"/admin/users/{user.id}"
        done = admin_browser.post(f"{path}/{action}", data={"csrf_token": csrf(admin_browser, path), **form})
        assert done.status_code in (200, 303), (action, done.status_code)
        assert not _token_alive(served, token), action


def test_a_token_made_before_two_factor_sign_in_was_turned_on_ends_then(served: Served) -> None:
    user, browser = _signed_in(served)
    token = personal_token(served.client(), user.username)
    page = browser.get("/account/2fa")
    secret = re.search(r'class="secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    on = browser.post("/account/2fa", data={
        "csrf_token": token_field, "code": totp.current_code(secret), "password": PASSWORD,
    })  # fmt: skip
    assert on.status_code == 200 and "<ol" in on.text  # the recovery codes
    assert not _token_alive(served, token)


def test_tokens_are_listed_on_my_account_and_revoked_by_the_owner_or_an_admin(served: Served) -> None:
    user, browser = _signed_in(served)
    first = personal_token(served.client(), user.username)
    second = personal_token(served.client(), user.username)
    assert _token_alive(served, first)
    account = browser.get("/account")
    ids = re.findall(r'action="/account/tokens/(\d+)/revoke"', account.text)
    assert len(ids) == 2 and "api login" in account.text
    # Newest first: the second token is the first row.
    assert browser.post(f"/account/tokens/{ids[0]}/revoke", data={"csrf_token": csrf(browser)}).status_code == 303
    assert not _token_alive(served, second) and _token_alive(served, first)
    assert "last" in account.text.lower() or "最近" in account.text  # the last-use column

    _admin, admin_browser = _signed_in(served, Role.district_admin)
    path = f"/admin/users/{user.id}"
    page = admin_browser.get(path)
    assert f'action="{path}/tokens/{ids[1]}/revoke"' in page.text
    revoked = admin_browser.post(f"{path}/tokens/{ids[1]}/revoke", data={"csrf_token": csrf(admin_browser, path)})
    assert revoked.status_code == 303
    assert not _token_alive(served, first)


def test_a_personal_token_opens_the_api_only_and_a_junk_bearer_header_does_not_skip_csrf(served: Served) -> None:
    user, _browser = _signed_in(served)
    token = personal_token(served.client(), user.username)
    script = served.client()
    # A page: the token is no sign-in there.
    assert script.get("/account", headers=bearer(token)).status_code in (303, 401)
    # A form route: refused (no CSRF step-aside off the API), and nothing is written.
    engine = make_engine(served.database_url)
    try:
        with Session(engine) as session:
            before = session.scalar(select(func.count()).select_from(ExternalRecord))
        form = {"title": "外部培训", "hours": "2", "category": "ethics", "level": "district", "earned_on": "2026-10-01"}
        posted = script.post("/credits/external", data=form, headers=bearer(token))
        assert posted.status_code == 403
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(ExternalRecord)) == before
    finally:
        engine.dispose()
    # A junk bearer header lets nothing past the CSRF check: not the login form, the language switch or the API.
    junk = bearer("not-a-token")
    assert script.post("/login", data={"username": "x", "password": "y"}, headers=junk).status_code == 403
    assert script.post("/lang", data={"lang": "en"}, headers=junk).status_code == 403
    assert script.post("/api/v1/courses/1/enrollment", headers=junk).status_code in (401, 403)
    # A valid token on the API needs no CSRF token (no cookie is involved): the course is simply not there.
    assert script.post("/api/v1/courses/999999/enrollment", headers=bearer(token)).status_code == 404
