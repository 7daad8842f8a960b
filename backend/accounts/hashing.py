"""Password hashing on a small pool of low-priority threads of its own.

argon2id with OWASP's parameters costs ~45 ms of CPU per hash here, by design. A storm of logins (the start of a
training day) must not starve the heartbeat hot path that shares the machine (issue 6: heartbeat p99 within 2×
under 50 logins/s). So hashes run on PASSWORD_HASH_THREADS threads per process that lower their own scheduling
priority (nice): they use the CPU the portal's other work leaves idle. At most PASSWORD_HASH_QUEUE logins wait per
process; beyond that a login is refused at once with "busy, try again" rather than holding a request thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from backend.kit.errors import AppError
from backend.kit.i18n import _

log = logging.getLogger("portal.hashing")
T = TypeVar("T")
NICE = 10


class HashingBusy(AppError):
    status_code = 503
    code = "busy"

    def __init__(self) -> None:
        super().__init__(_("Many people are signing in right now. Please try again in a few seconds."))


def _lower_priority() -> None:
    try:  # Linux: a thread's id names it for setpriority, so only this pool's threads are niced.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (OSError, AttributeError):  # pragma: no cover - other platforms: same pool, normal priority
        log.info("could not lower the priority of the password hashing thread")


class HashingPool:
    def __init__(self, threads: int, max_waiting: int) -> None:
        self.threads, self.max_waiting = max(1, threads), max(1, max_waiting)
        self._executor: ThreadPoolExecutor | None = None
        self._waiting = 0
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on the pool; blocks the calling (request) thread until it is done."""
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise HashingBusy()
            self._waiting += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.threads, thread_name_prefix="argon2", initializer=_lower_priority
                )
            executor = self._executor
        try:
            return executor.submit(fn, *args).result()
        finally:
            with self._lock:
                self._waiting -= 1


def _from_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# Read from the environment rather than Settings: hashing is needed by the CLI and demo loader as well as the app.
pool = HashingPool(_from_env("PASSWORD_HASH_THREADS", 2), _from_env("PASSWORD_HASH_QUEUE", 8))
