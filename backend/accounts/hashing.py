"""Password hashing in low-priority processes of its own, behind an admission limit.

argon2id with OWASP's parameters is costly by design (~17 ms of CPU and 19 MiB of memory traffic per hash here).
A storm of logins (the start of a training day) must not starve the heartbeat hot path that shares the machine
(issue 6: heartbeat p99 within 2× under 50 logins/s). Measured with `make bench`, three things were needed:

- Hashes run in PASSWORD_HASH_PROCESSES processes per app process, at idle priority: they get only the CPU
  nothing else wants. Processes, not threads: a low-priority thread that is preempted while it holds the GIL
  would stall the event loop that serves heartbeats (priority inversion); a process shares no lock with it.
- Idle priority is not enough: argon2 is memory-hard, and two hashing processes at idle priority still tripled
  heartbeat p99 through the memory and cache they share with everything else. So sign-ins are admitted at most
  PASSWORD_HASH_PER_S a second per app process (a token bucket; 0 turns the rate limit off), and at most
  PASSWORD_HASH_QUEUE at once, because each one in progress also runs Python on a thread that competes with the
  event loop for the GIL.
- Sign-ins without a place are refused at once with "busy, try again" (503 and Retry-After), before any database
  work, by backend/accounts/login_gate.py in front of the framework.
- Each client address gets a share of the rate (CLIENT_SHARE of it, a bucket of its own), so one client flooding
  the sign-in form cannot spend everyone's places (issue 14: a flood from one address had 7 of 8 other people's
  sign-ins refused). A flooding client is refused at the gate from its own empty bucket; the shared bucket is
  only ever spent by a client that still has its share, and only after the lockout check (routes.authenticate).

Defaults: 2 processes and 2 sign-ins at once per app process; 5 sign-ins a second while the process serves at
least PASSWORD_HASH_BUSY_HEARTBEATS_PER_S (100) heartbeats a second, PASSWORD_HASH_PER_S_QUIET (25) while it
serves fewer (the start of a training day, before anyone watches). On the 2-worker server that is 10 a second
under full viewing load, which keeps heartbeat p99 within 2× during a 50/s storm on the 2-core machine, and 50 a
second when nobody watches. Raise them on bigger machines.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from backend.accounts import argon2_work
from backend.config import PasswordHashing
from backend.kit import load, metrics
from backend.kit.errors import AppError
from backend.kit.i18n import _

log = logging.getLogger("portal.hashing")
T = TypeVar("T")
# A client address may start at most this share of the sign-ins a second (at least CLIENT_MIN_PER_S), in bursts of
# CLIENT_BURST: a school's staff room behind one address still signs in one after another, a flood does not crowd out
# everyone else.
CLIENT_SHARE = 0.2
CLIENT_MIN_PER_S = 0.5
CLIENT_BURST = 2.0
# Sign-ins of one client address in progress at once: a flood's admitted guesses never hold every place.
CLIENT_IN_PROGRESS = 1
# Client buckets kept at most; the oldest (long refilled, so nothing is lost) are dropped beyond it.
CLIENTS_KEPT = 10_000


class HashingBusy(AppError):
    status_code = 503
    code = "busy"

    def __init__(self) -> None:
        super().__init__(_("Many people are signing in right now. Please try again in a few seconds."))


class HashingPool:
    def __init__(
        self, processes: int, max_waiting: int, per_second: float = 0.0, quiet_per_second: float | None = None,
        busy_heartbeats_per_second: float = 100.0, meter: load.RateMeter | None = None,
    ) -> None:
        self.processes, self.max_waiting = max(1, processes), max(1, max_waiting)
        # A token bucket: at most `per_second` sign-ins start a second (0: no limit), bursts up to max_waiting,
        # while this process serves heartbeats; `quiet_per_second` while it serves fewer than
        # `busy_heartbeats_per_second` (the morning rush before anyone watches).
        self.per_second = max(0.0, per_second)
        self.quiet_per_second = self.per_second if quiet_per_second is None else max(0.0, quiet_per_second)
        self.busy_heartbeats_per_second = busy_heartbeats_per_second
        # Heartbeats this process serves: the app hands this meter to the heartbeat writer.
        self.meter = meter or load.RateMeter()
        self._tokens, self._refilled = float(self.max_waiting), time.monotonic()
        self._clients: dict[str, tuple[float, float]] = {}  # address -> (tokens, refilled at)
        self._client_in_progress: dict[str, int] = {}
        self._executor: ProcessPoolExecutor | None = None
        self._in_progress = 0
        self._lock = threading.Lock()
        self._admitted = threading.local()

    @contextmanager
    def admit(self, *, sign_in: bool = True, client: str | None = None) -> Iterator[None]:
        """A place for one sign-in (its database work and its hashes), or HashingBusy at once when all are taken
        or the sign-in rate is used up. Hashes run inside `admit` use its place; a hash outside one (a password
        change, the CLI, the demo loader) takes a place of its own but is not counted against the sign-in rate."""
        if getattr(self._admitted, "depth", 0):
            self._admitted.depth += 1
        else:
            with self._lock:
                if (
                    self._in_progress >= self.max_waiting
                    or (client is not None and self._client_in_progress.get(client, 0) >= CLIENT_IN_PROGRESS)
                    or (sign_in and not self._take_token(client))
                ):
                    if sign_in:
                        metrics.SIGN_INS.labels("refused", "pool").inc()
                    raise HashingBusy()
                if sign_in:
                    metrics.SIGN_INS.labels("admitted", "pool").inc()
                self._in_progress += 1
                metrics.QUEUE_LENGTH.labels("password_hashing").set(self._in_progress)
                if client is not None:
                    self._client_in_progress[client] = self._client_in_progress.get(client, 0) + 1
            self._admitted.depth = 1
        try:
            yield
        finally:
            self._admitted.depth -= 1
            if not self._admitted.depth:
                with self._lock:
                    self._in_progress -= 1
                    metrics.QUEUE_LENGTH.labels("password_hashing").set(self._in_progress)
                    if client is not None:
                        left = self._client_in_progress.pop(client, 1) - 1
                        if left > 0:
                            self._client_in_progress[client] = left

    def has_room(self, client: str | None = None) -> bool:
        """Whether a sign-in from `client` would be admitted now (without taking the place): for shedding before
        any work."""
        return self.refusal(client) is None

    def refusal(self, client: str | None = None) -> str | None:
        """Why a sign-in from `client` would be refused now: "client" (it has used up its own share), "busy" (no
        place for anyone), or None (it would be admitted)."""
        with self._lock:
            if client is not None and self._client_in_progress.get(client, 0) >= CLIENT_IN_PROGRESS:
                return "client"
            rate = self.current_rate()
            now = time.monotonic()
            if rate and client is not None and self._client_tokens_at(client, now, rate) < 1.0:
                return "client"
            if self._in_progress >= self.max_waiting or (rate and self._tokens_at(now, rate) < 1.0):
                return "busy"
            return None

    def current_rate(self) -> float:
        """Sign-ins admitted per second now (0: no limit): fewer while this process is serving heartbeats."""
        if not self.per_second or not self.quiet_per_second:
            return 0.0
        busy = self.meter.per_second() >= self.busy_heartbeats_per_second
        return self.per_second if busy else self.quiet_per_second

    def _tokens_at(self, now: float, rate: float) -> float:
        """The bucket's tokens at `now`: refilled at `rate` since the last take, up to max_waiting."""
        return min(float(self.max_waiting), self._tokens + (now - self._refilled) * rate)

    def _client_rate(self, rate: float) -> float:
        return max(CLIENT_MIN_PER_S, rate * CLIENT_SHARE)

    def _client_tokens_at(self, client: str, now: float, rate: float) -> float:
        tokens, refilled = self._clients.get(client, (CLIENT_BURST, now))
        return min(CLIENT_BURST, tokens + (now - refilled) * self._client_rate(rate))

    def _take_token(self, client: str | None = None) -> bool:
        """Takes a place from the client's share and from the shared bucket, or from neither."""
        rate = self.current_rate()
        if not rate:
            return True
        now = time.monotonic()
        self._tokens, self._refilled = self._tokens_at(now, rate), now
        mine = self._client_tokens_at(client, now, rate) if client is not None else CLIENT_BURST
        if self._tokens < 1.0 or mine < 1.0:
            return False
        self._tokens -= 1.0
        if client is not None:
            if len(self._clients) >= CLIENTS_KEPT:
                for oldest in sorted(self._clients, key=lambda c: self._clients[c][1])[: CLIENTS_KEPT // 10]:
                    del self._clients[oldest]
            self._clients[client] = (mine - 1.0, now)
        return True

    def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) (a module-level function) in a hashing process; blocks the calling (request) thread."""
        with self.admit(sign_in=False):
            try:
                return self._pool().submit(fn, *args).result()
            except BrokenProcessPool:  # a hashing process died (killed, out of memory): start afresh next time
                log.exception("a password hashing process died")
                with self._lock:
                    self._executor = None
                raise HashingBusy() from None

    def start(self) -> None:
        """Starts the hashing processes now rather than at the first sign-in. The served app does so at startup:
        a process starting up (interpreter, imports) runs at normal priority until it lowers its own, and a
        storm's first seconds are no time for that."""
        pool = self._pool()
        for started in [pool.submit(os.getpid) for _process in range(self.processes)]:
            started.result()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn: the app process has threads, and forking a process with threads can copy a held lock.
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=argon2_work.lower_priority,
                )
            return self._executor


# One pool per process, from the settings' PASSWORD_HASH_* section (the CLI and the demo loader hash too, not only
# the app).
_config = PasswordHashing()
pool = HashingPool(
    _config.processes, _config.queue, _config.per_s, _config.per_s_quiet, _config.busy_heartbeats_per_s,
)
