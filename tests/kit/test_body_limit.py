"""Request bodies are refused as soon as they pass the portal's limit, while they stream in, and the proxy's limit
is the same number (issue 14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.kit.body_limit import MAX_REQUEST_BYTES
from tests.security.served import Served, csrf, serve, sign_in

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def test_nginx_and_the_portal_refuse_the_same_bodies() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    found = re.search(r"^\s*client_max_body_size\s+(\d+)m;", conf, re.MULTILINE)
    assert found is not None and int(found.group(1)) * MB == MAX_REQUEST_BYTES


def test_a_declared_length_past_the_limit_is_refused_before_the_body_is_read(client, session) -> None:
    from tests.api.helpers import login
    from tests.factories import make_user

    token = login(client, make_user(session).username)
    r = client.post("/lang", content=b"x" * (MAX_REQUEST_BYTES + 1),
                    headers={"content-type": "application/x-www-form-urlencoded", "X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 413


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path) as s:
        yield s


def test_a_chunked_upload_without_a_length_is_cut_off_at_the_limit(served: Served) -> None:
    """Over real HTTP: a form with a 200 MB file sent in chunks (no Content-Length, so no declared size to check)
    is answered 413, or the connection closed, long before the client has sent it all."""
    user = served.make_user("bigsender")
    client = served.client()
    assert sign_in(client, user.username).status_code == 303
    token = csrf(client, "/credits/external")
    sent = 0
    boundary = "portal-test-boundary"

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"证明.pdf\"\r\n"
               "Content-Type: application/pdf\r\n\r\n").encode()
        block = b"x" * MB
        for _ in range(200):
            sent += len(block)
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    try:
        r = client.post("/credits/external", content=body(), headers={
            "content-type": f"multipart/form-data; boundary={boundary}", "X-CSRF-Token": token,
        })  # fmt: skip
        assert r.status_code == 413
    except httpx.TransportError:
        pass  # the server stopped reading and closed the connection: also a refusal
    assert sent < 100 * MB, sent
