"""What the dashboards show, read from snapshots, and who may see which school.

District admins see every school; a school admin sees their own school only (the district view and other schools
answer 403 / 404). Pages never sum the ledger: they read a snapshot's rows (`figures.build_snapshot`), except the
list of one school's teachers who are behind, which is computed for that school's teachers alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.dashboards import figures, jobs
from backend.dashboards.models import DashboardJob, DashboardRow, DashboardSnapshot
from backend.kit import clock
from backend.kit.errors import Forbidden, NotFound
from backend.kit.i18n import _
from backend.people.models import School
from backend.policies.service import Policy, load_policy
from backend.policies.taxonomy import TIERS

LIVE_MAX_AGE = timedelta(minutes=10)  # the live figures are rebuilt in the background when older than this
STAGES = ("primary", "middle", "high", "nine_year")
STAGE_LABELS = {
    "primary": _("Primary school"),
    "middle": _("Middle school"),
    "high": _("High school"),
    "nine_year": _("Nine-year school"),
}
SUMMED = (
    "teachers", "trainees", "trainees_met", "reserve", "annual_reached", "annual_none", "outlier_count",
    "pending", "verified", "honours", "waiver", "excellent", "excellent_homeroom",
)  # fmt: skip
DECIMALS = ("trainees_hours", "annual_certified", "annual_awaiting")


def today() -> date:
    return clock.now().astimezone(clock.SHANGHAI).date()


def require_admin(actor: User) -> None:
    if actor.role not in (Role.district_admin, Role.school_admin):
        raise Forbidden(_("Your role does not allow this."))


def require_district(actor: User) -> None:
    if actor.role != Role.district_admin:
        raise Forbidden(_("Only district administrators see the district dashboard."))


def school_for(session: Session, actor: User, school_id: int) -> School:
    require_admin(actor)
    school = session.get(School, school_id)
    if school is None or (actor.role == Role.school_admin and actor.school_id != school_id):
        raise NotFound(_("This school does not exist or is not yours to see."))
    return school


@dataclass(frozen=True)
class Filters:
    year: int
    tier: str = ""
    stage: str = ""
    as_of: date | None = None  # a month-end snapshot; None: the live figures

    @classmethod
    def parse(cls, year: str | None, tier: str | None, stage: str | None, as_of: str | None) -> Filters:
        this_year = today().year
        try:
            y = int(year) if year else this_year
        except ValueError:
            y = this_year
        y = min(max(y, this_year - 10), this_year)
        t = tier if tier in {x.code for x in TIERS} else ""
        s = stage if stage in STAGES else ""
        day = None
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                day = None
        return cls(y, t, s, day)

    def params(self, **override: Any) -> str:
        values = {"year": self.year, "tier": self.tier, "stage": self.stage,
                  "as_of": self.as_of.isoformat() if self.as_of else ""} | override  # fmt: skip
        return "&".join(f"{k}={v}" for k, v in values.items() if v not in ("", None))


def snapshot_for(session: Session, filters: Filters) -> DashboardSnapshot | None:
    if filters.as_of is not None:
        return session.scalar(
            select(DashboardSnapshot).where(DashboardSnapshot.kind == "month", DashboardSnapshot.as_of == filters.as_of)
        )
    return session.scalar(
        select(DashboardSnapshot)
        .where(DashboardSnapshot.kind == "live", DashboardSnapshot.year == filters.year)
        .order_by(DashboardSnapshot.id.desc())
        .limit(1)
    )


def month_snapshots(session: Session) -> list[DashboardSnapshot]:
    return list(
        session.scalars(
            select(DashboardSnapshot).where(DashboardSnapshot.kind == "month").order_by(DashboardSnapshot.as_of.desc())
        )
    )


def refresh_jobs(session: Session, filters: Filters, actor: User) -> list[DashboardJob]:
    """Jobs the page should start: the live figures when missing or old, and last month's frozen snapshot when it
    has not been taken yet (the first dashboard visit after a month's end takes it)."""
    wanted: list[DashboardJob] = []
    if filters.as_of is None:
        live = snapshot_for(session, filters)
        if live is None or live.built_at < clock.now() - LIVE_MAX_AGE:
            wanted.append(live_job(session, filters.year, actor))
    month = figures.month_end(today())
    taken = session.scalar(
        select(DashboardSnapshot.id).where(DashboardSnapshot.kind == "month", DashboardSnapshot.as_of == month)
    )
    if taken is None:
        wanted.append(month_job(session, month, actor))
    return wanted


def live_job(session: Session, year: int, actor: User | None) -> DashboardJob:
    params = {"snapshot": "live", "year": year, "as_of": today().isoformat()}
    return jobs.enqueue(session, "snapshot", f"live:{year}", params, actor)


def month_job(session: Session, month: date, actor: User | None) -> DashboardJob:
    params = {"snapshot": "month", "year": month.year, "as_of": month.isoformat()}
    return jobs.enqueue(session, "snapshot", f"month:{month.isoformat()}", params, actor)


@dataclass
class SchoolLine:
    school: School
    figures: dict[str, Any]

    @property
    def trainees_behind(self) -> int:
        return int(self.figures["trainees"]) - int(self.figures["trainees_met"])

    @property
    def months_missed(self) -> int:
        return sum(1 for m in self.figures.get("months", []) if m == "missed")

    @property
    def months_met(self) -> int:
        return sum(1 for m in self.figures.get("months", []) if m == "met")


@dataclass
class View:
    snapshot: DashboardSnapshot | None
    lines: list[SchoolLine]
    total: dict[str, Any] = field(default_factory=dict)


def _sum(lines: list[SchoolLine]) -> dict[str, Any]:
    total = figures._empty_row()
    total |= {"org_schools": 0, "classes": 0, "classes_without_homeroom": 0, "schools_without_homeroom": 0,
              "trainees_without_mentor": 0, "pool_members": 0,
              "workshop_met": 0, "workshop_not_met": 0, "workshop_not_required": 0}
    for line in lines:
        f = line.figures
        for key in SUMMED:
            total[key] += int(f[key])
        for key in DECIMALS:
            total[key] = figures._d(Decimal(total[key]) + Decimal(f[key]))
        for key in ("verified_n", "certified_n"):
            total[key] += int(f.get(key, 0))
        for key in ("verify_days", "certify_days"):
            total[key] = round(total[key] + float(f.get(key, 0.0)), 3)
        for group in ("cycle_category", "cycle_level"):
            for code, value in f[group].items():
                total[group][code] = figures._d(Decimal(total[group].get(code, "0")) + Decimal(value))
        total["histogram"] = [a + b for a, b in zip(total["histogram"], f["histogram"], strict=True)]
        total["wait_buckets"] = [a + b for a, b in zip(total["wait_buckets"], f["wait_buckets"], strict=True)]
        total["outliers"].extend([[*o, line.school.id] for o in f["outliers"]])
        for key in ("oldest_pending", "oldest_verified"):
            if f[key] and (total[key] is None or f[key] < total[key]):
                total[key] = f[key]
        # The organisation's figures (snapshots built before they existed lack them: counted as unknown, not 0).
        if "classes" in f:
            total["org_schools"] += 1
            for key in ("classes", "classes_without_homeroom", "trainees_without_mentor", "pool_members"):
                total[key] += int(f.get(key, 0))
            total["schools_without_homeroom"] += 1 if f["classes_without_homeroom"] else 0
            total["workshop_" + f["workshop_rule"]] += 1
    months = [line.figures.get("months", []) for line in lines]
    total["months_met"] = [sum(1 for ms in months if ms and ms[i] == "met") for i in range(12)]
    total["months_missed"] = [sum(1 for ms in months if ms and ms[i] == "missed") for i in range(12)]
    return total


def district_view(session: Session, actor: User, filters: Filters) -> View:
    require_district(actor)
    snapshot = snapshot_for(session, filters)
    if snapshot is None:
        return View(None, [], _sum([]))
    return _view(session, snapshot, filters, school_ids=None)


def school_view(session: Session, actor: User, school: School, filters: Filters) -> View:
    school_for(session, actor, school.id)
    snapshot = snapshot_for(session, filters)
    if snapshot is None:
        return View(None, [], _sum([]))
    return _view(session, snapshot, filters, school_ids=[school.id])


def _view(session: Session, snapshot: DashboardSnapshot, filters: Filters, school_ids: list[int] | None) -> View:
    stmt = (
        select(School, DashboardRow.figures)
        .join(DashboardRow, DashboardRow.school_id == School.id)
        .where(DashboardRow.snapshot_id == snapshot.id, DashboardRow.tier == filters.tier)
        .order_by(School.code)
    )
    if filters.stage:
        stmt = stmt.where(School.stage == filters.stage)
    if school_ids is not None:
        stmt = stmt.where(School.id.in_(school_ids))
    lines = [SchoolLine(school, fig) for school, fig in session.execute(stmt)]
    return View(snapshot, lines, _sum(lines))


# ---------------------------------------------------------------------------------------------------------------
# One school's teachers who are behind, computed live for that school alone


@dataclass(frozen=True)
class Missing:
    text: str  # what is missing, translated
    action: str  # verify | assign | record
    href: str


@dataclass(frozen=True)
class Behind:
    teacher: figures.Teacher
    missing: list[Missing]


def behind(session: Session, actor: User, school: School, year: int) -> list[Behind]:
    school_for(session, actor, school.id)
    policy = load_policy(session)
    as_of = today() if year == today().year else date(year, 12, 31)
    result = []
    for t in figures.teacher_figures(session, policy, year, as_of, school_ids=[school.id]):
        missing = _missing(t, policy, year)
        if missing:
            result.append(Behind(t, missing))
    return sorted(result, key=lambda b: (-len(b.missing), b.teacher.name))


def _missing(t: figures.Teacher, policy: Policy, year: int) -> list[Missing]:
    found = []
    ledger = f"/credits/teachers/{t.user_id}"
    if t.trainee and not figures.induction_met(t, policy):
        found.append(
            Missing(
                _("Induction: %(have)s of %(need)s certified hours, %(topics)s of 8 topics")
                % {
                    "have": figures._d(t.induction.certified),
                    "need": figures._d(policy.induction.induction_hours),
                    "topics": t.induction_topics,
                },  # fmt: skip
                "assign",
                "/courses?tier=horizon",
            )
        )
    if t.annual.certified < policy.credits.annual_hours_target:
        found.append(
            Missing(
                _("%(year)s: %(have)s of %(need)s certified hours (%(awaiting)s awaiting certification)")
                % {
                    "year": year,
                    "have": figures._d(t.annual.certified),
                    "need": figures._d(policy.credits.annual_hours_target),
                    "awaiting": figures._d(t.annual.awaiting),
                },  # fmt: skip
                "record",
                ledger,
            )
        )
    if t.waiting.pending:
        found.append(
            Missing(
                _("%(n)s entries wait for the school's verification") % {"n": t.waiting.pending},
                "verify",
                f"/credits/queue?status=pending&q={t.name}",
            )
        )
    return found


def mean_days(total: float, count: int) -> str:
    """Average days, one decimal; a dash when nothing was decided."""
    return f"{total / count:.1f}" if count else "—"


def age_days(moment: str | None) -> int | None:
    if not moment:
        return None
    return (today() - datetime.fromisoformat(moment).astimezone(clock.SHANGHAI).date()).days
