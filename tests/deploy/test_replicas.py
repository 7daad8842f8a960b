"""Two portal replicas behind deploy/nginx.conf, on one PostgreSQL database: a teacher's requests go to either
replica, one after the other, and nothing breaks. Signing in, forms (CSRF), enrolling, playing a lesson and its
heartbeats (in order, a resend not counted twice), and logging out all work whichever replica answers, because
no replica keeps anything about a user in its memory (the roadmap: stateless replicas behind a proxy)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import new_postgresql_database
from tests.media.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, s3_server  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / ".venv" / "bin" / "portal"
PYTHON = ROOT / ".venv" / "bin" / "python"
# The browser tests' course claims 4 credit hours for an 8-second clip and a page of reading; the importer applies the
# studio's rule (content minutes per credit hour, policy), so these replicas count 1 minute a credit hour, as the
# browser tests' server does (tests/browser/conftest.py).
SHORT_CONTENT_POLICY = """
import backend.models_registry
from backend.config import get_settings
from backend.db import session_factory
from backend.policies.service import set_policy

session = session_factory(get_settings())()
set_policy(session, "minutes_per_credit_hour", 1, None)
session.commit()
"""
COURSES = ROOT / "tests" / "browser" / "fixtures" / "courses"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEACHER, PASSWORD = "replica-teacher", "Replica-teacher-2026"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not start:\n{log.read_text(errors='replace')[-3000:]}")


def nginx_conf(replicas: list[int], port: int, folder: Path) -> str:
    """deploy/nginx.conf as shipped, with this test's ports and a private folder for its pid and logs."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+.*$", conf, flags=re.M)
    assert len(servers) == 2, "deploy/nginx.conf names two replicas"
    for line, replica in zip(servers, replicas, strict=True):
        conf = conf.replace(line, re.sub(r":\d+", f":{replica}", line, count=1))
    conf = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", conf)
    conf = conf.replace("/run/nginx-portal.pid", str(folder / "nginx.pid"))
    conf = conf.replace("/var/log/nginx/", f"{folder}/")
    conf = conf.replace("worker_processes auto;", "worker_processes 1;")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):  # not under /var/lib/nginx, which needs root
        conf = conf.replace("http {", f"http {{\n    {temp}_temp_path {folder}/{temp};", 1)
    return conf


@dataclass
class Deployment:
    url: str
    database_url: str
    replica_logs: list[Path]
    replica_ports: list[int]


