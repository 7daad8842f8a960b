"""How busy this process is: a rate meter, for work that should give way to busier work.

Per process, like the work it measures. The app gives the heartbeat writer (backend/learning/hotpath.py) the
password-hashing pool's meter (backend/accounts/hashing.py), so sign-ins give way to heartbeats; neither package
knows the other.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateMeter:
    """Events per second over the last `window` seconds, counted in whole-second buckets. The event loop adds;
    request threads read (sign-in admission), hence the lock: a bucket dropped while another thread sums them
    would break the sum."""

    def __init__(self, window: int = 5) -> None:
        self.window = window
        self._buckets: deque[list[int]] = deque()  # [second, count], oldest first
        self._lock = threading.Lock()

    def add(self, count: int, now: float | None = None) -> None:
        second = int(time.monotonic() if now is None else now)
        with self._lock:
            if self._buckets and self._buckets[-1][0] == second:
                self._buckets[-1][1] += count
            else:
                self._buckets.append([second, count])
            self._trim(second)

    def per_second(self, now: float | None = None) -> float:
        second = int(time.monotonic() if now is None else now)
        with self._lock:
            self._trim(second)
            return sum(count for _second, count in self._buckets) / self.window

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - self.window:
            self._buckets.popleft()
