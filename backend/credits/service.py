"""Credit hours: writing ledger entries and deriving every total from them.

The ledger is append-only; nothing here updates or deletes an entry's hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.credits.models import LedgerEntry
from backend.kit import clock

COUNTING_STATUSES = ("pending", "verified", "certified")


CATEGORIES = ("ethics", "knowledge_skills", "practice", "self_study")
LEVELS = ("city", "district", "school", "workshop")


def _append_once(session: Session, entry: LedgerEntry) -> LedgerEntry:
    """Add an entry unless its (source, source_ref) is already in the ledger; return the one that is."""
    lookup = select(LedgerEntry).where(LedgerEntry.source == entry.source, LedgerEntry.source_ref == entry.source_ref)
    existing = session.scalar(lookup)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # Another request recorded the same event a moment ago.
        return session.scalars(lookup).one()
    return entry


def record_course_completion(
    session: Session, *, user_id: int, course_id: int, enrollment_id: int, hours: Decimal, category: str
) -> LedgerEntry:
    """One entry per enrollment, however often completion is evaluated (unique source + source_ref)."""
    now = clock.now()
    return _append_once(
        session,
        LedgerEntry(
            user_id=user_id,
            hours=hours,
            category=category,
            level="district",  # the district's network course library (DOMAIN.md, four study levels)
            source="course_completion",
            source_ref=f"enrollment:{enrollment_id}",
            course_id=course_id,
            year=clock.local_year(now),
            status="pending",
            created_at=now,
        ),
    )


def record_offline_attendance(
    session: Session, *, user_id: int, hours: Decimal, category: str, level: str, session_ref: str, year: int
) -> LedgerEntry:
    """A pending entry for a teacher's attendance at an offline session (school-based or workshop).

    Idempotent per (session_ref, teacher): a second check-in or hand-marking returns the first entry.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    hours = Decimal(hours)
    if hours <= 0:
        raise ValueError("hours must be positive")
    return _append_once(
        session,
        LedgerEntry(
            user_id=user_id,
            hours=hours,
            category=category,
            level=level,
            source="offline_session",
            source_ref=f"{session_ref}:user:{user_id}"[:64],
            course_id=None,
            year=year,
            status="pending",
            created_at=clock.now(),
        ),
    )


def entries_for(session: Session, user_id: int, year: int | None = None) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.created_at.desc())
    if year is not None:
        stmt = stmt.where(LedgerEntry.year == year)
    return list(session.scalars(stmt))


@dataclass
class HoursSummary:
    year: int
    total: Decimal = Decimal("0")
    by_status: dict[str, Decimal] = field(default_factory=dict)
    course_ids: set[int] = field(default_factory=set)


def summary(session: Session, user_id: int, year: int) -> HoursSummary:
    result = HoursSummary(year=year)
    for entry in entries_for(session, user_id, year):
        result.by_status[entry.status] = result.by_status.get(entry.status, Decimal("0")) + entry.hours
        if entry.status in COUNTING_STATUSES:
            result.total += entry.hours
            if entry.course_id is not None:
                result.course_ids.add(entry.course_id)
    return result


def credited_course_ids(session: Session, user_id: int) -> dict[int, Decimal]:
    """Courses whose completion hours count (any year), with the hours, net of reversals."""
    hours: dict[int, Decimal] = {}
    for entry in session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.course_id.is_not(None),
            LedgerEntry.status.in_(COUNTING_STATUSES),
        )
    ):
        assert entry.course_id is not None
        hours[entry.course_id] = hours.get(entry.course_id, Decimal("0")) + entry.hours
    return {cid: h for cid, h in hours.items() if h > 0}
