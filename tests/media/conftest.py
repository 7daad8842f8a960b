"""Fixtures for media tests: a real S3 endpoint (moto's server in its own process) and both storage backends.

Nothing is mocked: the S3 backend talks HTTP to moto exactly as it would to MinIO, the local backend writes
files.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.config import Settings
from backend.media.storage import Storage, build_storage

S3_ACCESS_KEY = "media-test-access"
S3_SECRET_KEY = "media-test-secret"  # moto accepts any credentials; these only have to be present for signing
SERVER_START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto server exited early with code {server.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on {url} within {SERVER_START_SECONDS} s")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A moto S3 server on a free port, as `host:port`; one per test session, buckets keep tests apart."""
    port = free_port()
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    try:
        _wait_until_answering(f"http://127.0.0.1:{port}/", server)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def s3_settings(endpoint: str, **overrides: object) -> Settings:
    """Settings for the S3 backend against `endpoint`, in a bucket no other test uses."""
    values: dict[str, object] = {
        "storage_backend": "s3",
        "s3_endpoint": endpoint,
        "s3_access_key": S3_ACCESS_KEY,
        "s3_secret_key": S3_SECRET_KEY,
        "s3_bucket": f"media-test-{uuid.uuid4().hex[:12]}",
        "s3_secure": False,
        "s3_region": "us-east-1",
        "s3_public_endpoint": None,  # explicit, so an S3_PUBLIC_ENDPOINT in the environment cannot leak in
        "presigned_url_seconds": 300,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def local_storage(tmp_path: Path) -> Storage:
    return build_storage(Settings(storage_backend="local", media_root=tmp_path / "media"))


@pytest.fixture
def s3_storage(s3_server: str) -> Storage:
    return build_storage(s3_settings(s3_server))


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each test using this runs once per backend, so both honour the same contract."""
    backend: Storage = request.getfixturevalue(f"{request.param}_storage")
    return backend
