"""Login throttling (OWASP ASVS 2.2.1): failed sign-ins counted per account name and per client address.

Counters live in `login_throttles`, so every replica sees the same numbers. A name or address that fails
`login_max_failures_per_*` times within `login_window_minutes` is locked for `login_lockout_minutes`. Unknown
usernames are counted and locked exactly like real ones, so neither the counting nor the lock message reveals
whether an account exists. A success clears the account's counter, not the address's: one good password must
not reset a password-spraying address.
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
    account: str
    address: str | None

    @classmethod
    def of(cls, username: str, address: str | None) -> Keys:
        return cls(f"account:{username.strip().lower()[:150]}", f"address:{address[:150]}" if address else None)

    def all(self) -> list[str]:
        return [self.account] + ([self.address] if self.address else [])


def locked_until(session: Session, keys: Keys) -> datetime | None:
    """When the later of the two locks ends, or None when neither the name nor the address is locked."""
    now = clock.now()
    ends = [
        until
        for until in session.scalars(select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys.all())))
        if until is not None and until > now
    ]
    return max(ends) if ends else None


def record_failure(session: Session, keys: Keys, policy: Policy) -> bool:
    """Counts one failure for the name and the address; True when this failure started a lock."""
    now = clock.now()
    window_start = now - timedelta(minutes=policy.login_window_minutes)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    started_lock = False
    limits = {keys.account: policy.login_max_failures_per_account}
    if keys.address:
        limits[keys.address] = policy.login_max_failures_per_address
    for key, limit in limits.items():
        # One atomic upsert per key: concurrent failures on any replica each count once.
        stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now, locked_until=None)
        # A window that began before this one's start is over: counting starts again at 1.
        stale = LoginThrottle.window_started_at < window_start
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
            },
        ).returning(LoginThrottle.failures, LoginThrottle.locked_until)
        failures, until = session.execute(stmt).one()
        if failures >= limit and (until is None or until <= now):
            row = session.get(LoginThrottle, key, populate_existing=True)
            assert row is not None
            row.locked_until = now + timedelta(minutes=policy.login_lockout_minutes)
            row.failures = 0
            row.window_started_at = now
            started_lock = True
    session.flush()
    return started_lock


def record_success(session: Session, keys: Keys) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.account))
