"""Every figure of the district and school dashboards, computed per (school, tier) into a snapshot.

Sources, and nothing else: hours from credits' one reading of the ledger (`hours_source.totals`, by teacher), the
queues' waiting entries, the people records (任职状态, tier, service periods and evaluations through the title-review
rules `people.rules`), and the monthly school-session grid (`training.compliance`). A figure here is a count or a
sum of per-teacher figures, so the dashboard equals the sum of what each teacher's own pages say
(tests/dashboards/test_figures.py proves it).

Cost: building a snapshot is a handful of grouped statements over the ledger (linear in its rows) and one pass over
the district's teachers (linear in teachers); 15,000 teachers × 5 years take a few seconds. Pages read the snapshot's
rows — schools × 5 tiers, a few hundred — so their cost does not grow with the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from statistics import quantiles
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits.programs import cycle_years
from backend.dashboards import hours_source
from backend.dashboards.models import DashboardRow, DashboardSnapshot
from backend.evidence.title_review import reviews_of
from backend.kit import clock
from backend.organisation import figures as organisation_figures
from backend.people import rules
from backend.people.models import AnnualEvaluation, School, ServicePeriod, TeacherProfile
from backend.policies.service import Policy, load_policy
from backend.policies.taxonomy import CREDIT_CATEGORIES, TIERS, TOPICS
from backend.training import compliance

ZERO = Decimal("0")
TIER_CODES = tuple(t.code for t in TIERS)
CATEGORY_CODES = tuple(c.code for c in CREDIT_CATEGORIES)
LEVEL_CODES = ("city", "district", "school")  # the cycle's level minimums (workshop counts as the policy says)
# Annual hours per teacher, bucketed for the distribution chart: [edge, next edge); the first bucket is exactly 0.
BUCKET_EDGES: tuple[Decimal, ...] = tuple(
    Decimal(e) for e in ("0", "0.1", "12", "24", "36", "48", "60", "72", "96", "120")
)
# Outliers (issue 17): hours entered in the last RUSH_DAYS before the year's end (the annual deadline) that are at
# least RUSH_SHARE of the teacher's year and at least RUSH_MIN_HOURS; or a year's hours above the district's upper
# fence Q3 + FENCE × IQR. Heuristics that point a supervisor at a record to look at, not rules: they decide nothing.
RUSH_DAYS = 14
RUSH_SHARE = Decimal("0.5")
RUSH_MIN_HOURS = Decimal("12")
FENCE = Decimal("3")
MAX_OUTLIERS_PER_ROW = 20
WAIT_BUCKETS = (7, 30)  # days: under a week, a week to a month, over a month


@dataclass
class Teacher:
    """One teacher's figures, each the one their own pages show."""

    user_id: int
    name: str
    school_id: int
    tier: str
    status: str  # 任职状态: reserve | trainee | appointed
    trainee: bool = False
    annual: hours_source.Hours = hours_source.NONE
    rush: Decimal = ZERO
    cycle_category: dict[str, Decimal] = field(default_factory=dict)  # certified hours in the cycle
    cycle_level: dict[str, Decimal] = field(default_factory=dict)
    induction: hours_source.Hours = hours_source.NONE
    induction_topics: int = 0
    waiting: hours_source.Waiting = hours_source.Waiting()
    waits: hours_source.Waits = hours_source.Waits()
    honour: bool = False
    waiver: bool = False
    excellent: bool = False
    excellent_homeroom: bool = False
    outlier: str = ""  # "" | rush | high


def _bucket(hours: Decimal) -> int:
    index = 0
    for i, edge in enumerate(BUCKET_EDGES):
        if hours >= edge:
            index = i
    return index


def bucket_labels() -> list[str]:
    labels = ["0"]
    edges = BUCKET_EDGES[1:]
    for i, edge in enumerate(edges):
        low = "0" if i == 0 else str(edge)
        labels.append(f"{low}–{edges[i + 1]}" if i + 1 < len(edges) else f"≥{edge}")
    return labels


def bucket_axis() -> list[str]:
    """Short labels under the columns (the table beside the chart has the ranges)."""
    return ["0", "0+", *[f"{edge}+" for edge in BUCKET_EDGES[2:]]]


def _teachers(session: Session, school_ids: Iterable[int] | None = None) -> list[Teacher]:
    stmt = (
        select(User.id, User.display_name, User.school_id, TeacherProfile.tier, TeacherProfile.status)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.role == Role.teacher, User.is_active.is_(True), User.school_id.is_not(None))
        .order_by(User.id)
    )
    if school_ids is not None:
        stmt = stmt.where(User.school_id.in_(list(school_ids)))
    return [
        Teacher(uid, name, sid or 0, tier or "", status or "reserve")
        for uid, name, sid, tier, status in session.execute(stmt)
    ]


