"""Upload bench: the server's memory growth and the throughput while it receives a 1 GB upload in 8 MiB chunks.

`measure_upload(...)` drives a running server through the real upload API (the same requests upload.js sends)
and samples the server's resident memory (VmRSS in /proc/<pid>/status, of the given process and its children,
e.g. uvicorn workers) before and during the chunk PUTs. The bytes are random-ish, behind an MP4 header so the
first chunk passes the server's content sniffing; being no real video, the upload is cancelled at the end
instead of completed (completion would reject it), which also checks that cancelling cleans up.

Run alone, `python bench/upload_bench.py [size_mb]` starts uvicorn on a spare port with a throwaway SQLite
database and local media folder (or S3 at BENCH_S3_ENDPOINT, host:port), logs in a trainer, measures, and
prints one JSON line last.
Target (issue 4): upload_rss_growth_mb < 64.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SESSION_COOKIE = "portal_session"
CSRF_COOKIE = "portal_csrf"
TARGET_RSS_GROWTH_MB = 64
SAMPLE_SECONDS = 0.02
# An MP4 `ftyp` box: the first chunk must look like the video it claims to be.
MP4_HEADER = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
_MIB = 1024 * 1024


def rss_kb(pid: int) -> int:
    """Resident memory of one process in KiB, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(root: int) -> list[int]:
    """The process and all its descendants (uvicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


class RssSampler:
    """Samples every process of the server's tree in a thread; growth = max over processes of peak − baseline."""

    def __init__(self, server_pid: int) -> None:
        self.pids = process_tree(server_pid)
        self.baseline = {pid: rss_kb(pid) for pid in self.pids}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        for pid in self.pids:
            self.peak[pid] = max(self.peak[pid], rss_kb(pid))

    @property
    def growth_mb(self) -> float:
        return max((self.peak[pid] - self.baseline[pid]) / 1024 for pid in self.pids)

    @property
    def baseline_mb(self) -> float:
        return sum(self.baseline.values()) / 1024


