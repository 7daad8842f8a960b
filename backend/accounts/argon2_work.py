"""What a password-hashing process runs (backend/accounts/hashing.py). Imports nothing of the portal, so the
process starts quickly and holds no copy of the app."""

from __future__ import annotations

import os
import threading
import time

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's Password Storage Cheat Sheet, first argon2id configuration (m=19 MiB, t=2, p=1).
TIME_COST = 2
MEMORY_KIB = 19 * 1024
PARALLELISM = 1

hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID)


def lower_priority() -> None:
    """Runs first in each hashing process: it gets only the CPU that nothing else on the machine wants.

    SCHED_IDLE alone yields only to tasks of the same scheduling group. Where the kernel groups tasks by session
    (autogroup, the default on desktop and many server kernels), the app's group would then still take its full
    share against PostgreSQL's, so the process also starts a session of its own and sets that group's nice to 19.
    """
    _exit_with_parent(os.getppid())
    try:
        os.setsid()
        with open("/proc/self/autogroup", "w") as autogroup:
            autogroup.write("19")
    except OSError:  # no autogroup (or already a session leader): SCHED_IDLE within the caller's group
        pass
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the lowest nice value instead
        os.nice(19)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _exit_with_parent(parent: int) -> None:
    """A session of its own takes the process out of its parent's process group, so stopping the app's group would
    leave it behind (and the pool's pipes never close while siblings hold them): it watches for its parent instead."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
