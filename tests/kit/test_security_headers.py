"""Every page carries a strict Content-Security-Policy and the other protective headers; a stored file that a
browser could run (HTML, SVG) is only ever a download, sandboxed, never a page on the portal's origin."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.learning import service as learning
from tests.api.helpers import csrf_from, login
from tests.factories import PASSWORD, make_course, make_user

EVIL_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/v1/me")</script></svg>'


def _directives(header: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else "" for part in header.split("; ")}


def test_pages_carry_a_strict_content_security_policy(client, session) -> None:
    teacher = make_user(session)
    login(client, teacher.username)
    for path in ("/login", "/courses", "/learning", "/account"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = _directives(r.headers["content-security-policy"])
        assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'" and "unsafe" not in csp["style-src"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
        # No inline script and no on*= handlers anywhere in the markup.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path
        assert not re.search(r"\son[a-z]+\s*=", r.text), path


def test_json_answers_are_sandboxed_documents(client, session) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert "sandbox" in r.headers["content-security-policy"] and r.headers["x-content-type-options"] == "nosniff"


def test_a_stored_svg_with_script_is_served_as_a_sandboxed_download(client, session, storage) -> None:
    storage.put_stream("lessons/evil.svg", io.BytesIO(EVIL_SVG), len(EVIL_SVG), "image/svg+xml")
    course = make_course(session)
    lesson = course.lessons[0]
    lesson.media_key, lesson.media_type = "lessons/evil.svg", "image/svg+xml"
    teacher = make_user(session)
    learning.enroll(session, teacher.id, course)
    session.flush()
    login(client, teacher.username)
    r = client.get(f"/lessons/{lesson.id}/video")
    assert r.status_code == 200 and r.content == EVIL_SVG
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == "attachment"
    assert "sandbox" in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]


class TestBehindTLS:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
        return Settings(database_url=database_url, media_root=tmp_path / "media", cookie_secure=True)

    def test_cookies_are_secure_httponly_and_samesite_and_hsts_is_on(self, app, session) -> None:
        teacher = make_user(session)
        client = TestClient(app, base_url="https://testserver")  # a browser sends Secure cookies over TLS only
        r = client.post("/login", data={"username": teacher.username, "password": PASSWORD,
                                        "csrf_token": csrf_from(client)}, follow_redirects=False)  # fmt: skip
        cookies = r.headers.get_list("set-cookie")
        assert {c.split("=", 1)[0] for c in cookies} >= {"portal_session", "portal_csrf"}
        for cookie in cookies:
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
