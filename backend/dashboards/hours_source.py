"""The dashboards' one call into credits' reading of hours — a thin seam, to switch over.

Issue 13 puts the one reading of countable hours in `backend.credits.hours` (`totals(by=…, year=…, as_of=…)` with
`Hours(certified, verified, pending, rejected)`). Until that module is on main, this file answers the same calls with
the same signature and meaning (only certified hours count; pending and verified are awaiting; rejected never), so
switching over is replacing the body of this file by `from backend.credits.hours import Hours, totals`.
Nothing else in `backend.dashboards` touches `ledger_entries`.

Known gap until the switch: `as_of` keeps only the entries recorded by the end of that day but reads each entry's
current status, where `credits.hours` reads the status it had then from the status history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.catalogue.models import Course, CourseTopic
from backend.credits.models import LedgerEntry, LedgerEntryEvent
from backend.kit import clock

ZERO = Decimal("0")
INDUCTION_TIER = "horizon"


@dataclass(frozen=True)
class Hours:
    certified: Decimal = ZERO
    verified: Decimal = ZERO
    pending: Decimal = ZERO
    rejected: Decimal = ZERO

    @property
    def awaiting(self) -> Decimal:
        return self.pending + self.verified

    @property
    def recorded(self) -> Decimal:
        return self.certified + self.awaiting

    def with_status(self, status: str, hours: Decimal) -> Hours:
        if status not in ("certified", "verified", "pending", "rejected"):
            return self
        return Hours(**{**self.__dict__, status: getattr(self, status) + hours})


NONE = Hours()
DIMENSIONS: dict[str, Any] = {
    "user": LedgerEntry.user_id,
    "school": User.school_id,
    "year": LedgerEntry.year,
    "category": LedgerEntry.category,
    "level": LedgerEntry.level,
    "course": LedgerEntry.course_id,
    "topic": CourseTopic.topic,
}


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.SHANGHAI).astimezone(clock.now().tzinfo)


def totals(
    session: Session,
    *,
    by: Sequence[str] = (),
    user: int | Iterable[int] | Select[Any] | None = None,
    school_ids: Iterable[int] | None = None,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    programme: str | None = None,
    as_of: date | None = None,
) -> dict[tuple[Any, ...], Hours]:
    """Hours by status grouped by `by`, in one grouped statement (the signature of `credits.hours.totals`)."""
    columns = [DIMENSIONS[d] for d in by]
    stmt = select(*columns, LedgerEntry.status, func.sum(LedgerEntry.hours)).select_from(LedgerEntry)
    if school_ids is not None or "school" in by:
        stmt = stmt.join(User, User.id == LedgerEntry.user_id)
    if school_ids is not None:
        stmt = stmt.where(User.school_id.in_(list(school_ids)))
    if "topic" in by:
        stmt = stmt.join(CourseTopic, CourseTopic.course_id == LedgerEntry.course_id)
    if isinstance(user, int):
        stmt = stmt.where(LedgerEntry.user_id == user)
    elif isinstance(user, Select):
        stmt = stmt.where(LedgerEntry.user_id.in_(user))
    elif user is not None:
        stmt = stmt.where(LedgerEntry.user_id.in_(list(user)))
    if year is not None:
        stmt = stmt.where(LedgerEntry.year == year)
    if years is not None:
        stmt = stmt.where(LedgerEntry.year.between(*years))
    if programme == "induction":
        stmt = stmt.where(LedgerEntry.course_id.in_(select(Course.id).where(Course.tier == INDUCTION_TIER)))
    if as_of is not None:
        stmt = stmt.where(LedgerEntry.created_at < end_of(as_of))
    found: dict[tuple[Any, ...], Hours] = {}
    for *keys, status, hours in session.execute(stmt.group_by(*columns, LedgerEntry.status)):
        key = tuple(keys)
        found[key] = found.get(key, NONE).with_status(status, Decimal(hours or 0))
    return found


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


def decision_waits(session: Session, *, first: date, last: date) -> dict[int, Waits]:
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
