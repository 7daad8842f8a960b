"""Programs measured against the ledger: the 32-hour induction (DOMAIN.md, Induction), annual hours of homeroom
teachers and the Shanghai five-year credit cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.catalogue.models import Course
from backend.credits import hours
from backend.kit import clock
from backend.kit.i18n import _
from backend.people import rules
from backend.people.models import ServicePeriod
from backend.policies.service import Policy
from backend.policies.taxonomy import CREDIT_CATEGORIES, TOPICS
from backend.quizzes import service as quizzes


def hours_by_tier(session: Session, user_id: int, year: int) -> dict[str, hours.Hours]:
    """The teacher's hours of a year by course tier ("other" for entries without a course)."""
    return {key[0] or "other": h for key, h in hours.totals(session, by=("tier",), user=user_id, year=year).items()}


# ---------------------------------------------------------------------------------------------------------------
# Programs as rules: each says, check by check, what is met and what is missing.
#
# Only CERTIFIED hours decide a rule (net of reversing entries, which carry the status of what they reverse);
# hours still pending or verified are shown beside them as "awaiting certification".
# Dates: a service period runs from its start to its end inclusive (open end: still serving); on the day D of the
# check, the days served are those before D. Trainee days are the union of the trainee periods, so overlapping
# records count once and gaps count nothing. A trainee year is complete when they reach the days from the first
# trainee day to its anniversary (`backend.people.rules`, the one definition of a year): a period from 2025-09-01
# completes on 2026-09-01, one from 2024-02-29 on 2025-03-01.


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
    met_on: date | None = None  # the day it was met (induction), when known
    who_acts: str = ""  # gettext msgid: who acts next while it is not met

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
    completed_on: date | None = None  # the day every check was met (induction)
    as_of: date | None = None  # the day the answer is about

    @property
    def met(self) -> bool:
        return self.applies and all(c.met for c in self.checks)


def _one(value: Decimal) -> str:
    """One decimal, cut rather than rounded: 7.99 credits must not read as the 8.0 they fall short of."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_DOWN))


def _hours_by(session: Session, user_id: int, years: tuple[int, int], *dims: str):  # type: ignore[no-untyped-def]
    """Certified and awaiting hours per key of `dims` for the teacher's entries in the year range."""
    found = hours.totals(session, by=dims, user=user_id, years=years)
    certified = {key: h.certified for key, h in found.items()}
    awaiting = {key: h.awaiting for key, h in found.items()}
    return certified, awaiting


def _periods(session: Session, user_id: int, kinds: frozenset[str]) -> list[tuple[date, date | None]]:
    return [
        (start, end)
        for start, end in session.execute(
            select(ServicePeriod.start, ServicePeriod.end).where(
                ServicePeriod.user_id == user_id, ServicePeriod.kind.in_(kinds)
            )
        )
    ]


def trainee_days(session: Session, user_id: int, policy: Policy, as_of: date) -> tuple[int, int]:
    """Days served as trainee homeroom teacher before `as_of` (the union of the trainee periods), and the days the
    policy's years hold from the first trainee day: one definition of a year for every rule
    (`backend.people.rules.days_for_years`, the anniversary; 29 February rolls to 1 March)."""
    periods = [
        rules.Period(n, "trainee", None, start, end)
        for n, (start, end) in enumerate(_periods(session, user_id, frozenset({"trainee"})))
    ]
    first = rules.first_day(periods)
    return rules.covered_days(periods, as_of), rules.days_for_years(policy.induction.induction_trainee_years, first)


def assessment_problem(session: Session, policy: Policy) -> str | None:
    """Why nobody can pass the induction assessment, for the district admin to fix (None: it is set up)."""
    if not policy.induction.induction_assessment_course:
        return _("The induction assessment is not set up, so no teacher can complete the induction: name the "
                 "assessment course in the policy settings.")
    ids = list(session.scalars(select(Course.id).where(Course.code == policy.induction.induction_assessment_course)))
    if not any(quizzes.quiz_for_course(session, cid) is not None for cid in ids):
        return _("The induction assessment names a course without a quiz, so no teacher can complete the "
                 "induction: check the assessment course in the policy settings.")
    return None


def trainee_year_on(session: Session, user_id: int, policy: Policy) -> date | None:
    """The day the trainee years were complete (None: not yet): the first day D whose days served before it reach
    the days needed. Open periods run on, so the day may lie ahead."""
    spans = sorted(_periods(session, user_id, frozenset({"trainee"})))
    if not spans:
        return None
    needed = rules.days_for_years(policy.induction.induction_trainee_years, spans[0][0])
    served, reach = 0, date.min
    for start, end in spans:
        start = max(start, reach)
        stop = end + timedelta(days=1) if end else date.max
        if stop <= start:
            continue
        if end is None or served + (stop - start).days >= needed:
            return start + timedelta(days=needed - served)
        served += (stop - start).days
        reach = stop
    return None


