"""Programs measured against the ledger: the 32-hour induction (DOMAIN.md, Induction), annual hours of homeroom
teachers and the Shanghai five-year credit cycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from backend.catalogue.models import Course, CourseTopic
from backend.catalogue.taxonomy import CREDIT_CATEGORIES, TOPICS
from backend.credits import service as credits
from backend.credits.models import LedgerEntry
from backend.kit.i18n import _
from backend.people.models import ServicePeriod
from backend.policies.service import Policy
from backend.quizzes import service as quizzes


@dataclass(frozen=True)
class InductionProgress:
    hours: Decimal
    required: Decimal
    covered_topics: list[str]
    missing_topics: list[str]

    @property
    def hours_met(self) -> bool:
        return self.hours >= self.required

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.hours / self.required)) if self.required else 100

    @property
    def complete(self) -> bool:
        return self.hours_met and not self.missing_topics


def induction_progress(session: Session, user_id: int, policy: Policy) -> InductionProgress:
    """Hours from completed Horizon-tier courses, and which of the eight topics they covered."""
    credited = credits.credited_course_ids(session, user_id)
    courses = (
        session.scalars(
            select(Course).where(Course.id.in_(credited), Course.tier == "horizon").options(selectinload(Course.topics))
        ).all()
        if credited
        else []
    )
    hours = sum((credited[c.id] for c in courses), Decimal("0"))
    covered = {code for c in courses for code in c.topic_codes}
    return InductionProgress(
        hours=hours,
        required=policy.induction_hours,
        covered_topics=[t.code for t in TOPICS if t.code in covered],
        missing_topics=[t.code for t in TOPICS if t.code not in covered],
    )


def hours_by_tier(session: Session, user_id: int, year: int) -> dict[str, Decimal]:
    entries = [e for e in credits.entries_for(session, user_id, year) if e.status in credits.COUNTING_STATUSES]
    course_ids = {e.course_id for e in entries if e.course_id is not None}
    tiers = dict(session.execute(select(Course.id, Course.tier).where(Course.id.in_(course_ids))).tuples().all())
    result: dict[str, Decimal] = {}
    for e in entries:
        tier = tiers.get(e.course_id, "other") if e.course_id is not None else "other"
        result[tier] = result.get(tier, Decimal("0")) + e.hours
    return result


# ---------------------------------------------------------------------------------------------------------------
# Programs as rules: each says, check by check, what is met and what is missing.
#
# Only CERTIFIED hours decide a rule (net of reversing entries, which carry the status of what they reverse);
# hours still pending or verified are shown beside them as "awaiting certification".
# Dates: a service period runs from its start to its end inclusive (open end: still serving); on the day D of the
# check, the days served are those before D. Trainee days are the union of the trainee periods, so overlapping
# records count once and gaps count nothing. With the default 365 days, a trainee period from 2025-09-01 completes
# its year on 2026-09-01 (a year holding 29 February completes a day before its anniversary).


@dataclass(frozen=True)
class Check:
    code: str
    label: str  # gettext msgid
    met: bool
    have: str  # the figure, formatted (hours or credits with one decimal, days, counts)
    need: str
    missing: tuple[str, ...] = ()  # what is still missing, as gettext msgids (e.g. topic names)
    awaiting: Decimal = Decimal("0")  # hours (or credits) not yet certified that would count once certified
    unit: str = ""  # gettext msgid of what have/need count: credit hours, credits, days

    @property
    def short(self) -> str:
        """How much is missing, in the figure's own format ("" when met or not a quantity)."""
        if self.met or self.code in ("assessment", "topics"):
            return ""
        gap = Decimal(self.need) - Decimal(self.have)
        return _one(gap) if "." in self.need else str(int(gap))


@dataclass(frozen=True)
class ProgramResult:
    code: str  # induction | annual | cycle
    name: str  # gettext msgid
    applies: bool
    checks: tuple[Check, ...]
    period: str = ""  # e.g. "2026" or "2026–2030"

    @property
    def met(self) -> bool:
        return self.applies and all(c.met for c in self.checks)


