"""Password hashing runs on its own low-priority threads and refuses to queue without bound (issue 6, login storm)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from backend.accounts.hashing import NICE, HashingBusy, HashingPool
from backend.accounts.passwords import hash_password, verify_password


def _nice_of(tid: int) -> int:
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])  # field 19 of stat: nice


def test_hashes_run_on_threads_that_gave_up_priority() -> None:
    pool = HashingPool(threads=1, max_waiting=4)
    tid = pool.run(threading.get_native_id)
    assert tid != threading.get_native_id()
    assert _nice_of(tid) == NICE
    assert _nice_of(threading.get_native_id()) == 0  # the request thread keeps its priority


def test_a_full_queue_refuses_at_once_instead_of_holding_the_request() -> None:
    pool = HashingPool(threads=1, max_waiting=1)
    release = threading.Event()
    first = threading.Thread(target=pool.run, args=(release.wait,))
    first.start()
    time.sleep(0.1)
    started = time.monotonic()
    with pytest.raises(HashingBusy):
        pool.run(time.sleep, 0)
    assert time.monotonic() - started < 0.5
    release.set()
    first.join()
    assert pool.run(lambda: "free again") == "free again"


def test_passwords_still_verify_through_the_pool() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")
