"""Login throttling (OWASP ASVS 2.2.1): slow the attacker down without locking the owner out for long.

Failed sign-ins (passwords and second-factor codes) are counted three ways, in `login_throttles`, so every replica
sees the same numbers; within `login_window_minutes`:

- a name from one address (`pair:`): `login_max_failures_per_account` failures lock that name *from that address*
  for `login_lockout_minutes` — the attacker's guesses stop, the owner signing in from elsewhere is not affected;
- an address (`address:`): `login_max_failures_per_address` failures, whatever the names, lock the address for
  `login_lockout_minutes` (password spraying from one place);
- a name from every address (`account:`): `login_max_failures_per_account_any_address` failures lock the name
  for `login_account_lockout_minutes` only (a distributed guess at one account is slowed to that many guesses per
  window; the owner waits a minute, never a quarter of an hour).

Before issue 14, five wrong passwords from anywhere locked the name for 15 minutes, so anyone could lock anyone
out. Unknown usernames are counted and locked exactly like real ones, so neither the counting nor the lock message
reveals whether an account exists. A success clears the name's counters, not the address's: one good password
must not reset a password-spraying address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.accounts.models import LoginThrottle
from backend.kit import clock
from backend.policies.service import Policy


@dataclass(frozen=True)
class Keys:
    account: str  # the name, from every address
    address: str | None
    pair: str | None  # the name from this address

    @classmethod
    def of(cls, username: str, address: str | None) -> Keys:
        name = username.strip().lower()
        return cls(
            f"account:{name[:150]}",
            f"address:{address[:150]}" if address else None,
            f"pair:{name[:80]}@{address[:70]}" if address else None,
        )

    def all(self) -> list[str]:
        return [k for k in (self.account, self.address, self.pair) if k]


def locked_until(session: Session, keys: Keys) -> datetime | None:
    """When the later of the two locks ends, or None when neither the name nor the address is locked."""
    now = clock.now()
    ends = [
        until
        for until in session.scalars(select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys.all())))
        if until is not None and until > now
    ]
    return max(ends) if ends else None


def record_failure(session: Session, keys: Keys, policy: Policy) -> int | None:
    """Counts one failure for the name and the address; the minutes of the lock this failure started, if any."""
    now = clock.now()
    window_start = now - timedelta(minutes=policy.security.login_window_minutes)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    started_lock: int | None = None
    # key: (failures that lock it, minutes it stays locked)
    rules = policy.security
    limits = {keys.account: (rules.login_max_failures_per_account_any_address, rules.login_account_lockout_minutes)}
    if keys.address and keys.pair:
        limits[keys.pair] = (rules.login_max_failures_per_account, rules.login_lockout_minutes)
        limits[keys.address] = (rules.login_max_failures_per_address, rules.login_lockout_minutes)
    else:  # no client address known: the name alone, with the stricter count
        limits[keys.account] = (rules.login_max_failures_per_account, rules.login_account_lockout_minutes)
    for key, (limit, minutes) in limits.items():
        # One atomic upsert per key: concurrent failures on any replica each count once.
        first = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now, locked_until=None)
        # A window that began before this one's start is over: counting starts again at 1.
        stale = LoginThrottle.window_started_at < window_start
        counted = first.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
            },
        ).returning(LoginThrottle.failures, LoginThrottle.locked_until)
        failures, until = session.execute(counted).one()
        if failures >= limit and (until is None or until <= now):
            row = session.get(LoginThrottle, key, populate_existing=True)
            assert row is not None
            row.locked_until = now + timedelta(minutes=minutes)
            row.failures = 0
            row.window_started_at = now
            started_lock = max(started_lock or 0, minutes)
    session.flush()
    return started_lock


def record_success(session: Session, keys: Keys) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([k for k in (keys.account, keys.pair) if k])))