@pytest.fixture(scope="module", params=["local", "s3"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The replicas share their media through a folder both can reach, or (as in production) an S3 bucket."""
    folder = tmp_path_factory.mktemp("deploy")
    if request.param == "s3":
        media = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT": request.getfixturevalue("s3_server"),
                 "S3_ACCESS_KEY": S3_ACCESS_KEY, "S3_SECRET_KEY": S3_SECRET_KEY,
                 "S3_BUCKET": f"replicas-{uuid.uuid4().hex[:12]}"}
    else:
        media = {"STORAGE_BACKEND": "local", "MEDIA_ROOT": str(folder / "media")}
    with new_postgresql_database("portal_replicas") as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "replicas-share-this-secret-0123456789abcdef",  # every replica signs with the same key
            **media,
            "DEMO_MODE": "false",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        for command in (
            ["db", "upgrade"],
            ["users", "create", TEACHER, "--role", "teacher", "--name", "两地老师", "--password", PASSWORD],
            [SHORT_CONTENT_POLICY],
            ["courses", "import", str(COURSES), "--publish", "--demo-media"],
        ):
            program = [str(PYTHON), "-c", *command] if command == [SHORT_CONTENT_POLICY] else [str(PORTAL), *command]
            subprocess.run(program, env=env, cwd=folder, check=True, capture_output=True)  # noqa: S603
        ports, processes, logs = [_free_port(), _free_port()], [], []
        try:
            for n, port in enumerate(ports, start=1):
                log = folder / f"replica-{n}.log"
                logs.append(log)
                processes.append(subprocess.Popen(  # noqa: S603
                    [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env={**env, "METRICS_DIR": str(folder / f"metrics-{n}")}, cwd=folder,
                    stdout=log.open("wb"), stderr=subprocess.STDOUT,
                ))
            for port, process, log in zip(ports, processes, logs, strict=True):
                _wait_for(f"http://127.0.0.1:{port}", process, log)
            proxy_port = _free_port()
            conf = folder / "nginx.conf"
            conf.write_text(nginx_conf(ports, proxy_port, folder))
            nginx_log = folder / "nginx.out"
            processes.append(subprocess.Popen(  # noqa: S603
                [NGINX, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"],
                stdout=nginx_log.open("wb"), stderr=subprocess.STDOUT,
            ))
            _wait_for(f"http://127.0.0.1:{proxy_port}", processes[-1], nginx_log)
            yield Deployment(f"http://127.0.0.1:{proxy_port}", database_url, logs, ports)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def _served(log: Path, method: str, route: str) -> int:
    """Requests a replica logged (one JSON access line each)."""
    lines = [json.loads(line) for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    return sum(1 for line in lines if line.get("method") == method and line.get("route") == route)


def _heartbeats(port: int) -> float:
    """Heartbeats a replica wrote, from its /metrics (successful ones are counted, not logged)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(
        sample.value for family in text_string_to_metric_families(text) for sample in family.samples
        if sample.name == "portal_heartbeats_total"
    )


def _video_lesson(database_url: str) -> tuple[int, int]:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT c.id, l.id FROM courses c JOIN lessons l ON l.course_id = c.id "
            "WHERE c.code = 'E2E-01' AND l.kind = 'video' ORDER BY c.id DESC, l.position LIMIT 1"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_teacher_learns_through_the_proxy_whichever_replica_answers(deployment: Deployment) -> None:
    course_id, lesson_id = _video_lesson(deployment.database_url)
    with httpx.Client(base_url=deployment.url, timeout=30) as browser:
        token = TOKEN_RE.search(browser.get("/login").text).group(1)  # type: ignore[union-attr]
        signed_in = browser.post("/login", data={"username": TEACHER, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 303, signed_in.text
        # Every page after this one may come from the other replica: the session and CSRF cookie must work there.
        for _ in range(4):
            assert browser.get("/api/v1/me").json()["username"] == TEACHER
        token = TOKEN_RE.search(browser.get("/courses").text).group(1)  # type: ignore[union-attr]
        headers = {"X-CSRF-Token": token}

        assert browser.post(f"/api/v1/courses/{course_id}/enrollment", headers=headers).status_code == 201
        started = browser.post(f"/api/v1/lessons/{lesson_id}/playbacks", json={"start_ms": 0}, headers=headers)
        assert started.status_code == 201, started.text
        playback = started.json()["playback_id"]
        beat_url = f"/api/v1/playbacks/{playback}/heartbeats"

        def beat(seq: int, position_ms: int) -> httpx.Response:
            body = {"seq": seq, "position_ms": position_ms, "playing": True, "visible": True}
            return browser.post(beat_url, json=body, headers=headers)

        answers = [beat(seq, 1000 * (seq - 1)) for seq in range(1, 7)]  # alternately to each replica
        assert [(a.status_code, a.json()["seq"], a.json()["duplicate"]) for a in answers] == [
            (200, seq, False) for seq in range(1, 7)
        ]
        resend = beat(6, 5000)  # the player resends its last beat to whichever replica: answered, not counted
        assert resend.status_code == 200 and resend.json()["duplicate"] is True
        assert resend.json()["session_credited_ms"] == answers[-1].json()["session_credited_ms"]
        assert beat(3, 2000).json()["duplicate"] is True  # a late retry of a stored beat: answered as before
        assert beat(3, 9000).status_code == 409  # an old sequence number with other content: refused

        assert browser.post(f"/api/v1/playbacks/{playback}/close", headers=headers).status_code == 200
        assert browser.post("/logout", data={"csrf_token": token}).status_code in (200, 303)
        # The session ended for every replica, not only the one that logged out.
        assert [browser.get("/api/v1/me").status_code for _ in range(4)] == [401] * 4

    # Both replicas took part: the proxy spread the requests, and the story above held across them.
    for log, port in zip(deployment.replica_logs, deployment.replica_ports, strict=True):
        assert _heartbeats(port) >= 2, log.read_text(errors="replace")[-2000:]
        assert _served(log, "GET", "/api/v1/me") >= 2


def _pdf() -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=f"Training certificate {uuid.uuid4().hex}")
    return bytes(document.output())


def test_evidence_uploaded_through_one_replica_is_served_by_the_other(deployment: Deployment) -> None:
    first, second = (f"http://127.0.0.1:{port}" for port in deployment.replica_ports)
    evidence = _pdf()
    with httpx.Client(base_url=first, timeout=30) as one:
        token = TOKEN_RE.search(one.get("/login").text).group(1)  # type: ignore[union-attr]
        signed_in = one.post("/login", data={"username": TEACHER, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 303, signed_in.text
        token = TOKEN_RE.search(one.get("/credits/external/new").text).group(1)  # type: ignore[union-attr]
        fields = {"title": "市级培训", "hours": "3", "category": "practice", "level": "city",
                  "earned_on": "2026-11-20", "csrf_token": token}
        sent = one.post("/credits/external", data=fields, files={"file": ("证明.pdf", evidence, "application/pdf")})
        assert sent.status_code == 303, sent.text
        dsn = deployment.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            record_id = conn.execute("SELECT max(id) FROM external_records").fetchone()[0]  # type: ignore[index]
        # The other replica, with the same session cookie: it reads the object the first one stored.
        with httpx.Client(base_url=second, timeout=30, cookies=one.cookies) as two:
            served = two.get(f"/credits/external/{record_id}/evidence")
            assert served.status_code == 200, served.text[:500]
            assert served.content == evidence