def _only(stmt: Any, column: Any, users: list[int] | None) -> Any:
    """One school's teachers only (`users`), or the whole district (None)."""
    return stmt if users is None else stmt.where(column.in_(users))


def _trainees(session: Session, as_of: date, users: list[int] | None = None) -> set[int]:
    """Teachers serving as trainee homeroom teachers on the day (a current trainee period)."""
    stmt = select(ServicePeriod.user_id).where(
        ServicePeriod.kind == "trainee",
        ServicePeriod.start <= as_of,
        or_(ServicePeriod.end.is_(None), ServicePeriod.end >= as_of),
    )
    return set(session.scalars(_only(stmt, ServicePeriod.user_id, users)))


def _evaluation_year(session: Session, year: int) -> int | None:
    """The latest evaluation year up to `year` with results recorded (results are given after the year's work)."""
    return session.scalar(
        select(AnnualEvaluation.year)
        .where(AnnualEvaluation.year <= year)
        .order_by(AnnualEvaluation.year.desc())
        .limit(1)
    )


def _homeroom_in(session: Session, policy: Policy, year: int, users: list[int] | None = None) -> set[int]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    stmt = select(ServicePeriod.user_id).where(
        ServicePeriod.kind.in_(sorted(rules.counting_kinds(policy))),
        ServicePeriod.start <= last,
        or_(ServicePeriod.end.is_(None), ServicePeriod.end >= first),
    )
    return set(session.scalars(_only(stmt, ServicePeriod.user_id, users)))


def teacher_figures(
    session: Session,
    policy: Policy,
    year: int,
    as_of: date,
    *,
    school_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Teacher]:
    """Every teacher's figures for the year as of the day, from grouped statements (no per-teacher query)."""
    teachers = _teachers(session, school_ids)
    by_id = {t.user_id: t for t in teachers}
    users = list(by_id)
    # One school: its teachers' ids as a subquery, so every sum goes through the ledger's per-teacher index
    # instead of joining the whole district's ledger to the teachers.
    scope: dict[str, Any] = {"user": select(User.id).where(User.id.in_(users))} if school_ids is not None else {}
    step = 0

    def tick() -> None:
        nonlocal step
        step += 1
        if progress:
            progress(step, 8)

    one_school = users if school_ids is not None else None
    trainees = _trainees(session, as_of, one_school)
    for t in teachers:
        t.trainee = t.status == "trainee" or t.user_id in trainees
    for (uid,), h in hours_source.totals(session, by=("user",), year=year, as_of=as_of, **scope).items():
        if uid in by_id:
            by_id[uid].annual = h
    tick()
    deadline = date(year, 12, 31)
    if as_of >= deadline - timedelta(days=RUSH_DAYS):
        before = hours_source.totals(
            session, by=("user",), year=year, as_of=deadline - timedelta(days=RUSH_DAYS), **scope
        )
        for t in teachers:
            t.rush = t.annual.recorded - before.get((t.user_id,), hours_source.NONE).recorded
    tick()
    first, last = cycle_years(policy, year)
    cycle = hours_source.totals(session, by=("user", "category", "level"), years=(first, last), as_of=as_of, **scope)
    for (uid, category, level), h in cycle.items():
        found = by_id.get(uid)
        if found is None or not h.certified:
            continue
        t = found
        t.cycle_category[category] = t.cycle_category.get(category, ZERO) + h.certified
        counted_level = policy.credits.workshop_counts_as_level if level == "workshop" else level
        t.cycle_level[counted_level] = t.cycle_level.get(counted_level, ZERO) + h.certified
    tick()
    for (uid,), h in hours_source.totals(session, by=("user",), programme="induction", as_of=as_of, **scope).items():
        if uid in by_id:
            by_id[uid].induction = h
    topics = hours_source.totals(session, by=("user", "topic"), programme="induction", as_of=as_of, **scope)
    for (uid, _topic), h in topics.items():
        if uid in by_id and h.certified > 0:
            by_id[uid].induction_topics += 1
    tick()
    waiting = hours_source.waiting_by_user(
        session, as_of=as_of if as_of < clock.now().date() else None, users=users if school_ids is not None else None
    )
    for uid, w in waiting.items():
        if uid in by_id:
            by_id[uid].waiting = w
    for uid, waits in hours_source.decision_waits(
        session, first=date(year, 1, 1), last=min(as_of, deadline), users=one_school
    ).items():
        if uid in by_id:
            by_id[uid].waits = waits
    tick()
    for uid, review, honoured in reviews_of(session, users, as_of, policy):
        by_id[uid].waiver = review.waiver
        by_id[uid].honour = honoured
    tick()
    evaluation_year = _evaluation_year(session, year)
    if evaluation_year is not None:
        homeroom = _homeroom_in(session, policy, evaluation_year, one_school)
        excellent = session.scalars(
            _only(
                select(AnnualEvaluation.user_id).where(
                    AnnualEvaluation.year == evaluation_year, AnnualEvaluation.result == "excellent"
                ),
                AnnualEvaluation.user_id,
                one_school,
            )
        )
        for uid in excellent:
            if uid in by_id:
                by_id[uid].excellent = True
                by_id[uid].excellent_homeroom = uid in homeroom
    tick()
    _flag_outliers(teachers)
    tick()
    return teachers


