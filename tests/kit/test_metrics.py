"""GET /metrics: what an operator's Prometheus scrapes, read back with prometheus-client's own parser.

In one process (the test client) and in `portal serve --workers 2` (multiprocess mode: a scrape of either worker
reports both)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.kit.state import state_of
from backend.migrate import upgrade
from tests.learning.test_hotpath import world  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-test"  # noqa: S105


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by name and labels; parsing fails on a malformed exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def scrape(client) -> dict:  # type: ignore[no-untyped-def]
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


@pytest.fixture
def operator(world):  # type: ignore[no-untyped-def]  # noqa: F811
    state = state_of(world.client.app)
    state.settings = state.settings.model_copy(update={"metrics_token": TOKEN})
    return world


def test_heartbeats_are_counted_by_outcome_and_requests_by_route_template(operator, clock) -> None:
    route = "/api/v1/playbacks/{playback_id}/heartbeats"
    before = scrape(operator.client)
    pb = operator.start()["playback_id"]
    assert operator.beat(pb, 1, 15).status_code == 200
    assert operator.beat(pb, 1, 15, after_s=1).json()["duplicate"] is True
    assert operator.beat(pb, 2, 3600).status_code == 422  # impossible: position_out_of_range
    assert operator.beat(pb, 1, 40).status_code == 409  # an old sequence number with other content
    after = scrape(operator.client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("portal_heartbeats_total", outcome="accepted") == 1
    assert grew("portal_heartbeats_total", outcome="duplicate") == 1
    assert grew("portal_heartbeats_total", outcome="position_out_of_range") == 1
    assert grew("portal_heartbeats_total", outcome="old_heartbeat") == 1
    assert grew("portal_heartbeat_batch_size_count") == 4  # one batch each here (one at a time)
    assert grew("portal_heartbeat_commit_seconds_count") == 4
    # Requests by route template, never by raw path (one series per route, not per playback).
    assert grew("portal_http_requests_total", method="POST", route=route, status="200") == 2
    assert grew("portal_http_requests_total", method="POST", route=route, status="422") == 1
    assert grew("portal_http_requests_total", method="POST", route=route, status="409") == 1
    assert grew("portal_http_request_duration_seconds_count", method="POST", route=route) == 4
    assert (
        grew("portal_http_requests_total", method="POST", route="/api/v1/lessons/{lesson_id}/playbacks", status="201")
        == 1
    )
    assert not any(pb in name or pb in str(labels) for name, labels in after)
    # The database pools are reported (the heartbeat writer's and the requests').
    assert value(after, "portal_db_pool_size", pool="heartbeats") > 0
    assert ("portal_db_pool_in_use", frozenset({("pool", "requests")})) in after
    assert ("portal_queue_length", frozenset({("queue", "heartbeats")})) in after


def test_metrics_are_refused_outside_the_operators_network_without_the_token(operator) -> None:
    # The test client's address ("testclient") is in no allowed network.
    refused = operator.client.get("/metrics")
    assert refused.status_code == 403 and "portal_http_requests_total" not in refused.text
    assert operator.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert operator.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_count_into_one_scrape_and_log_json_lines_with_request_ids(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    upgrade(database_url)
    port, log = _free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "METRICS_DIR": str(tmp_path / "metrics"),
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": "",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    server = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "portal"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        sent = 60
        for n in range(sent):  # a new connection each: the kernel spreads them over both workers
            r = httpx.get(base + "/healthz", headers={"X-Request-ID": f"probe-{n}"})
            assert r.headers["x-request-id"] == f"probe-{n}"
        made = httpx.get(base + "/healthz").headers["x-request-id"]  # none given: one is made
        assert len(made) == 32
        forged = httpx.get(base + "/healthz", headers={"X-Request-ID": '{"user_id": 1} ' + "y" * 80})
        assert len(forged.headers["x-request-id"]) == 32  # not a plain short token: replaced, not logged
        # Both workers' counts, whichever worker answers the scrape (from 127.0.0.1: the operator's network).
        for _scrape in range(3):
            scraped = samples(httpx.get(base + "/metrics").text)
            counted = value(scraped, "portal_http_requests_total", method="GET", route="/healthz", status="200")
            assert counted >= sent + 2
    finally:
        server.terminate()
        server.wait(timeout=20)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "portal.access" and line.get("route") == "/healthz"]
    assert {line["request_id"] for line in access} >= {f"probe-{n}" for n in range(sent)}
    assert all(line["status"] == 200 and line["duration_ms"] >= 0 and line["method"] == "GET" for line in access)
    # Both workers answered some of them, and yet every scrape above counted them all.
    assert len({line["pid"] for line in access}) == 2
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # the server's own lines are JSON too
