"""Monthly compliance (DOMAIN.md, 四级联动研修): each school holds at least `monthly_school_sessions` tiered, themed
school-based sessions (校本研修) a month.

A session qualifies when it is school-level, has a tier and a non-empty theme, and falls in the month by its local
date. It has been held once at least one attendance is recorded. A month is
- met:      enough qualifying sessions held;
- planned:  the month is not over and qualifying sessions are scheduled (not all held yet);
- open:     the month is not over and nothing qualifying is scheduled yet;
- missed:   the month is over without enough held sessions;
- upcoming: the month has not started and nothing is scheduled.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Forbidden, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, slice_page
from backend.people.models import School
from backend.policies.service import Policy
from backend.training.models import Attendance, TrainingSession

STATE_LABELS = {
    "met": _("Met"),
    "planned": _("Planned"),
    "open": _("Nothing scheduled yet"),
    "missed": _("Not met"),
    "upcoming": _("Not started"),
}


@dataclass(frozen=True)
class Qualifying:
    id: int
    title: str
    theme: str
    tier: str
    day: date
    attendees: int


@dataclass
class Month:
    month: int
    state: str = "open"
    sessions: list[Qualifying] = field(default_factory=list)

    @property
    def satisfied_by(self) -> list[Qualifying]:
        return [s for s in self.sessions if s.attendees > 0]


@dataclass
class SchoolYear:
    school: School
    year: int
    months: list[Month]

    @property
    def met_count(self) -> int:
        return sum(1 for m in self.months if m.state == "met")


def _state(year: int, month: int, sessions: list[Qualifying], today: date, needed: int) -> str:
    held = sum(1 for s in sessions if s.attendees > 0 and s.day <= today)
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    if held >= needed:
        return "met"
    if last < today:
        return "missed"
    if sessions:
        return "planned"
    return "upcoming" if first > today else "open"


def schools_in_scope(session: Session, actor: User) -> list[School]:
    if actor.role == Role.district_admin:
        return list(session.scalars(select(School).order_by(School.code)))
    if actor.role == Role.school_admin and actor.school_id is not None:
        return list(session.scalars(select(School).where(School.id == actor.school_id)))
    raise Forbidden(_("Your role does not allow this."))


def schools_page(session: Session, actor: User, number: int) -> Page[School]:
    """The schools of the district grid, a page at a time, so the page stays small at district size."""
    return slice_page(schools_in_scope(session, actor), number)


def school_in_scope(session: Session, actor: User, school_id: int) -> School:
    for school in schools_in_scope(session, actor):
        if school.id == school_id:
            return school
    raise NotFound(_("This school does not exist or is not yours to see."))


def compliance(session: Session, schools: list[School], year: int, policy: Policy) -> list[SchoolYear]:
    """Month by month for each school, in one query whatever the number of schools."""
    ids = [s.id for s in schools]
    rows = (
        session.execute(
            select(
                TrainingSession.id,
                TrainingSession.school_id,
                TrainingSession.title,
                TrainingSession.theme,
                TrainingSession.tier,
                TrainingSession.day,
                func.count(Attendance.id),
            )
            .outerjoin(Attendance, Attendance.session_id == TrainingSession.id)
            .where(
                TrainingSession.school_id.in_(ids),
                TrainingSession.level == "school",
                TrainingSession.tier.is_not(None),
                func.trim(TrainingSession.theme) != "",
                TrainingSession.day >= date(year, 1, 1),
                TrainingSession.day <= date(year, 12, 31),
            )
            .group_by(TrainingSession.id)
            .order_by(TrainingSession.day, TrainingSession.start_time, TrainingSession.id)
        ).all()
        if ids
        else []
    )
    by_school: dict[int, dict[int, list[Qualifying]]] = {}
    for sid, school_id, title, theme, tier, day, attendees in rows:
        by_school.setdefault(school_id, {}).setdefault(day.month, []).append(
            Qualifying(sid, title, theme, tier, day, int(attendees))
        )
    today = clock.now().astimezone(SHANGHAI).date()
    needed = policy.training.monthly_school_sessions
    result = []
    for school in schools:
        months = []
        for m in range(1, 13):
            sessions = by_school.get(school.id, {}).get(m, [])
            months.append(Month(m, _state(year, m, sessions, today, needed), sessions))
        result.append(SchoolYear(school, year, months))
    return result