def _flag_outliers(teachers: list[Teacher]) -> None:
    recorded = sorted(t.annual.recorded for t in teachers if t.annual.recorded > 0)
    fence = None
    if len(recorded) >= 4:
        q1, _q2, q3 = quantiles(recorded, n=4)
        fence = Decimal(q3) + FENCE * (Decimal(q3) - Decimal(q1))
    for t in teachers:
        if t.rush >= RUSH_MIN_HOURS and t.rush >= RUSH_SHARE * t.annual.recorded:
            t.outlier = "rush"
        elif fence is not None and t.annual.recorded > fence:
            t.outlier = "high"


def induction_met(t: Teacher, policy: Policy) -> bool:
    """The induction's hours and topics with certified hours (the assessment and the trainee year are the programme
    page's: the dashboard counts trainees whose training is done)."""
    return t.induction.certified >= policy.induction.induction_hours and t.induction_topics >= len(TOPICS)


def _d(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.1")))


def _empty_row() -> dict[str, Any]:
    return {
        "teachers": 0,
        "trainees": 0,
        "trainees_met": 0,
        "trainees_hours": "0.0",
        "reserve": 0,
        "annual_certified": "0.0",
        "annual_awaiting": "0.0",
        "annual_reached": 0,
        "annual_none": 0,
        "cycle_category": {c: "0.0" for c in CATEGORY_CODES},
        "cycle_level": {lv: "0.0" for lv in LEVEL_CODES},
        "histogram": [0] * len(BUCKET_EDGES),
        "outliers": [],
        "outlier_count": 0,
        "pending": 0,
        "verified": 0,
        "oldest_pending": None,
        "oldest_verified": None,
        "wait_buckets": [0, 0, 0],
        "verified_n": 0,
        "verify_days": 0.0,
        "certified_n": 0,
        "certify_days": 0.0,
        "honours": 0,
        "waiver": 0,
        "excellent": 0,
        "excellent_homeroom": 0,
    }


def _add(row: dict[str, Any], t: Teacher, policy: Policy, today: date) -> None:
    def plus(key: str, value: Decimal) -> None:
        row[key] = _d(Decimal(row[key]) + value)

    row["teachers"] += 1
    if t.trainee:
        row["trainees"] += 1
        plus("trainees_hours", t.induction.certified)
        row["trainees_met"] += 1 if induction_met(t, policy) else 0
    row["reserve"] += 1 if t.status == "reserve" else 0
    plus("annual_certified", t.annual.certified)
    plus("annual_awaiting", t.annual.awaiting)
    row["annual_reached"] += 1 if t.annual.certified >= policy.credits.annual_hours_target else 0
    row["annual_none"] += 1 if t.annual.recorded <= 0 else 0
    for c in CATEGORY_CODES:
        row["cycle_category"][c] = _d(Decimal(row["cycle_category"][c]) + t.cycle_category.get(c, ZERO))
    for lv in LEVEL_CODES:
        row["cycle_level"][lv] = _d(Decimal(row["cycle_level"][lv]) + t.cycle_level.get(lv, ZERO))
    row["histogram"][_bucket(t.annual.recorded)] += 1
    if t.outlier:
        row["outlier_count"] += 1
        if len(row["outliers"]) < MAX_OUTLIERS_PER_ROW:
            row["outliers"].append([t.user_id, t.name, _d(t.annual.recorded), _d(t.rush), t.outlier])
    row["pending"] += t.waiting.pending
    row["verified"] += t.waiting.verified
    for key, moment in (("oldest_pending", t.waiting.oldest_pending), ("oldest_verified", t.waiting.oldest_verified)):
        if moment is not None and (row[key] is None or moment.isoformat() < row[key]):
            row[key] = moment.isoformat()
    oldest = min((m for m in (t.waiting.oldest_pending, t.waiting.oldest_verified) if m), default=None)
    if oldest is not None:
        age = (today - oldest.astimezone(clock.SHANGHAI).date()).days
        row["wait_buckets"][0 if age < WAIT_BUCKETS[0] else 1 if age < WAIT_BUCKETS[1] else 2] += 1
    row["verified_n"] += t.waits.verified
    row["verify_days"] = round(row["verify_days"] + t.waits.verify_days, 3)
    row["certified_n"] += t.waits.certified
    row["certify_days"] = round(row["certify_days"] + t.waits.certify_days, 3)
    row["honours"] += 1 if t.honour else 0
    row["waiver"] += 1 if t.waiver else 0
    row["excellent"] += 1 if t.excellent else 0
    row["excellent_homeroom"] += 1 if t.excellent_homeroom else 0


def school_rows(
    teachers: list[Teacher], schools: list[School], months: dict[int, list[str]], policy: Policy, today: date
) -> dict[tuple[int, str], dict[str, Any]]:
    """Figures per (school, tier), "" being all the school's teachers."""
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for s in schools:
        for tier in ("", *TIER_CODES):
            row = _empty_row()
            row["months"] = months.get(s.id, [])
            rows[(s.id, tier)] = row
    for t in teachers:
        for tier in ("", t.tier):
            if (t.school_id, tier) in rows:
                _add(rows[(t.school_id, tier)], t, policy, today)
    return rows


def month_states(session: Session, schools: list[School], year: int, policy: Policy) -> dict[int, list[str]]:
    return {sy.school.id: [m.state for m in sy.months] for sy in compliance.compliance(session, schools, year, policy)}


@dataclass(frozen=True)
class Computed:
    rows: dict[tuple[int, str], dict[str, Any]]
    meta: dict[str, Any]
    ms: int


def compute(
    session: Session, *, year: int, as_of: date, progress: Callable[[int, int], None] | None = None
) -> Computed:
    """Every figure of every school and tier (reads only; `store` writes them)."""
    started = time.perf_counter()
    policy = load_policy(session)
    schools = list(session.scalars(select(School).order_by(School.code)))
    teachers = teacher_figures(session, policy, year, as_of, progress=progress)
    rows = school_rows(teachers, schools, month_states(session, schools, year, policy), policy, as_of)
    # Classes, the workshop rule and mentors: the organisation's figures of the school, the same in each tier's row.
    for school_id, org in organisation_figures.by_school(session, schools, as_of, policy).items():
        for tier in ("", *TIER_CODES):
            rows[(school_id, tier)].update(org.as_dict())
    meta = {"evaluation_year": _evaluation_year(session, year), "cycle": list(cycle_years(policy, year))}
    return Computed(rows, meta, int((time.perf_counter() - started) * 1000))


def store(session: Session, *, kind: str, year: int, as_of: date, computed: Computed) -> DashboardSnapshot:
    """Keep the figures: a live snapshot of the year replaces the previous one, a month's replaces only itself."""
    same = [DashboardSnapshot.kind == kind, DashboardSnapshot.year == year]
    if kind == "month":
        same.append(DashboardSnapshot.as_of == as_of)
    for old in session.scalars(select(DashboardSnapshot).where(*same)):
        session.execute(delete(DashboardRow).where(DashboardRow.snapshot_id == old.id))
        session.delete(old)
    session.flush()
    snapshot = DashboardSnapshot(
        kind=kind, year=year, as_of=as_of, built_at=clock.now(), build_ms=computed.ms, meta=computed.meta
    )
    session.add(snapshot)
    session.flush()
    rows = [
        {"snapshot_id": snapshot.id, "school_id": sid, "tier": tier, "figures": figures}
        for (sid, tier), figures in computed.rows.items()
    ]
    if rows:  # an empty list would insert one row of defaults
        session.execute(insert(DashboardRow), rows)
    return snapshot


def build_snapshot(
    session: Session, *, kind: str, year: int, as_of: date, progress: Callable[[int, int], None] | None = None
) -> DashboardSnapshot:
    """Compute and store in one session (the background job does the two in separate transactions)."""
    computed = compute(session, year=year, as_of=as_of, progress=progress)
    return store(session, kind=kind, year=year, as_of=as_of, computed=computed)


def month_end(day: date) -> date:
    """The last day of the month before `day`'s month."""
    return day.replace(day=1) - timedelta(days=1)
