"""Log in through the real login form, the way a browser does, and carry the CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import PASSWORD

TOKEN_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(client: TestClient, path: str = "/login") -> str:
    html = client.get(path).text
    match = TOKEN_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Logs in and returns the CSRF token for the new session."""
    token = csrf_from(client)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_from(client, "/courses")
