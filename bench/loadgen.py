"""Load generator for the heartbeat bench: simulated viewers over real HTTP/1.1 on loopback.

Cheap on purpose (it shares the machine with the server and PostgreSQL): asyncio protocols on uvloop, requests
built by hand, responses parsed only as far as the status line, Content-Length and body, and a pool of keep-alive
connections shared by the viewers.

Modes
- open:   every viewer sends a heartbeat every `--period` seconds (first one after a random offset in [0, period)),
          for `--seconds`: target rate = viewers / period. Like the player, a viewer sends one beat at a time; a beat
          due while the previous one is unanswered waits behind it. Latency counts from the beat's scheduled time,
          so queueing in the generator counts too (no coordinated omission). Beats still unanswered 15 s after the
          run are counted as errors (`unanswered`); the rate is the 200s received within the run.
- closed: `--concurrency` loops send back to back for `--seconds` (after a short warm-up): the capacity.
Targets: `heartbeat` (POST /api/v1/playbacks/{id}/heartbeats with the viewer's session cookie and CSRF token, as the
browser sends it) or `baseline` (POST /bench/baseline with a bearer token and a JSON body of the same size).

Each acknowledged heartbeat (200) is recorded as (viewer index, seq) in `--acks`, for the lost-ack check. Per viewer
seq, position and client clock continue across runs through `--state`. The last stdout line is a JSON summary.

As a library (tests/crash): `LoadGen(..., keep_failed=True, retry=True)` behaves like the player's queue (a failed
beat is retried with backoff before the ones behind it; what is left when the run ends is kept in `failed`), and
`resend_failed()` sends those again in order, as the player does after an outage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BEAT_MS = 15_000


@dataclass
class Viewer:
    playback_id: str
    cookie: str = ""
    csrf_cookie: str = ""
    csrf: str = ""
    seq: int = 0
    position_ms: int = 0
    client_ms: int = 0


class Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.keep = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        length = 0
        i = head.find(b"\r\ncontent-length:")
        if i >= 0:
            j = head.find(b"\r\n", i + 2)
            length = int(head[i + 17: j if j >= 0 else len(head)])
        elif b"transfer-encoding: chunked" in head:
            waiter.set_exception(ValueError("chunked response not supported"))
            return
        total = end + 4 + length
        if len(self.buf) < total:
            return
        body = bytes(self.buf[end + 4: total])
        del self.buf[:total]
        if b"\r\nconnection: close" in head:
            self.keep = False
        waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter


class Pool:
    """Keep-alive connections shared by the viewers (first in, first out, so none idles into the server's
    keep-alive timeout while the load runs)."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: deque[Conn] = deque()
        self.waiting: deque[asyncio.Future[Conn]] = deque()
        self.count = 0
        self.connects = 0
        self.opened: list[Conn] = []

    async def acquire(self) -> Conn:
        while self.idle:
            conn = self.idle.popleft()
            if not conn.closed:
                return conn
            self.count -= 1
        if self.count < self.size:
            self.count += 1
            try:
                _, conn = await asyncio.get_running_loop().create_connection(Conn, self.host, self.port)
            except BaseException:
                self.count -= 1
                self._wake()
                raise
            self.connects += 1
            self.opened.append(conn)
            return conn
        waiter: asyncio.Future[Conn] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def release(self, conn: Conn, broken: bool = False) -> None:
        if broken or conn.closed or not conn.keep:
            if conn.transport is not None:
                conn.transport.close()
            self.count -= 1
            self._wake()
            return
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self.idle.append(conn)

    def _wake(self) -> None:
        # A connection slot came free: let a waiter open a new connection.
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                asyncio.ensure_future(self._open_for(waiter))
                return

    async def _open_for(self, waiter: asyncio.Future[Conn]) -> None:
        try:
            conn = await self.acquire()
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request
            if not waiter.done():
                waiter.set_exception(exc)
            return
        if waiter.done():
            self.release(conn)
        else:
            waiter.set_result(conn)

    def close(self) -> None:
        """Closes every connection, idle or still waiting for an answer."""
        self.idle.clear()
        for conn in self.opened:
            if conn.transport is not None and not conn.closed:
                conn.transport.close()
        self.opened.clear()


