"""Prometheus metrics: every metric the portal exports is declared here, and `GET /metrics` renders them.

Multiprocess: `portal serve` points `PROMETHEUS_MULTIPROC_DIR` at an emptied folder (setting `METRICS_DIR`)
before its workers start, so every worker process writes its counters to memory-mapped files there and a scrape
of any one worker reports the sum over all of them (prometheus-client's multiprocess mode). Without that variable
(tests in one process, `uvicorn` started by hand) the counters live in this process only.

Cheap on the hot path: an increment is an addition in memory (a memory-mapped file in multiprocess mode) under
prometheus-client's own lock, nothing more. The heartbeat writer counts once per batch, not once per beat.

Who may read it: `backend/health.py` (`metrics_allowed`): a client address in `METRICS_ALLOW_NETWORKS`, or the
bearer token `METRICS_TOKEN`.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from pathlib import Path
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Requests by route template (`/courses/{course_id}`, never the raw path: one series per route, not per id).
REQUESTS = Counter("portal_http_requests", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Heartbeats by what the writer made of them: accepted, duplicate (a resend), or the reason for a refusal.
HEARTBEATS = Counter("portal_heartbeats", "Heartbeats judged by the writer", ["outcome"])
BATCH_SIZE = Histogram(
    "portal_heartbeat_batch_size", "Heartbeats written in one group commit",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 512),
)
COMMIT_SECONDS = Histogram(
    "portal_heartbeat_commit_seconds", "Time of one heartbeat batch: read, judge, write and commit",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
WRITER_FAILURES = Counter("portal_heartbeat_batch_failures", "Heartbeat batches that failed (not acknowledged)")
# Background queues: beats waiting for the writer, sign-ins waiting for a hashing process.
LIVE: Literal["livesum"] = "livesum"  # multiprocess: the sum over the worker processes that are running
QUEUE_LENGTH = Gauge("portal_queue_length", "Work waiting in a background queue", ["queue"], multiprocess_mode=LIVE)
# Database connections checked out of each pool (the request pool and the heartbeat writer's), and their sizes.
DB_POOL_IN_USE = Gauge("portal_db_pool_in_use", "Database connections in use", ["pool"], multiprocess_mode=LIVE)
DB_POOL_SIZE = Gauge("portal_db_pool_size", "Database connections a pool may open", ["pool"], multiprocess_mode=LIVE)
# Password sign-ins: admitted to hashing, or refused (busy: the gate or the pool turned them away).
SIGN_INS = Counter("portal_sign_ins", "Password sign-ins by admission", ["decision", "where"])
UPLOAD_BYTES = Counter("portal_upload_bytes", "Bytes received in uploads (chunks stored)")


def count_heartbeats(outcomes: Tally[str], size: int, seconds: float) -> None:
    """One heartbeat batch: its outcomes counted (a few additions per batch, not one per beat), size, time."""
    for outcome, n in outcomes.items():
        HEARTBEATS.labels(outcome).inc(n)
    BATCH_SIZE.observe(size)
    COMMIT_SECONDS.observe(seconds)


def multiprocess_dir() -> Path | None:
    """The shared folder, when this process counts into it. A process that imported prometheus-client before
    the variable was set (`portal serve` with one worker serves in the process that set it) counts in memory."""
    from prometheus_client import values

    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value and values.ValueClass is not values.MutexValue else None


def prepare_multiprocess(folder: Path) -> None:
    """Before the workers start (`portal serve`): an empty folder, named in the environment they inherit. Must
    run before prometheus-client is imported in the workers, which it is: they are new processes."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)


def process_exited(pid: int) -> None:
    """A worker stops: its live gauges (pool use, queue lengths) no longer count."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def render() -> bytes:
    """The text exposition: all workers' values in multiprocess mode, this process's otherwise."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