def _one(value: Decimal) -> str:
    """One decimal, cut rather than rounded: 7.99 credits must not read as the 8.0 they fall short of."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_DOWN))


def _hours_by(session: Session, user_id: int, years: tuple[int, int], *columns):  # type: ignore[no-untyped-def]
    """Net hours per (status group, *columns) for the teacher's entries in the year range; rejected never count."""
    rows = session.execute(
        select(LedgerEntry.status, *columns, func.sum(LedgerEntry.hours))
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.year.between(*years),
            LedgerEntry.status.in_(credits.COUNTING_STATUSES),
        )
        .group_by(LedgerEntry.status, *columns)
    ).all()
    certified: dict[tuple, Decimal] = {}
    awaiting: dict[tuple, Decimal] = {}
    for status, *keys, hours in rows:
        target = certified if status == "certified" else awaiting
        target[tuple(keys)] = target.get(tuple(keys), Decimal("0")) + Decimal(hours or 0)
    return certified, awaiting


def served_days(periods: list[tuple[date, date | None]], as_of: date) -> int:
    """Days before `as_of` covered by at least one of the (start, end inclusive) periods."""
    total, reach = 0, date.min
    for start, end in sorted(periods):
        stop = min(end + timedelta(days=1), as_of) if end else as_of
        start = max(start, reach)
        if stop > start:
            total += (stop - start).days
            reach = stop
    return total


def _periods(session: Session, user_id: int, kinds: frozenset[str]) -> list[tuple[date, date | None]]:
    return [
        (start, end)
        for start, end in session.execute(
            select(ServicePeriod.start, ServicePeriod.end).where(
                ServicePeriod.user_id == user_id, ServicePeriod.kind.in_(kinds)
            )
        )
    ]


def _assessment_passed(session: Session, user_id: int, policy: Policy) -> bool:
    """The quiz of the assessment course (any version of its code), passed as the quiz counts its attempts."""
    if not policy.induction_assessment_course:
        return False
    course_ids = session.scalars(select(Course.id).where(Course.code == policy.induction_assessment_course))
    for course_id in course_ids:
        quiz = quizzes.quiz_for_course(session, course_id)
        if quiz is not None and quizzes.has_passed(session, quiz.id, user_id):
            return True
    return False


def induction_program(session: Session, user_id: int, policy: Policy, as_of: date) -> ProgramResult:
    """DOMAIN.md, Induction: ≥ 32 certified hours of Horizon courses covering all eight topics, the assessment
    passed and ≥ 1 year as trainee homeroom teacher → eligible for appointment."""
    rows = session.execute(
        select(LedgerEntry.course_id, LedgerEntry.status, func.sum(LedgerEntry.hours))
        .join(Course, Course.id == LedgerEntry.course_id)
        .where(
            LedgerEntry.user_id == user_id, Course.tier == "horizon", LedgerEntry.status.in_(credits.COUNTING_STATUSES)
        )
        .group_by(LedgerEntry.course_id, LedgerEntry.status)
    ).all()
    certified = {cid: Decimal("0") for cid, _s, _h in rows}
    awaiting = Decimal("0")
    for cid, status, hours in rows:
        if status == "certified":
            certified[cid] += Decimal(hours or 0)
        else:
            awaiting += Decimal(hours or 0)
    counted = [cid for cid, h in certified.items() if h > 0]
    hours = sum((certified[cid] for cid in counted), Decimal("0"))
    covered = (
        {t.topic for t in session.scalars(select(CourseTopic).where(CourseTopic.course_id.in_(counted)))}
        if counted
        else set()
    )
    missing_topics = tuple(t.name for t in TOPICS if t.code not in covered)
    days = served_days(_periods(session, user_id, frozenset({"trainee"})), as_of)
    assessment = _assessment_passed(session, user_id, policy)
    checks = (
        Check(
            "hours",
            _("Certified induction hours"),
            hours >= policy.induction_hours,
            _one(hours),
            _one(policy.induction_hours),
            awaiting=awaiting,
            unit=HOURS,
        ),
        Check(
            "topics",
            _("All eight topics covered"),
            not missing_topics,
            str(len(TOPICS) - len(missing_topics)),
            str(len(TOPICS)),
            missing=missing_topics,
            unit=_("topics"),
        ),
        Check("assessment", _("Induction assessment passed"), assessment, "1" if assessment else "0", "1"),
        Check(
            "trainee",
            _("Days as trainee homeroom teacher"),
            days >= policy.induction_trainee_days,
            str(days),
            str(policy.induction_trainee_days),
            unit=_("days"),
        ),
    )
    return ProgramResult("induction", _("Induction: eligible for appointment"), True, checks)


