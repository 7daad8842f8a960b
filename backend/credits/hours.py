"""Countable hours: the one reading of the ledger (issue 13, "Hours mean one thing everywhere").

Every figure of hours the portal shows, prints or exports — learner pages, programmes (induction, annual, cycle),
certificates, the title review and its export, the integration API, the evidence pages and the district dashboards —
is a sum computed here. Nothing else sums `ledger_entries.hours`.

Statuses (`Status`, one enum): an entry is pending (待核定, waiting for the school) → verified (已核定, waiting for the
district) → certified (已认定) or rejected (退回). Only CERTIFIED hours count toward any rule, certificate or export
(`COUNTED`); pending and verified hours are AWAITING certification and are shown beside the counted figure, labelled;
rejected hours never count. A correction is a reversing entry with negative hours and the status of what it reverses,
so a plain sum per status is already net of corrections.

Dimensions: a total can be split by any of `DIMENSIONS` (teacher, the teacher's school, the year of the training,
category, level, source, course, tier, induction topic). The categories and levels are those of
`backend.policies.taxonomy` (defined once there). The year is the year of the TRAINING DATE (`trained_on`), not of
the day the entry was written. Programmes: `programme="induction"` keeps the entries that count toward the induction
training: entries tagged with an induction topic (`ledger_entry_topics`: a Horizon course's topics, an offline
session's or an external record's topic) and completions of Horizon courses; the annual rule is `year=…`, the
five-year cycle `years=(first, last)`.

"As of": `as_of=D` answers as the ledger stood at the end of day D (Asia/Shanghai): only entries recorded by then,
each with the status it had then (read from its status history, `ledger_entry_events`). Without `as_of`, the
current status.

Every query is one grouped SQL statement (GROUP BY the dimensions and the status); no per-entry Python. For
dashboards, `by_school()` and `teachers_reaching()` aggregate a whole district in one statement each.

    totals(session, by=("category",), user_id=7, year=2026)  →  {("ethics",): Hours(certified=…, …), …}
    teacher_total(session, 7, year=2026).certified           →  Decimal("31.5")
    by_school(session, year=2026)                             →  {school_id: Hours, …}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.accounts.models import User
from backend.catalogue.models import Course
from backend.credits.models import LedgerEntry, LedgerEntryEvent, LedgerEntryTopic
from backend.kit import clock
from backend.kit.i18n import _
from backend.policies.taxonomy import CREDIT_CATEGORIES, CREDIT_LEVELS

ZERO = Decimal("0")


class Status(StrEnum):
    """Where an entry stands. The column `ledger_entries.status` holds one of these values."""

    pending = "pending"  # 待核定: recorded, waiting for the teacher's school admin
    verified = "verified"  # 已核定: the school checked it, waiting for the district
    certified = "certified"  # 已认定: certified by the district — the hours that count
    rejected = "rejected"  # 退回: sent back with a reason; never counts


COUNTED: frozenset[Status] = frozenset({Status.certified})
AWAITING: frozenset[Status] = frozenset({Status.pending, Status.verified})
LIVE: frozenset[Status] = COUNTED | AWAITING  # every status whose hours may still count
STATUSES: tuple[Status, ...] = (Status.pending, Status.verified, Status.certified, Status.rejected)

# The one line every page showing hours carries beside its figures.
STATUS_NOTE = _(
    "Only certified hours (已认定) count toward rules and certificates. Pending hours wait for your school to verify "
    "them, verified hours for the district to certify them; hours sent back do not count."
)

CATEGORIES: tuple[str, ...] = tuple(c.code for c in CREDIT_CATEGORIES)
LEVELS: tuple[str, ...] = tuple(level.code for level in CREDIT_LEVELS)
PROGRAMMES = ("induction",)
INDUCTION_TIER = "horizon"  # DOMAIN.md, four tiers: induction is the Horizon tier's training


@dataclass(frozen=True)
class Hours:
    """Hours by status. `certified` is the figure that counts; `awaiting` is shown beside it."""

    certified: Decimal = ZERO
    verified: Decimal = ZERO
    pending: Decimal = ZERO
    rejected: Decimal = ZERO

    @property
    def awaiting(self) -> Decimal:
        return self.pending + self.verified

    @property
    def recorded(self) -> Decimal:
        """Every hour not sent back: counted and awaiting."""
        return self.certified + self.awaiting

    def __add__(self, other: Hours) -> Hours:
        return Hours(
            self.certified + other.certified,
            self.verified + other.verified,
            self.pending + other.pending,
            self.rejected + other.rejected,
        )

    def with_status(self, status: str, hours: Decimal) -> Hours:
        if status not in Status.__members__:
            return self
        return Hours(**{**self.__dict__, status: getattr(self, status) + hours})


NONE = Hours()


# ---------------------------------------------------------------------------------------------------------------
# Dimensions and filters


DIMENSIONS: dict[str, Any] = {
    "user": LedgerEntry.user_id,
    "school": User.school_id,
    "year": LedgerEntry.year,
    "category": LedgerEntry.category,
    "level": LedgerEntry.level,
    "source": LedgerEntry.source,
    "course": LedgerEntry.course_id,
    "tier": Course.tier,
    "topic": LedgerEntryTopic.topic,
}


def end_of(day: date) -> datetime:
    """The first moment after `day` in Shanghai, in UTC: "as of D" includes everything recorded on D."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.SHANGHAI).astimezone(UTC)


