"""Password hashing runs in idle-priority processes of its own, and sign-ins beyond a limit are refused at once
(issue 6, login storm)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.accounts import argon2_work
from backend.accounts.hashing import HashingBusy, HashingPool
from backend.accounts.passwords import hash_password, verify_password
from backend.kit import load


def test_hashes_run_in_another_process_that_gets_only_idle_cpu() -> None:
    pool = HashingPool(processes=1, max_waiting=4)
    pid = pool.run(os.getpid)
    assert pid != os.getpid()
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the app process keeps its priority


def test_sign_ins_beyond_the_limit_are_refused_at_once_without_waiting() -> None:
    pool = HashingPool(processes=1, max_waiting=2)
    holding, release = threading.Barrier(3), threading.Event()

    def sign_in() -> None:
        with pool.admit():
            holding.wait()
            release.wait()

    first, second = threading.Thread(target=sign_in), threading.Thread(target=sign_in)
    first.start(), second.start()
    holding.wait()
    started = time.monotonic()
    with pytest.raises(HashingBusy):
        with pool.admit():
            pass
    with pytest.raises(HashingBusy):  # a bare hash (no sign-in around it) needs a place too
        pool.run(argon2_work.hash_password, "a password")
    assert time.monotonic() - started < 0.5
    release.set()
    first.join(), second.join()
    with pool.admit():  # free again; a hash inside a sign-in uses the sign-in's place
        assert pool.run(argon2_work.verify, pool.run(argon2_work.hash_password, "pw-1"), "pw-1")


def test_passwords_still_verify_through_the_pool() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")
    assert not verify_password(None, "correct horse battery")
    assert not verify_password("not-a-hash", "correct horse battery")


def test_hashing_processes_end_when_the_app_process_is_killed() -> None:
    """They run in a session of their own (so the app's process group does not take them down): no orphans."""
    script = (
        "import os, sys\n"
        "from backend.accounts.hashing import HashingPool\n"
        "print(HashingPool(processes=1, max_waiting=2).run(os.getpid), flush=True)\n"
        "sys.stdin.read()\n"
    )
    app = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert app.stdout is not None
    hasher = int(app.stdout.readline())
    assert Path(f"/proc/{hasher}").exists()
    app.kill()
    app.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{hasher}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{hasher}").exists()


def test_sign_ins_are_admitted_faster_while_nobody_is_watching() -> None:
    """The start of a training day: many sign-ins, no heartbeats yet. Once the process serves heartbeats, sign-ins
    give way to them."""
    meter = load.RateMeter(window=5)
    pool = HashingPool(processes=1, max_waiting=2, per_second=5, quiet_per_second=25,
                       busy_heartbeats_per_second=100, meter=meter)
    assert pool.current_rate() == 25
    meter.add(600)  # 120 beats a second over the last 5 s
    assert pool.current_rate() == 5
    assert meter.per_second(now=time.monotonic() + 6) == 0  # five quiet seconds later the count has gone


def test_the_meter_counts_over_its_window_only() -> None:
    meter = load.RateMeter(window=5)
    meter.add(100, now=1000.2)
    meter.add(400, now=1003.9)
    assert meter.per_second(now=1004.0) == 100
    assert meter.per_second(now=1005.5) == 80  # the first second has left the window
    assert meter.per_second(now=1009.0) == 0


def test_one_client_flooding_sign_ins_spends_only_its_own_share() -> None:
    """Issue 14: one address sending sign-ins as fast as it can must not crowd out everyone else's."""
    pool = HashingPool(processes=1, max_waiting=8, per_second=5, quiet_per_second=5)
    flood_admitted = 0
    for _ in range(200):  # a burst far beyond the rate, all from one address
        if pool.has_room("198.51.100.7"):
            with pool.admit(client="198.51.100.7"):
                flood_admitted += 1
    assert flood_admitted <= 2  # its burst, nothing more
    # Eight people at other addresses, right after: each is admitted (the shared bucket was not spent).
    admitted = 0
    for person in range(4):
        address = f"203.0.113.{person}"
        assert pool.has_room(address)
        with pool.admit(client=address):
            admitted += 1
    assert admitted == 4
    with pytest.raises(HashingBusy):  # the flooding address is still over its share
        with pool.admit(client="198.51.100.7"):
            pass