def annual_program(session: Session, user_id: int, policy: Policy, year: int) -> ProgramResult:
    """Annual hours for homeroom teachers: applies in a year with a homeroom service period (policy kinds)."""
    kinds = frozenset(k.strip() for k in policy.homeroom_service_kinds.split(",") if k.strip())
    periods = _periods(session, user_id, kinds)
    first, last = date(year, 1, 1), date(year, 12, 31)
    applies = any(start <= last and (end is None or end >= first) for start, end in periods)
    certified, awaiting = _hours_by(session, user_id, (year, year))
    have, pending = sum(certified.values(), Decimal("0")), sum(awaiting.values(), Decimal("0"))
    check = Check(
        "hours",
        _("Certified hours this year"),
        have >= policy.annual_hours_target,
        _one(have),
        _one(policy.annual_hours_target),
        awaiting=pending,
        unit=HOURS,
    )
    return ProgramResult("annual", _("Annual hours of a homeroom teacher"), applies, (check,), period=str(year))


def cycle_years(policy: Policy, year: int) -> tuple[int, int]:
    """The five-year cycle containing `year` (2021–2025, 2026–2030 with the defaults)."""
    first = policy.cycle_first_year + ((year - policy.cycle_first_year) // policy.cycle_years) * policy.cycle_years
    return first, first + policy.cycle_years - 1


def cycle_program(session: Session, user_id: int, policy: Policy, year: int) -> ProgramResult:
    """The Shanghai five-year cycle: ≥ 36 credits with category and level minimums; hours ÷ hours_per_credit."""
    years = cycle_years(policy, year)
    certified, awaiting = _hours_by(session, user_id, years, LedgerEntry.category, LedgerEntry.level)
    per = policy.hours_per_credit

    def credits_where(table: dict[tuple, Decimal], index: int, value: str) -> Decimal:
        return sum((h for k, h in table.items() if _level(k[index], policy, index) == value), Decimal("0")) / per

    checks = []
    by_category = {c.code: credits_where(certified, 0, c.code) for c in CREDIT_CATEGORIES}
    counted_total = sum(by_category.values(), Decimal("0")) - max(
        Decimal("0"), by_category["self_study"] - policy.cycle_max_self_study
    )
    pending_total = sum(awaiting.values(), Decimal("0")) / per
    checks.append(
        Check(
            "total",
            _("Credits in the cycle"),
            counted_total >= policy.cycle_credits,
            _one(counted_total),
            _one(policy.cycle_credits),
            awaiting=pending_total,
            unit=CREDITS,
        )
    )
    for c in CREDIT_CATEGORIES:
        need = getattr(policy, f"cycle_min_{c.code}")
        checks.append(
            Check(
                f"category_{c.code}",
                c.name,
                by_category[c.code] >= need,
                _one(by_category[c.code]),
                _one(need),
                awaiting=credits_where(awaiting, 0, c.code),
                unit=CREDITS,
            )
        )
    for code, label in LEVEL_LABELS:
        need = getattr(policy, f"cycle_min_{code}")
        have = credits_where(certified, 1, code)
        checks.append(
            Check(
                f"level_{code}",
                label,
                have >= need,
                _one(have),
                _one(need),
                awaiting=credits_where(awaiting, 1, code),
                unit=CREDITS,
            )
        )
    return ProgramResult("cycle", _("Five-year credit cycle"), True, tuple(checks), period=f"{years[0]}–{years[1]}")


HOURS, CREDITS = _("credit hours"), _("credits")
LEVEL_LABELS = (("city", _("City level")), ("district", _("District level")), ("school", _("School-based")))


def _level(value: str, policy: Policy, index: int) -> str:
    """Category keys pass through; the workshop level counts toward the level the policy names."""
    return policy.workshop_counts_as_level if index == 1 and value == "workshop" else value


def programs_for(session: Session, user_id: int, policy: Policy, today: date) -> list[ProgramResult]:
    return [
        induction_program(session, user_id, policy, today),
        annual_program(session, user_id, policy, today.year),
        cycle_program(session, user_id, policy, today.year),
    ]