def _chunks(size: int, chunk_size: int) -> Any:
    """Chunk bodies: one random 8 MiB block, varied per chunk, so nothing compresses or deduplicates."""
    block = bytearray(os.urandom(chunk_size))
    block[: len(MP4_HEADER)] = MP4_HEADER
    for index in range(-(-size // chunk_size)):
        if index:
            block[:8] = index.to_bytes(8, "big")
        length = min(chunk_size, size - index * chunk_size)
        yield index, bytes(block[:length])


def _upload(client: httpx.Client, size: int) -> tuple[int, float]:
    """Create an upload, PUT every chunk, cancel it; returns (bytes sent, seconds spent in the PUTs)."""
    created = client.post("/api/v1/uploads", json={"filename": "bench.mp4", "size": size, "kind": "video"})
    created.raise_for_status()
    upload = created.json()
    sent, spent = 0, 0.0
    try:
        for index, body in _chunks(size, upload["chunk_size"]):
            first = index * upload["chunk_size"]
            started = time.perf_counter()
            r = client.put(
                f"/api/v1/uploads/{upload['upload_id']}/chunks/{index}",
                content=body,
                headers={"Content-Type": "application/octet-stream",
                         "Content-Range": f"bytes {first}-{first + len(body) - 1}/{size}"},
            )
            spent += time.perf_counter() - started
            r.raise_for_status()
            sent += len(body)
        status = client.get(f"/api/v1/uploads/{upload['upload_id']}").json()
        if status["received"] != size:
            raise RuntimeError(f"server holds {status['received']} of {size} bytes")
    finally:
        client.delete(f"/api/v1/uploads/{upload['upload_id']}").raise_for_status()
    return sent, spent


def measure_upload(
    base_url: str,
    cookie_token: str,
    csrf_cookie: str,
    csrf_token: str,
    server_pid: int,
    size_mb: int = 1024,
) -> dict[str, float]:
    """Upload `size_mb` MiB to the server at `base_url` as the trainer whose session cookie is `cookie_token`
    (`csrf_cookie`/`csrf_token`: the portal_csrf cookie and its token from a page), sampling the memory of
    `server_pid` and its children. Returns upload_mb_per_s and upload_rss_growth_mb (peak − before)."""
    cookies = {SESSION_COOKIE: cookie_token, CSRF_COOKIE: csrf_cookie}
    headers = {"X-CSRF-Token": csrf_token, "Accept": "application/json"}
    with httpx.Client(base_url=base_url, cookies=cookies, headers=headers, timeout=120.0) as client:
        _upload(client, 2 * _MIB)  # warm up: imports, connection pools, first-request allocations
        time.sleep(0.5)
        with RssSampler(server_pid) as sampler:
            sent, spent = _upload(client, size_mb * _MIB)
    return {
        "upload_mb_per_s": round(sent / _MIB / spent, 1),
        "upload_rss_growth_mb": round(sampler.growth_mb, 1),
        "upload_rss_before_mb": round(sampler.baseline_mb, 1),
        "upload_size_mb": size_mb,
    }


# --- standalone run -----------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(database_url: str, username: str, password: str) -> None:
    from sqlalchemy.orm import Session

    from backend.accounts import service as accounts
    from backend.accounts.models import Role
    from backend.db import make_engine
    from backend.migrate import upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        accounts.create_user(
            session, username=username, display_name="上传测试", password=password, role=Role.trainer
        )
        session.commit()
    engine.dispose()


def _login(base_url: str, username: str, password: str) -> tuple[str, str, str]:
    """(session cookie, CSRF cookie, CSRF token) after logging in through the form, as a browser does."""
    import re

    token_re = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
    with httpx.Client(base_url=base_url) as client:
        token = token_re.search(client.get("/login").text)[1]  # type: ignore[index]
        r = client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})
        if r.status_code != 303:
            raise RuntimeError(f"login failed: {r.status_code}")
        page = client.get("/studio/uploads/new")
        page.raise_for_status()
        return client.cookies[SESSION_COOKIE], client.cookies[CSRF_COOKIE], token_re.search(page.text)[1]  # type: ignore[index]


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_UPLOAD_MB", "1024"))
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as folder:
        database_url = f"sqlite:///{folder}/bench.db"
        username, password = "bench-trainer", "bench-password-123"  # noqa: S105 - a throwaway database
        _prepare(database_url, username, password)
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": f"{folder}/media",
               "STORAGE_BACKEND": "local", "DEMO_MODE": "true"}
        if os.environ.get("BENCH_S3_ENDPOINT"):  # e.g. a MinIO or moto server: the S3 multipart path instead
            env |= {"STORAGE_BACKEND": "s3", "S3_ENDPOINT": os.environ["BENCH_S3_ENDPOINT"],
                    "S3_ACCESS_KEY": os.environ.get("S3_ACCESS_KEY", "bench"),
                    "S3_SECRET_KEY": os.environ.get("S3_SECRET_KEY", "bench-secret"), "S3_BUCKET": "upload-bench"}
        server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base_url}/login", timeout=1.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            cookie, csrf_cookie, csrf_token = _login(base_url, username, password)
            result = measure_upload(base_url, cookie, csrf_cookie, csrf_token, server.pid, size_mb=size_mb)
            leftover = [p for p in Path(folder, "media").rglob("*") if p.is_file()]
            result["upload_leftover_files"] = len(leftover)
        finally:
            server.terminate()
            server.wait(timeout=30)
    verdict = "ok" if result["upload_rss_growth_mb"] < TARGET_RSS_GROWTH_MB else "OVER TARGET"
    print(f"upload {size_mb} MiB: {result['upload_mb_per_s']} MB/s, server RSS +{result['upload_rss_growth_mb']} MB "
          f"(target < {TARGET_RSS_GROWTH_MB} MB: {verdict})", flush=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