@dataclass
class Stats:
    sent: int = 0
    ok: int = 0
    status: Counter[int] = field(default_factory=Counter)
    conn_errors: int = 0
    unanswered: int = 0  # still in flight or queued when the run's drain time ran out
    ok_in_window: int = 0  # 200s received before the open-loop run's end (not during the drain after it)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    lags: array[float] = field(default_factory=lambda: array("d"))  # scheduled -> connection acquired
    ack_viewer: array[int] = field(default_factory=lambda: array("i"))
    ack_seq: array[int] = field(default_factory=lambda: array("i"))
    error_samples: list[str] = field(default_factory=list)
    first_ok: float | None = None
    last_ok: float | None = None


class LoadGen:
    def __init__(self, viewers: list[Viewer], host: str, port: int, target: str = "heartbeat",
                 api_token: str = "", duration_ms: int = 2 * 3600 * 1000, connections: int = 256,
                 period_s: float = 15.0, record_acks: bool = True, beat_ms: int = BEAT_MS,
                 keep_failed: bool = False, retry: bool = False) -> None:
        self.viewers, self.host, self.port, self.target = viewers, host, port, target
        self.api_token, self.duration_ms, self.period_s = api_token, duration_ms, period_s
        self.pool = Pool(host, port, connections)
        self.stats = Stats()
        self.record_acks = record_acks
        self.inflight = 0
        self.stopping = False
        self.host_header = f"{host}:{port}".encode()
        self.beat_ms = beat_ms  # playhead advance per beat (15 s at the real cadence)
        self.keep_failed = keep_failed  # remember unacknowledged beats, for resend_failed()
        # Retry a failed beat (with backoff) before the ones queued behind it, as the player does; when the run
        # ends (`draining`), what is left is kept in `failed`. Off for the bench: a failure is counted, not hidden.
        self.retry = retry
        self.draining = False
        self.window_end = float("inf")
        self.measure_from = 0.0  # open loop: beats due before this (the warm-up) are sent but not reported
        self.queues: dict[int, deque[tuple[tuple[int, int, int], float]]] = {}
        self.current: dict[int, tuple[int, int, int]] = {}  # the beat each busy viewer is sending
        self.failed: list[tuple[int, int, int, int]] = []
        self.duplicates = 0  # 200 answers to a resent beat that was already stored

    # --- requests -------------------------------------------------------------------------------------
    def _next_beat(self, index: int) -> tuple[int, int, int]:
        """The viewer's next beat: seq + 1, the playhead `beat_ms` further, the browser clock now."""
        v = self.viewers[index]
        v.seq += 1
        v.position_ms = min(v.position_ms + self.beat_ms, self.duration_ms)
        v.client_ms = max(v.client_ms + 1, int(time.time() * 1000))
        return v.seq, v.position_ms, v.client_ms

    def _request(self, index: int, seq: int, position_ms: int, client_ms: int) -> bytes:
        if self.target == "heartbeat":
            v = self.viewers[index]
            body = (b'{"seq":%d,"position_ms":%d,"playing":true,"visible":true,"client_ms":%d}'
                    % (seq, position_ms, client_ms))
            return (
                b"POST /api/v1/playbacks/%s/heartbeats HTTP/1.1\r\nHost: %s\r\n"
                b"Content-Type: application/json\r\nAccept: application/json\r\n"
                b"Cookie: portal_session=%s; portal_csrf=%s\r\nX-CSRF-Token: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (v.playback_id.encode(), self.host_header, v.cookie.encode(), v.csrf_cookie.encode(),
                   v.csrf.encode(), len(body), body)
            )
        body = b'{"viewer":%d,"seq":%d,"position_ms":%d,"playing":true}' % (index, seq, position_ms)
        return (
            b"POST /bench/baseline HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Accept: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s"
            % (self.host_header, self.api_token.encode(), len(body), body)
        )

    async def fire(self, index: int, scheduled: float, beat: tuple[int, int, int] | None = None) -> int:
        """One beat of viewer `index` (its next one unless `beat` = (seq, position_ms, client_ms) is a resend),
        due at `scheduled` (time.perf_counter). Returns the HTTP status, 0 for a connection error."""
        clock = time.perf_counter
        stats = self.stats
        self.inflight += 1
        beat = beat or self._next_beat(index)
        data = self._request(index, *beat)
        stats.sent += 1
        conn = None
        try:
            conn = await self.pool.acquire()
            if scheduled >= self.measure_from:
                stats.lags.append(clock() - scheduled)
            status, body = await conn.request(data)
        except (OSError, ConnectionError, ValueError) as exc:
            stats.conn_errors += 1
            if len(stats.error_samples) < 10:
                stats.error_samples.append(f"{type(exc).__name__}: {exc}")
            if conn is not None:
                self.pool.release(conn, broken=True)
            return 0
        finally:
            self.inflight -= 1
        self.pool.release(conn)
        now = clock()
        stats.status[status] += 1
        if status == 200:
            stats.ok += 1
            if scheduled >= self.measure_from:
                if now <= self.window_end:
                    stats.ok_in_window += 1
                stats.latencies.append(now - scheduled)
            if stats.first_ok is None:
                stats.first_ok = now
            stats.last_ok = now
            if self.record_acks:
                stats.ack_viewer.append(index)
                stats.ack_seq.append(beat[0])
            if b'"duplicate":true' in body:
                self.duplicates += 1
        elif len(stats.error_samples) < 10:
            stats.error_samples.append(f"{status}: {body[:200].decode(errors='replace')}")
        return status

    def _due(self, index: int, due: float, tasks: set[asyncio.Task[None]]) -> None:
        """The viewer's player makes its next beat now. Like the real player, it sends one beat at a time: a beat
        made while the previous one is unanswered waits behind it (its latency still counts from `due`)."""
        beat = self._next_beat(index)
        queue = self.queues.get(index)
        if queue is not None:
            queue.append((beat, due))
            return
        self.queues[index] = deque()
        task = asyncio.get_running_loop().create_task(self._send_in_order(index, beat, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _send_in_order(self, index: int, beat: tuple[int, int, int], due: float) -> None:
        queue = self.queues[index]
        backoff = 0.2
        try:
            while True:
                self.current[index] = beat
                status = await self.fire(index, due, beat)
                answered = status in (200, 409, 422)  # answered for good (409/422: refused, the player drops it)
                if not answered and self.retry and not self.draining:
                    await asyncio.sleep(backoff)  # the player retries the head of its queue, with backoff
                    backoff = min(2 * backoff, 1.0)
                    continue
                if not answered and self.keep_failed:
                    self.failed.append((index, *beat))
                if self.draining and self.keep_failed:  # the run is over: the rest waits for resend_failed()
                    self.failed.extend((index, *b) for b, _ in queue)
                    queue.clear()
                backoff = 0.2
                if not queue:
                    return
                beat, due = queue.popleft()
        finally:
            del self.queues[index]
            self.current.pop(index, None)

    async def resend_failed(self, attempts: int = 10) -> dict[str, int]:
        """What the player does after an outage: resends every unacknowledged beat, in order per viewer, until it
        is answered (200, or 409/422: refused for good). Returns counts by outcome."""
        by_viewer: dict[int, list[tuple[int, int, int]]] = {}
        for index, *beat in sorted(self.failed):
            by_viewer.setdefault(index, []).append(tuple(beat))  # type: ignore[arg-type]
        self.failed = []
        outcome: Counter[str] = Counter()

        async def one_viewer(index: int, beats: list[tuple[int, int, int]]) -> None:
            for beat in beats:
                for attempt in range(attempts):
                    status = await self.fire(index, time.perf_counter(), beat)
                    if status in (200, 409, 422):
                        outcome[str(status)] += 1
                        break
                    await asyncio.sleep(0.2 * (attempt + 1))
                else:
                    outcome["gave_up"] += 1

        await asyncio.gather(*(one_viewer(i, b) for i, b in by_viewer.items()))
        return dict(outcome)

    # --- open loop: every viewer at its own cadence ------------------------------------------------------
    async def open_loop(self, seconds: float, seed: int = 1, warmup: float = 0.0, start_at: float = 0.0) -> float:
        """Every viewer beats every period for warmup + seconds; only beats due after the warm-up are reported.
        start_at (time.time()): when to begin, so that another process's load can be lined up with this one's."""
        clock = time.perf_counter
        rng = random.Random(seed)  # noqa: S311 - spreading load, not secrets
        n = len(self.viewers)
        offsets = sorted((rng.uniform(0, self.period_s), i) for i in range(n))
        if start_at:
            await asyncio.sleep(max(0.0, start_at - time.time()))
        start = clock() + 0.05
        self.measure_from = start + warmup
        end = self.measure_from + seconds
        self.window_end = end
        tasks: set[asyncio.Task[None]] = set()
        round_no, k = 0, 0
        while not self.stopping:
            due = start + round_no * self.period_s + offsets[k][0]
            if due >= end:
                break
            now = clock()
            if due > now:
                await asyncio.sleep(due - now)
            self._due(offsets[k][1], due, tasks)
            k += 1
            if k == n:
                k, round_no = 0, round_no + 1
            # Let due beats go out in bursts without one sleep each.
            while not self.stopping:
                due = start + round_no * self.period_s + offsets[k][0]
                if due > clock() or due >= end:
                    break
                self._due(offsets[k][1], due, tasks)
                k += 1
                if k == n:
                    k, round_no = 0, round_no + 1
        self.draining = True
        await self._drain(tasks)
        self.draining = False
        return seconds

    # --- closed loop: back to back, to find the capacity --------------------------------------------------
    async def closed_loop(self, seconds: float, concurrency: int, warmup: float = 2.0) -> float:
        clock = time.perf_counter
        n = len(self.viewers)
        counter = iter(range(10**12))
        t0 = clock()
        measure_from, measure_to = t0 + warmup, t0 + warmup + seconds
        counted = [0]
        lat = self.stats.latencies

        async def worker() -> None:
            while clock() < measure_to and not self.stopping:
                sent_at = clock()
                before = self.stats.ok
                await self.fire(next(counter) % n, sent_at)
                done = clock()
                if measure_from <= done < measure_to and self.stats.ok > before:
                    counted[0] += 1
                elif self.stats.ok > before:
                    lat.pop()  # warm-up latencies are not reported

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        self.closed_count = counted[0]
        return seconds

    async def _drain(self, tasks: set[asyncio.Task[None]], timeout: float = 15.0) -> None:
        """Waits for the beats still in flight or queued; those not answered by then count as errors (and, with
        `keep_failed`, wait in `failed` to be resent: an unanswered beat may or may not have been stored)."""
        if tasks:
            _done, pending = await asyncio.wait(set(tasks), timeout=timeout)
            if pending:
                unanswered = self.inflight + sum(len(q) for q in self.queues.values())
                if self.keep_failed:
                    for index, queue in self.queues.items():
                        if index in self.current:
                            self.failed.append((index, *self.current[index]))
                        self.failed.extend((index, *b) for b, _ in queue)
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
                self.stats.unanswered += unanswered
                if len(self.stats.error_samples) < 10:
                    self.stats.error_samples.append(f"{unanswered} beats unanswered {timeout}s after the run")

    def summary(self, seconds: float, mode: str, closed_count: int | None = None) -> dict[str, Any]:
        s = self.stats
        lat = sorted(s.latencies)
        lags = sorted(s.lags)

        def pct(values: list[float], p: float) -> float:
            return round(1000 * values[min(len(values) - 1, int(p * len(values)))], 2) if values else 0.0

        non_200 = sum(c for code, c in s.status.items() if code != 200)
        # Sustained rate: answers received inside the run's window (what the server kept up with), not the backlog
        # it worked off after the generator stopped.
        rate = (closed_count if closed_count is not None else s.ok_in_window) / seconds
        return {
            "mode": mode, "target": self.target, "viewers": len(self.viewers), "seconds": seconds,
            "target_per_s": round(len(self.viewers) / self.period_s, 1) if mode == "open" else None,
            "per_s": round(rate, 1), "sent": s.sent, "ok": s.ok, "errors": non_200 + s.conn_errors + s.unanswered,
            "status": {str(k): v for k, v in sorted(s.status.items())}, "conn_errors": s.conn_errors,
            "unanswered": s.unanswered,
            "p50_ms": pct(lat, 0.50), "p90_ms": pct(lat, 0.90), "p99_ms": pct(lat, 0.99),
            "max_ms": round(1000 * lat[-1], 2) if lat else 0.0,
            "gen_lag_p99_ms": pct(lags, 0.99), "connections_opened": self.pool.connects,
            "error_samples": s.error_samples,
        }


# --- command line -----------------------------------------------------------------------------------------
def load_viewers(path: Path, state: Path | None) -> tuple[list[Viewer], dict[str, Any]]:
    data = json.loads(path.read_text())
    viewers = [Viewer(v["playback_id"], v["cookie"], v["csrf_cookie"], v["csrf"]) for v in data["viewers"]]
    if state is not None and state.exists():
        saved = json.loads(state.read_text())
        for v, (seq, pos, cms) in zip(viewers, saved["viewers"], strict=True):
            v.seq, v.position_ms, v.client_ms = seq, pos, cms
    return viewers, data


def save_state(state: Path, viewers: list[Viewer]) -> None:
    state.write_text(json.dumps({"viewers": [[v.seq, v.position_ms, v.client_ms] for v in viewers]}))


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


async def _run(args: argparse.Namespace, viewers: list[Viewer], meta: dict[str, Any]) -> dict[str, Any]:
    gen = LoadGen(viewers, args.host, args.port, target=args.target, api_token=meta.get("api_token", ""),
                  duration_ms=meta.get("duration_ms", 2 * 3600 * 1000), connections=args.connections,
                  period_s=args.period, record_acks=args.acks is not None)
    cpu0, wall0 = _cpu_seconds(), time.monotonic()
    if args.mode == "open":
        await gen.open_loop(args.seconds, seed=args.seed, warmup=args.warmup, start_at=args.start_at)
        result = gen.summary(args.seconds, "open")
    else:
        await gen.closed_loop(args.seconds, args.concurrency)
        result = gen.summary(args.seconds, "closed", gen.closed_count)
        result["concurrency"] = args.concurrency
    gen.pool.close()
    wall = time.monotonic() - wall0
    result["loadgen_cpu"] = round((_cpu_seconds() - cpu0) / wall, 3)
    if args.acks is not None:
        args.acks.write_text(json.dumps({"viewer": gen.stats.ack_viewer.tolist(), "seq": gen.stats.ack_seq.tolist()}))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="heartbeat bench load generator")
    parser.add_argument("--viewers-file", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("open", "closed"), default="open")
    parser.add_argument("--target", choices=("heartbeat", "baseline"), default="heartbeat")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--period", type=float, default=15.0, help="seconds between a viewer's beats (open loop)")
    parser.add_argument("--concurrency", type=int, default=128, help="closed loop: requests in flight")
    parser.add_argument("--connections", type=int, default=256, help="open loop: keep-alive connections")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N viewers")
    parser.add_argument("--acks", type=Path, default=None, help="write acknowledged (viewer, seq) here")
    parser.add_argument("--state", type=Path, default=None, help="per-viewer seq/position, kept across runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=0.0, help="open loop: seconds sent before measuring")
    parser.add_argument("--start-at", type=float, default=0.0, help="open loop: begin at this time.time()")
    args = parser.parse_args()

    viewers, meta = load_viewers(args.viewers_file, args.state)
    if args.limit:
        viewers = viewers[: args.limit]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        runner = asyncio.run
    result = runner(_run(args, viewers, meta))
    if args.state is not None:
        if args.limit:
            all_viewers, _ = load_viewers(args.viewers_file, args.state)
            all_viewers[: args.limit] = viewers
            viewers = all_viewers
        save_state(args.state, viewers)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