def assessment_passed_on(session: Session, user_id: int, policy: Policy, as_of: date) -> date | None:
    """The day the induction assessment was passed, as its quiz counts attempts, from the attempts submitted by the
    end of `as_of` (None: not passed by then, or no assessment set up)."""
    if not policy.induction.induction_assessment_course:
        return None
    end = hours.end_of(as_of)
    passed: list[datetime] = []
    code = policy.induction.induction_assessment_course
    for course_id in session.scalars(select(Course.id).where(Course.code == code)):
        quiz = quizzes.quiz_for_course(session, course_id)
        if quiz is None:
            continue
        submitted = [(a.submitted_at, a) for a in quizzes.attempts_of(session, quiz.id, user_id)
                     if a.submitted_at is not None and a.submitted_at < end]
        attempts = [a for _, a in sorted(submitted, key=lambda pair: pair[0])]
        since = None
        for n, attempt in enumerate(attempts, 1):
            counted = quizzes.counted_attempt(attempts[:n], quiz.counting)
            since = (since or attempt.submitted_at) if counted is not None and counted.passed else None
        if since is not None:
            passed.append(since)
    return min(passed).astimezone(clock.SHANGHAI).date() if passed else None


Rule = Callable[[Decimal, dict[str, Decimal]], bool]


def _met_on(certifications: list[hours.Certification], met: Rule) -> date | None:
    """The day since which `met(hours, hours by topic)` has held, walking the certifications in order."""
    total, by_topic, since = Decimal("0"), dict[str, Decimal](), None
    for c in certifications:
        total += c.hours
        for topic in c.topics:
            by_topic[topic] = by_topic.get(topic, Decimal("0")) + c.hours
        holds = met(total, by_topic)
        since = (since or c.at) if holds else None
    return since.astimezone(clock.SHANGHAI).date() if since else None


@dataclass(frozen=True)
class InductionDates:
    """The day each induction condition was met (None: not met as of the day asked) and the completion day."""

    hours: date | None
    topics: date | None
    assessment: date | None
    trainee: date | None

    @property
    def completed(self) -> date | None:
        days = (self.hours, self.topics, self.assessment, self.trainee)
        return max(days) if all(days) else None  # type: ignore[type-var]


def induction_dates(session: Session, user_id: int, policy: Policy, as_of: date) -> InductionDates:
    """When each condition was met, from the records themselves: the certification moments of the induction
    entries (their status history), the assessment's attempts, the trainee periods. As of `as_of`: a condition met
    after it reads as not met."""
    certifications = hours.induction_certifications(session, user_id)
    codes = {t.code for t in TOPICS}
    hours_on = _met_on(certifications, lambda total, _topics: total >= policy.induction.induction_hours)
    topics_on = _met_on(
        certifications, lambda _total, by_topic: all(by_topic.get(code, Decimal("0")) > 0 for code in codes)
    )
    trainee_on = trainee_year_on(session, user_id, policy)

    def by(day: date | None) -> date | None:
        return day if day is not None and day <= as_of else None

    assessment_on = assessment_passed_on(session, user_id, policy, as_of)
    return InductionDates(by(hours_on), by(topics_on), assessment_on, by(trainee_on))


@dataclass(frozen=True)
class InductionProgress:
    """The induction as pages and certificates read it: certified hours toward the required ones (with the hours
    awaiting certification beside them), the topics covered by certified hours, and every condition."""

    program: ProgramResult
    hours: Decimal  # certified
    awaiting: Decimal  # pending or verified: would count once certified
    required: Decimal
    covered_topics: list[str]
    missing_topics: list[str]
    dates: InductionDates
    as_of: date
    assessment_configured: bool  # False: the district has not named the assessment course yet

    @property
    def hours_met(self) -> bool:
        return self.hours >= self.required

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.hours / self.required)) if self.required else 100

    @property
    def complete(self) -> bool:
        """Every condition of the induction met: hours, topics, assessment, trainee year."""
        return self.program.met


def induction_program(session: Session, user_id: int, policy: Policy, as_of: date) -> ProgramResult:
    return induction_progress(session, user_id, policy, as_of).program


def induction_progress(session: Session, user_id: int, policy: Policy, as_of: date | None = None) -> InductionProgress:
    """DOMAIN.md, Induction: ≥ 32 certified hours covering all eight topics, the assessment passed and ≥ 1 year as
    trainee homeroom teacher → eligible for appointment. `as_of`: as the records stood at the end of that day."""
    as_of = as_of or hours.today()
    progress = hours.induction(session, user_id, as_of=as_of)
    have, awaiting = progress.hours.certified, progress.hours.awaiting
    missing_topics = tuple(t.name for t in TOPICS if t.code not in progress.covered)
    days, needed = trainee_days(session, user_id, policy, as_of)
    dates = induction_dates(session, user_id, policy, as_of)
    assessment = dates.assessment is not None
    checks = (
        Check(
            "hours",
            _("Certified induction hours"),
            have >= policy.induction.induction_hours,
            _one(have),
            _one(policy.induction.induction_hours),
            awaiting=awaiting,
            unit=HOURS,
            met_on=dates.hours,
            who_acts=WHO_CERTIFIES if awaiting > 0 else WHO_STUDIES,
        ),
        Check(
            "topics",
            _("All eight topics covered"),
            not missing_topics,
            str(len(TOPICS) - len(missing_topics)),
            str(len(TOPICS)),
            missing=missing_topics,
            unit=_("topics"),
            met_on=dates.topics,
            who_acts=WHO_STUDIES,
        ),
        Check(
            "assessment",
            _("Induction assessment passed"),
            assessment,
            "1" if assessment else "0",
            "1",
            met_on=dates.assessment,
            who_acts=WHO_TAKES_ASSESSMENT if policy.induction.induction_assessment_course else WHO_SETS_ASSESSMENT,
        ),
        Check(
            "trainee",
            _("Days as trainee homeroom teacher"),
            days >= needed,
            str(days),
            str(needed),
            unit=_("days"),
            met_on=dates.trainee,
            who_acts=WHO_RECORDS_TRAINEE,
        ),
    )
    program = ProgramResult(
        "induction",
        _("Induction: eligible for appointment"),
        True,
        checks,
        completed_on=dates.completed if all(c.met for c in checks) else None,
        as_of=as_of,
    )
    return InductionProgress(
        program,
        have,
        awaiting,
        policy.induction.induction_hours,
        [t.code for t in TOPICS if t.code in progress.covered],
        [t.code for t in TOPICS if t.code not in progress.covered],
        dates,
        as_of,
        bool(policy.induction.induction_assessment_course),
    )


