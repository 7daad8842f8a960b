"""The portal as it is served (`portal serve`, uvicorn, the heartbeat lane and sign-in gate in front) on a database
of its own, and an HTTP client that signs in as a person does: the login form, its CSRF token, the cookies.

For the cases that must hold over real HTTP (issue 14): integration tokens, the life of personal tokens, which
credential opens what, and sign-in under a flood.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

import backend.models_registry  # noqa: F401 - every table, so foreign keys resolve
from backend.accounts import service as accounts
from backend.accounts.models import Role, User
from backend.db import make_engine
from backend.migrate import upgrade
from backend.policies.service import forget_cached_policy

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / ".venv" / "bin" / "portal"
PASSWORD = "a-long-served-password-9"  # noqa: S105 - a test account's password
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    database_url: str
    log: Path

    def make_user(self, username: str, role: Role = Role.teacher) -> User:
        """An account made through the accounts service, committed, so the server sees it."""
        engine = make_engine(self.database_url)
        try:
            with Session(engine, expire_on_commit=False) as session:
                user = accounts.create_user(
                    session, username=username, display_name=username, password=PASSWORD, role=role
                )
                session.commit()
                return user
        finally:
            engine.dispose()
            forget_cached_policy()

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        """A client whose connections come from `address` (any of 127.0.0.0/8: another "person" to the server)."""
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.url, transport=transport, timeout=30, follow_redirects=False)


def csrf(client: httpx.Client, path: str = "/account") -> str:
    page = client.get(path)
    found = TOKEN_RE.search(page.text)
    assert found, (path, page.status_code, page.text[:300])
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})


def personal_token(client: httpx.Client, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serve(database_url: str, tmp: Path, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[Served]:
    """Migrates `database_url` and serves the portal on it (demo mode: admins need no second factor)."""
    upgrade(database_url)
    port = free_port()
    environment = os.environ.copy()
    environment.pop("SECRET_KEY", None)
    environment.update({
        "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp / "media"), "STORAGE_BACKEND": "local",
        "DEMO_MODE": "true", "PYTHONUNBUFFERED": "1", **(env or {}),
    })  # fmt: skip
    log = tmp / f"served-{port}.log"
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(  # noqa: S603 - the project's own command
            [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=environment, cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(server, url, log, 60)
            yield Served(url=url, database_url=database_url, log=log)
        finally:
            stop(server)


def wait_until_serving(server: subprocess.Popen[bytes], url: str, log: Path, seconds: float) -> None:
    """Until `url`/healthz answers 200; the server's log in the error when it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"portal serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"portal serve did not answer /healthz in {seconds:g} s:\n{log.read_text()}")
        time.sleep(0.2)


def stop(server: subprocess.Popen[bytes], seconds: float = 15) -> None:
    server.terminate()
    try:
        server.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