def today() -> date:
    return clock.now().astimezone(clock.SHANGHAI).date()


def status_as_of(as_of: date | None) -> Any:
    """The entry's status at the end of `as_of`: the last move recorded by then; before its first move, the status
    that move started from; with no move at all, the status it was written with. Today or later: the column."""
    if as_of is None or as_of >= today():
        return LedgerEntry.status
    end = end_of(as_of)
    last = (
        select(LedgerEntryEvent.to_status)
        .where(LedgerEntryEvent.entry_id == LedgerEntry.id, LedgerEntryEvent.at < end)
        .order_by(LedgerEntryEvent.at.desc(), LedgerEntryEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first = (
        select(LedgerEntryEvent.from_status)
        .where(LedgerEntryEvent.entry_id == LedgerEntry.id)
        .order_by(LedgerEntryEvent.at, LedgerEntryEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last, first, LedgerEntry.status)


UserFilter = int | Iterable[int] | Select[Any] | None


def _conditions(
    *,
    user: UserFilter,
    school_ids: Iterable[int] | None,
    year: int | None,
    years: tuple[int, int] | None,
    categories: Iterable[str] | None,
    programme: str | None,
    as_of: date | None,
) -> tuple[list[ColumnElement[bool]], bool]:
    """WHERE conditions, and whether they need the teacher's row (school)."""
    where: list[ColumnElement[bool]] = []
    if isinstance(user, int):
        where.append(LedgerEntry.user_id == user)
    elif isinstance(user, Select):
        where.append(LedgerEntry.user_id.in_(user))
    elif user is not None:
        where.append(LedgerEntry.user_id.in_(list(user)))
    needs_user = False
    if school_ids is not None:
        where.append(User.school_id.in_(list(school_ids)))
        needs_user = True
    if year is not None:
        where.append(LedgerEntry.year == year)
    if years is not None:
        where.append(LedgerEntry.year.between(*years))
    if categories is not None:
        where.append(LedgerEntry.category.in_(list(categories)))
    if programme is not None:
        if programme not in PROGRAMMES:
            raise ValueError(f"unknown programme {programme!r}")
        where.append(induction_condition())
    if as_of is not None and as_of < today():
        where.append(LedgerEntry.created_at < end_of(as_of))
        where.append(LedgerEntry.trained_on <= as_of)
    return where, needs_user


def induction_condition() -> ColumnElement[bool]:
    """Entries that count toward the induction training: tagged with an induction topic (from any source), or
    completions of Horizon courses (and the corrections of either, which carry the same tags and course)."""
    tags = aliased(LedgerEntryTopic)  # apart from the topic table a "topic" split joins
    return or_(
        exists().where(tags.entry_id == LedgerEntry.id),
        LedgerEntry.course_id.in_(select(Course.id).where(Course.tier == INDUCTION_TIER)),
    )


def totals(
    session: Session,
    *,
    by: Sequence[str] = (),
    user: UserFilter = None,
    school_ids: Iterable[int] | None = None,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    categories: Iterable[str] | None = None,
    programme: str | None = None,
    as_of: date | None = None,
) -> dict[tuple[Any, ...], Hours]:
    """Hours by status, grouped by the dimensions `by` (names of `DIMENSIONS`), in one grouped SQL statement.

    `user`: one teacher's id, several ids, or a SELECT of ids (a school, a page of an export). `year` / `years`:
    the year of the training (inclusive range). Keys are tuples of the dimension values in the order of `by`
    (the empty tuple without `by`). By "topic", an entry of a course with several topics counts under each of them:
    use it for coverage, not for a sum across topics."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}")
    where, needs_user = _conditions(
        user=user,
        school_ids=school_ids,
        year=year,
        years=years,
        categories=categories,
        programme=programme,
        as_of=as_of,
    )
    status = status_as_of(as_of).label("status")
    columns = [DIMENSIONS[d] for d in by]
    stmt = select(*columns, status, func.sum(LedgerEntry.hours)).select_from(LedgerEntry)
    if needs_user or "school" in by:
        stmt = stmt.join(User, User.id == LedgerEntry.user_id)
    if "tier" in by:
        stmt = stmt.outerjoin(Course, Course.id == LedgerEntry.course_id)
    if "topic" in by:
        stmt = stmt.join(LedgerEntryTopic, LedgerEntryTopic.entry_id == LedgerEntry.id)
    rows = session.execute(stmt.where(*where).group_by(*columns, status)).all()
    found: dict[tuple[Any, ...], Hours] = {}
    for *keys, entry_status, hours in rows:
        key = tuple(keys)
        found[key] = found.get(key, NONE).with_status(entry_status, Decimal(hours or 0))
    return found


def teacher_total(
    session: Session,
    user_id: int,
    *,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    programme: str | None = None,
    as_of: date | None = None,
) -> Hours:
    """One teacher's hours (in a year, a range of years, a programme)."""
    return totals(session, user=user_id, year=year, years=years, programme=programme, as_of=as_of).get((), NONE)


def by_year(session: Session, user_id: int, *, as_of: date | None = None) -> dict[int, Hours]:
    """One teacher's hours per year of training."""
    return {key[0]: h for key, h in totals(session, by=("year",), user=user_id, as_of=as_of).items()}


def course_hours(session: Session, user_id: int, *, as_of: date | None = None) -> dict[int, Hours]:
    """One teacher's hours per course (any year), net of corrections."""
    found = totals(session, by=("course",), user=user_id, as_of=as_of)
    return {key[0]: h for key, h in found.items() if key[0] is not None}


def certified_courses(session: Session, user_id: int) -> dict[int, Decimal]:
    """Courses whose completion hours are certified (net of corrections above zero), with those hours."""
    return {cid: h.certified for cid, h in course_hours(session, user_id).items() if h.certified > 0}


@dataclass(frozen=True)
class InductionHours:
    hours: Hours  # toward the induction's required hours
    covered: frozenset[str]  # topics covered by certified hours
    awaiting_topics: frozenset[str]  # topics that certification of awaiting hours would cover


def induction(session: Session, user_id: int, *, as_of: date | None = None) -> InductionHours:
    """The teacher's hours toward the induction, and the topics their certified hours cover (two grouped queries)."""
    hours = teacher_total(session, user_id, programme="induction", as_of=as_of)
    topics = totals(session, by=("topic",), user=user_id, programme="induction", as_of=as_of)
    covered = frozenset(key[0] for key, h in topics.items() if h.certified > 0)
    awaiting = frozenset(key[0] for key, h in topics.items() if h.awaiting > 0) - covered
    return InductionHours(hours, covered, awaiting)


@dataclass(frozen=True)
class Certification:
    """The moment an entry's hours began to count (its certification; a correction counts from its writing)."""

    at: datetime
    hours: Decimal
    topics: frozenset[str]


def induction_certifications(session: Session, user_id: int) -> list[Certification]:
    """The teacher's certified induction entries in the order they began to count: what the dates on which the
    induction's hours and topics were met are read from (two queries)."""
    certified_at = (
        select(func.min(LedgerEntryEvent.at))
        .where(LedgerEntryEvent.entry_id == LedgerEntry.id, LedgerEntryEvent.to_status == Status.certified)
        .scalar_subquery()
    )
    rows = session.execute(
        select(LedgerEntry.id, LedgerEntry.hours, LedgerEntry.created_at, certified_at).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.status.in_(sorted(COUNTED)),
            induction_condition(),
        )
    ).all()
    ids = [r[0] for r in rows]
    tags: dict[int, set[str]] = {}
    if ids:
        for entry_id, topic in session.execute(
            select(LedgerEntryTopic.entry_id, LedgerEntryTopic.topic).where(LedgerEntryTopic.entry_id.in_(ids))
        ):
            tags.setdefault(entry_id, set()).add(topic)
    found = [
        Certification(at or created, Decimal(amount), frozenset(tags.get(entry_id, ())))
        for entry_id, amount, created, at in rows
    ]
    return sorted(found, key=lambda c: c.at)


# ---------------------------------------------------------------------------------------------------------------
# Aggregates for administrators and dashboards


def by_school(
    session: Session,
    *,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    school_ids: Iterable[int] | None = None,
    by: Sequence[str] = (),
    as_of: date | None = None,
) -> dict[Any, Hours]:
    """Hours of each school's teachers (the school a teacher belongs to now), optionally split further by `by`
    (e.g. ("category",)): keys are the school id, or (school id, *by) when split. One grouped statement."""
    found = totals(session, by=("school", *by), school_ids=school_ids, year=year, years=years, as_of=as_of)
    return {(key[0] if not by else key): h for key, h in found.items()}


def teachers_reaching(
    session: Session,
    *,
    year: int,
    target: Decimal,
    school_ids: Iterable[int] | None = None,
) -> dict[int | None, tuple[int, int]]:
    """Per school: (teachers with certified hours in the year, of them those whose certified hours reach `target`).
    Teachers without any certified hour are not counted here; a dashboard takes the school's headcount from people.
    One statement: certified sums per teacher, then counted per school."""
    per_teacher = (
        select(LedgerEntry.user_id.label("user_id"), func.sum(LedgerEntry.hours).label("hours"))
        .where(LedgerEntry.year == year, LedgerEntry.status.in_(sorted(COUNTED)))
        .group_by(LedgerEntry.user_id)
        .subquery()
    )
    stmt = (
        select(
            User.school_id,
            func.count(),
            func.sum(case((per_teacher.c.hours >= target, 1), else_=0)),
        )
        .select_from(per_teacher)
        .join(User, User.id == per_teacher.c.user_id)
        .group_by(User.school_id)
    )
    if school_ids is not None:
        stmt = stmt.where(User.school_id.in_(list(school_ids)))
    return {school: (int(n), int(reached or 0)) for school, n, reached in session.execute(stmt)}


def certified_pivot(users: Select[Any], years: Sequence[int]) -> Select[Any]:
    """For streaming exports: one row per teacher of `users` with certified hours in `years`, ordered by teacher:
    (user_id, then per year the four categories and the year's total, then the total over `years`), each as text
    ("12.5"), so a district's hundreds of thousands of sums need not be parsed as Decimals to be written."""

    def hours_sum(*conditions: ColumnElement[bool]) -> Any:
        picked = case((and_(*conditions), LedgerEntry.hours)) if conditions else LedgerEntry.hours
        return cast(func.coalesce(func.sum(picked), 0), String)

    sums = [
        hours_sum(LedgerEntry.year == y, LedgerEntry.category == c) if c else hours_sum(LedgerEntry.year == y)
        for y in years
        for c in (*CATEGORIES, None)
    ]
    sums.append(hours_sum())
    return (
        select(LedgerEntry.user_id, *sums)
        .where(
            LedgerEntry.user_id.in_(users),
            LedgerEntry.year.in_(list(years)),
            LedgerEntry.status.in_(sorted(COUNTED)),
        )
        .group_by(LedgerEntry.user_id)
        .order_by(LedgerEntry.user_id)
    )


def pivot_width(years: Sequence[int]) -> int:
    """How many sums a `certified_pivot` row carries after the teacher's id."""
    return len(years) * (len(CATEGORIES) + 1) + 1


# ---------------------------------------------------------------------------------------------------------------
# The entries behind the figures


def entries(
    session: Session,
    user_id: int,
    *,
    year: int | None = None,
    years: Sequence[int] | None = None,
    statuses: Iterable[str] | None = None,
) -> list[LedgerEntry]:
    """One teacher's entries, latest training date first (the rows a page lists beside its totals)."""
    stmt = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    if year is not None:
        stmt = stmt.where(LedgerEntry.year == year)
    if years is not None:
        stmt = stmt.where(LedgerEntry.year.in_(list(years)))
    if statuses is not None:
        stmt = stmt.where(LedgerEntry.status.in_(sorted(statuses)))
    order = (LedgerEntry.trained_on.desc(), LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    return list(session.scalars(stmt.order_by(*order)))