def annual_program(session: Session, user_id: int, policy: Policy, year: int) -> ProgramResult:
    """Annual hours for homeroom teachers: applies in a year with a homeroom service period (policy kinds)."""
    kinds = frozenset(k.strip() for k in policy.title_review.homeroom_service_kinds.split(",") if k.strip())
    periods = _periods(session, user_id, kinds)
    first, last = date(year, 1, 1), date(year, 12, 31)
    applies = any(start <= last and (end is None or end >= first) for start, end in periods)
    certified, awaiting = _hours_by(session, user_id, (year, year))
    have, pending = certified.get((), Decimal("0")), awaiting.get((), Decimal("0"))
    check = Check(
        "hours",
        _("Certified hours this year"),
        have >= policy.credits.annual_hours_target,
        _one(have),
        _one(policy.credits.annual_hours_target),
        awaiting=pending,
        unit=HOURS,
    )
    return ProgramResult("annual", _("Annual hours of a homeroom teacher"), applies, (check,), period=str(year))


def cycle_years(policy: Policy, year: int) -> tuple[int, int]:
    """The five-year cycle containing `year` (2021–2025, 2026–2030 with the defaults)."""
    start, length = policy.credits.cycle_first_year, policy.credits.cycle_years
    first = start + ((year - start) // length) * length
    return first, first + length - 1


def cycle_program(session: Session, user_id: int, policy: Policy, year: int) -> ProgramResult:
    """The Shanghai five-year cycle: ≥ 36 credits with category and level minimums; hours ÷ hours_per_credit."""
    years = cycle_years(policy, year)
    certified, awaiting = _hours_by(session, user_id, years, "category", "level")
    per = policy.credits.hours_per_credit

    def credits_where(table: dict[tuple, Decimal], index: int, value: str) -> Decimal:
        return sum((h for k, h in table.items() if _level(k[index], policy, index) == value), Decimal("0")) / per

    checks = []
    by_category = {c.code: credits_where(certified, 0, c.code) for c in CREDIT_CATEGORIES}
    counted_total = sum(by_category.values(), Decimal("0")) - max(
        Decimal("0"), by_category["self_study"] - policy.credits.cycle_max_self_study
    )
    pending_total = sum(awaiting.values(), Decimal("0")) / per
    checks.append(
        Check(
            "total",
            _("Credits in the cycle"),
            counted_total >= policy.credits.cycle_credits,
            _one(counted_total),
            _one(policy.credits.cycle_credits),
            awaiting=pending_total,
            unit=CREDITS,
        )
    )
    for c in CREDIT_CATEGORIES:
        need = getattr(policy.credits, f"cycle_min_{c.code}")
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
        need = getattr(policy.credits, f"cycle_min_{code}")
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
# Who acts next on an induction condition that is not met (shown to the teacher beside it).
WHO_CERTIFIES = _("Your school verifies pending hours, then the district certifies them.")
WHO_STUDIES = _("Complete courses, offline sessions or external training on the missing topics.")
WHO_TAKES_ASSESSMENT = _("Take the induction assessment once your training is complete.")
WHO_SETS_ASSESSMENT = _("The district has not set up the induction assessment yet; the district administrator does.")
WHO_RECORDS_TRAINEE = _("Your school records your trainee period; it completes on its anniversary.")
LEVEL_LABELS = (("city", _("City level")), ("district", _("District level")), ("school", _("School-based")))


def _level(value: str, policy: Policy, index: int) -> str:
    """Category keys pass through; the workshop level counts toward the level the policy names."""
    return policy.credits.workshop_counts_as_level if index == 1 and value == "workshop" else value


def programs_for(session: Session, user_id: int, policy: Policy, today: date) -> list[ProgramResult]:
    return [
        induction_program(session, user_id, policy, today),
        annual_program(session, user_id, policy, today.year),
        cycle_program(session, user_id, policy, today.year),
    ]
