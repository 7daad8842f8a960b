"""Bad input and responses (issue 14): one same-origin check of every `next=`, no-store on whatever answers a
credential, the security headers on every response (a 500 and the heartbeat lane's answers included), the lane's
errors in the app's one error body, and an impossible date a 422."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.kit.web import same_origin_path
from backend.learning import heartbeat_lane
from tests.api.helpers import csrf_from, login
from tests.factories import make_user


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("/courses?tier=horizon", "/courses?tier=horizon"),
        ("/中", "/%E4%B8%AD"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        ("/" + "a" * 600, "/"),
    ],
)
def test_one_check_keeps_next_on_this_site(raw: str, kept: str) -> None:
    assert same_origin_path(raw) == kept


def test_next_is_checked_on_the_login_form_and_in_hx_redirect(client, session) -> None:
    teacher = make_user(session)
    token = csrf_from(client)
    # htmx sign-in with a non-ASCII path: HX-Redirect is an ASCII header, not a server error.
    r = client.post("/login", data={"username": teacher.username, "password": "correct-horse-battery",
                                    "csrf_token": token, "next": "/中"}, headers={"HX-Request": "true"})  # fmt: skip
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/%E4%B8%AD"
    page = client.get("/login", params={"next": "/\\evil.example"})
    assert "evil.example" not in page.text
    r = client.post("/lang", data={"lang": "en", "next": "/\\evil.example", "csrf_token": csrf_from(client)},
                    headers={"HX-Request": "true"})  # fmt: skip
    assert r.headers["HX-Redirect"] == "/"


def test_authenticated_answers_are_not_stored_and_static_files_may_be(client, session) -> None:
    login(client, make_user(session).username)
    for path in ("/account", "/learning", "/api/v1/me"):
        assert client.get(path).headers.get("cache-control") == "no-store", path
    assert client.get("/static/css/portal.css").headers.get("cache-control") != "no-store"


def test_a_server_error_carries_the_security_headers(app, session) -> None:
    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom-for-test")
    assert r.status_code == 500
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] in ("DENY", "SAMEORIGIN")


def test_an_overflowing_date_filter_is_a_422_not_a_500(client, session) -> None:
    from backend.accounts.models import Role

    login(client, make_user(session, Role.district_admin, None).username)
    r = client.get("/admin/audit", params={"until": "9999-12-31"})
    assert r.status_code == 422
    assert client.get("/admin/audit", params={"until": "2026-12-31"}).status_code == 200


class TestTheLaneBehindTLS:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
        return Settings(database_url=database_url, media_root=tmp_path / "media", cookie_secure=True)

    def test_the_heartbeat_lane_answers_with_the_apps_headers_and_error_body(self, app, session) -> None:
        teacher = make_user(session)
        with TestClient(app, base_url="https://testserver") as client:
            token = login(client, teacher.username)
            bad = client.post("/api/v1/playbacks/p-1/heartbeats", json={"seq": 0, "playing": True},
                              headers={"X-CSRF-Token": token})  # fmt: skip
        assert bad.status_code == 422
        body = bad.json()
        assert body["error"] == "invalid_input" and {"seq", "position_ms", "visible"} <= set(body["fields"])
        for header in ("content-security-policy", "cross-origin-opener-policy", "permissions-policy",
                       "strict-transport-security", "x-content-type-options", "referrer-policy"):
            assert header in bad.headers, header
        assert bad.headers["cache-control"] == "no-store"


def test_the_documented_heartbeat_route_is_declared_from_the_lane(app) -> None:
    path = heartbeat_lane.PREFIX + heartbeat_lane.ROUTE
    routes = [r for r in iter_route_contexts(app.routes) if str(r.path) == path]
    assert len(routes) == 1 and routes[0].response_model is heartbeat_lane.DOC["response_model"]
    assert heartbeat_lane.HEARTBEAT_PATH.match("/api/v1/playbacks/abc/heartbeats")
    assert "/api/v1/playbacks/{playback_id}/heartbeats" in app.openapi()["paths"]
