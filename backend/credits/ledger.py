"""Credit hours: writing ledger entries. Every total is read through `backend.credits.hours`.

The ledger is append-only; nothing here updates or deletes an entry's hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.catalogue.models import Course, CourseTopic
from backend.credits import chain
from backend.credits.hours import CATEGORIES, INDUCTION_TIER, LEVELS
from backend.credits.models import LedgerEntry, LedgerEntryTopic
from backend.kit import clock
from backend.policies.taxonomy import TOPIC_CODES


def _append_once(session: Session, entry: LedgerEntry, topics: Iterable[str] = ()) -> LedgerEntry:
    """Add an entry (with its induction topic tags) unless its (source, source_ref) is already in the ledger;
    return the one that is."""
    lookup = select(LedgerEntry).where(LedgerEntry.source == entry.source, LedgerEntry.source_ref == entry.source_ref)
    existing = session.scalar(lookup)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            tag(session, entry, topics)
            session.add(entry)
            session.flush()
    except IntegrityError:
        # Another request recorded the same event a moment ago.
        return session.scalars(lookup).one()
    return entry


def tag(session: Session, entry: LedgerEntry, topics: Iterable[str]) -> None:
    """Gives a new entry, before it is written, the induction topics it covers (unknown codes are refused: they
    would count nowhere). The topics are part of the entry's chain hash (`backend.credits.chain`), so they are
    written with it, in the same flush, and never after: tagging an entry already written is refused."""
    codes = sorted(set(topics))
    unknown = [code for code in codes if code not in TOPIC_CODES]
    if unknown:
        raise ValueError(f"unknown topics {unknown}")
    if entry.chain_hash is not None:
        raise ValueError("an entry's induction topics are written with it: tag it before it is flushed")
    inspect(entry).info[chain.TOPICS_INFO] = codes


def topics_of(session: Session, entry_id: int) -> list[str]:
    return list(session.scalars(select(LedgerEntryTopic.topic).where(LedgerEntryTopic.entry_id == entry_id)))


def induction_topics_of_course(session: Session, course_id: int) -> list[str]:
    """The topics a completion of this course covers toward the induction: a Horizon course's topics."""
    return list(
        session.scalars(
            select(CourseTopic.topic)
            .join(Course, Course.id == CourseTopic.course_id)
            .where(CourseTopic.course_id == course_id, Course.tier == INDUCTION_TIER)
        )
    )


def record_course_completion(
    session: Session, *, user_id: int, course_id: int, enrollment_id: int, hours: Decimal, category: str
) -> LedgerEntry:
    """One entry per enrollment, however often completion is evaluated (unique source + source_ref). Trained on the
    day of completion; a Horizon course's topics are the entry's induction topics."""
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
            trained_on=now.astimezone(clock.SHANGHAI).date(),
            status="pending",
            created_at=now,
        ),
        induction_topics_of_course(session, course_id),
    )


def record_offline_attendance(
    session: Session,
    *,
    user_id: int,
    hours: Decimal,
    category: str,
    level: str,
    session_ref: str,
    day: date,
    topic: str | None = None,
) -> LedgerEntry:
    """A pending entry for a teacher's attendance at an offline session (school-based or workshop), trained on the
    session's day and tagged with its induction topic, if it has one.

    Idempotent per (session_ref, teacher): a second check-in or hand-marking returns the first entry.
    """
    return _record_pending(
        session, user_id=user_id, hours=hours, category=category, level=level, source="offline_session",
        ref=session_ref, day=day, topics=[topic] if topic else [],
    )  # fmt: skip


def record_mentoring(
    session: Session, *, user_id: int, hours: Decimal, category: str, level: str, mentoring_ref: str, day: date
) -> LedgerEntry:
    """A pending entry for a mentor's or a mentee's part in a signed-off mentoring pair (issue 16: 带教、跟岗), trained
    on the day of the pair's last meeting. Idempotent per (mentoring_ref, person): a second sign-off changes nothing."""
    return _record_pending(
        session, user_id=user_id, hours=hours, category=category, level=level, source="mentoring",
        ref=mentoring_ref, day=day,
    )  # fmt: skip


def _record_pending(
    session: Session,
    *,
    user_id: int,
    hours: Decimal,
    category: str,
    level: str,
    source: str,
    ref: str,
    day: date,
    topics: Iterable[str] = (),
) -> LedgerEntry:
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
            source=source,
            source_ref=f"{ref}:user:{user_id}"[:64],
            course_id=None,
            year=day.year,
            trained_on=day,
            status="pending",
            created_at=clock.now(),
        ),
        topics,
    )
