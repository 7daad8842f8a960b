"""The dashboards' one call into credits' reading of hours, and the queues' waiting entries.

Hours: `backend.credits.hours` (issue 13) is the one reading of the ledger; the dashboards sum nothing themselves.
`totals(by=…, year=…, as_of=…)` gives `Hours(certified, verified, pending, rejected)` per teacher (only certified
hours count; pending and verified are awaiting; rejected never), with each entry's status as it stood on `as_of`.

The rest of this module reads the workflow's queues (how many entries wait, since when, how long decisions took),
which are not sums of hours; it moves to `credits.workflow` when that module offers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.credits.hours import NONE, Hours, end_of, totals
from backend.credits.models import LedgerEntry, LedgerEntryEvent

__all__ = ["NONE", "Hours", "end_of", "totals", "Waiting", "waiting_by_user", "queue_size", "Waits", "decision_waits"]


@dataclass(frozen=True)
class Waiting:
    """A teacher's entries waiting for someone: for the school (pending) and for the district (verified)."""

    pending: int = 0
    verified: int = 0
    oldest_pending: datetime | None = None
    oldest_verified: datetime | None = None


def waiting_by_user(
    session: Session, *, as_of: date | None = None, users: list[int] | None = None
) -> dict[int, Waiting]:
    """Entries waiting per teacher, with the oldest one's recording time (the queues' age)."""
    stmt = (
        select(LedgerEntry.user_id, LedgerEntry.status, func.count(), func.min(LedgerEntry.created_at))
        .where(LedgerEntry.status.in_(("pending", "verified")))
        .group_by(LedgerEntry.user_id, LedgerEntry.status)
    )
    if as_of is not None:
        stmt = stmt.where(LedgerEntry.created_at < end_of(as_of))
    if users is not None:
        stmt = stmt.where(LedgerEntry.user_id.in_(users))
    found: dict[int, Waiting] = {}
    for user_id, status, count, oldest in session.execute(stmt):
        w = found.get(user_id, Waiting())
        if status == "pending":
            found[user_id] = Waiting(int(count), w.verified, oldest, w.oldest_verified)
        else:
            found[user_id] = Waiting(w.pending, int(count), w.oldest_pending, oldest)
    return found


def queue_size(session: Session, status: str, school_id: int | None = None) -> tuple[int, datetime | None]:
    """How many entries wait in a queue now (pending: the school's; verified: the district's), and the oldest's
    recording time: the landing pages' "waiting for you" line, counted live (an indexed count, not a snapshot)."""
    stmt = select(func.count(), func.min(LedgerEntry.created_at)).where(LedgerEntry.status == status)
    if school_id is not None:
        stmt = stmt.join(User, User.id == LedgerEntry.user_id).where(User.school_id == school_id)
    count, oldest = session.execute(stmt).one()
    return int(count or 0), oldest


@dataclass(frozen=True)
class Waits:
    """A teacher's entries decided in a period, and the days they waited: recorded → verified (the school's step)
    and verified (or recorded, when certified directly) → certified (the district's step)."""

    verified: int = 0
    verify_days: float = 0.0
    certified: int = 0
    certify_days: float = 0.0


def decision_waits(session: Session, *, first: date, last: date, users: list[int] | None = None) -> dict[int, Waits]:
    """Per teacher, the waits of the verifications and certifications made from `first` to `last` (Shanghai days),
    read from the entries' status history."""
    rows = session.execute(
        select(
            LedgerEntry.user_id, LedgerEntry.id, LedgerEntry.created_at, LedgerEntryEvent.to_status, LedgerEntryEvent.at
        )
        .join(LedgerEntryEvent, LedgerEntryEvent.entry_id == LedgerEntry.id)
        .where(
            LedgerEntryEvent.to_status.in_(("verified", "certified")),
            LedgerEntryEvent.at < end_of(last),
            LedgerEntryEvent.at >= end_of(first - timedelta(days=1)),
        )
        .where(*([] if users is None else [LedgerEntry.user_id.in_(users)]))
        .order_by(LedgerEntry.id, LedgerEntryEvent.at)
    )
    found: dict[int, Waits] = {}
    verified_at: dict[int, datetime] = {}
    for user_id, entry_id, created, status, at in rows:
        w = found.get(user_id, Waits())
        if status == "verified":
            verified_at[entry_id] = at
            days = (at - created).total_seconds() / 86400
            found[user_id] = Waits(w.verified + 1, w.verify_days + days, w.certified, w.certify_days)
        else:
            days = (at - verified_at.get(entry_id, created)).total_seconds() / 86400
            found[user_id] = Waits(w.verified, w.verify_days, w.certified + 1, w.certify_days + days)
    return found
