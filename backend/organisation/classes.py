"""Schools' stage and classes per school year, and the classes' 班主任, 副班主任 and 轮值班主任 (the plan, 二(一)3:
每班必须配备班主任，可增设副班主任；探索建立"轮值班主任"制度).

One fact, entered once: appointing a teacher writes the matching service period through the people package's own
service (`backend.people.records.save_period`, with its checks and audit), and ending the appointment closes that
period. The title review, the honour list and the annual rules read service periods and so see every appointment.

Rules (each pinned by a test):
- an appointment lies inside its class's school year and the teacher belongs to the class's school;
- a class has at most one 班主任 at a time: a second overlapping 班主任 appointment is refused, naming the one in post
  (end that appointment first); the same teacher is not appointed twice to one class in one role at once;
- compliance (`class_compliance`): on the counting day every class has exactly one 班主任.
Every change is audited (action `organisation.*`, in the school's log).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.organisation import scope
from backend.organisation.models import Appointment, SchoolClass, SchoolYearStage
from backend.people import records
from backend.people.models import School
from backend.policies.service import Policy

STAGES = ("primary", "middle", "high", "nine_year", "complete")
STAGE_LABELS = {
    "primary": _("Primary school"),
    "middle": _("Junior secondary school"),
    "high": _("Senior secondary school"),
    "nine_year": _("Nine-year school"),
    "complete": _("Complete secondary school"),
}
ROLES = ("homeroom", "deputy", "rotating")  # also the kinds of the service periods they write
ROLE_LABELS = {role: records.KIND_LABELS[role] for role in ROLES}
MAX_CLASS_NAME = 40
MAX_GRADE = 20


# ---------------------------------------------------------------------------------------------------------------
# Reading


def stage_of(session: Session, school: School, year: int) -> str:
    """The school's stage in a year: as recorded for that year, else the school's own."""
    recorded = session.scalar(
        select(SchoolYearStage.stage).where(SchoolYearStage.school_id == school.id, SchoolYearStage.year == year)
    )
    return recorded or school.stage


def is_active(appointment: Appointment, day: date) -> bool:
    return appointment.start <= day and (appointment.end is None or appointment.end >= day)


@dataclass
class ClassRow:
    school_class: SchoolClass
    appointments: list[tuple[Appointment, str]]  # with the teacher's name, in order of start

    def active(self, role: str, day: date) -> list[tuple[Appointment, str]]:
        return [(a, n) for a, n in self.appointments if a.role == role and is_active(a, day)]

    def homeroom_count(self, day: date) -> int:
        return len(self.active("homeroom", day))


@dataclass(frozen=True)
class ClassCompliance:
    """每班必须配备班主任 on one day: the classes without a 班主任 and (never by the rules here) with several."""

    day: date
    classes: int
    without: tuple[str, ...]
    several: tuple[str, ...]

    @property
    def met(self) -> bool:
        return not self.without and not self.several


@dataclass
class Overview:
    school: School
    year: int
    stage: str
    day: date
    rows: list[ClassRow] = field(default_factory=list)

    @property
    def compliance(self) -> ClassCompliance:
        return _compliance(self.day, self.rows)


def class_rows(session: Session, school_id: int, year: int) -> list[ClassRow]:
    return _rows_by_school(session, year, school_id).get(school_id, [])


def _rows_by_school(session: Session, year: int, school_id: int | None = None) -> dict[int, list[ClassRow]]:
    """The classes of a school year with their appointments, per school (one school, or all: two queries either way)."""
    where = [SchoolClass.year == year] + ([SchoolClass.school_id == school_id] if school_id is not None else [])
    classes = list(
        session.scalars(select(SchoolClass).where(*where).order_by(SchoolClass.grade, SchoolClass.name, SchoolClass.id))
    )
    by_class: dict[int, list[tuple[Appointment, str]]] = defaultdict(list)
    if classes:
        for appointment, name in session.execute(
            select(Appointment, User.display_name)
            .join(User, User.id == Appointment.user_id)
            .join(SchoolClass, SchoolClass.id == Appointment.class_id)
            .where(*where)
            .order_by(Appointment.start, Appointment.id)
        ):
            by_class[appointment.class_id].append((appointment, name))
    rows: dict[int, list[ClassRow]] = defaultdict(list)
    for c in classes:
        rows[c.school_id].append(ClassRow(c, by_class.get(c.id, [])))
    return rows


def _compliance(day: date, rows: list[ClassRow]) -> ClassCompliance:
    without = tuple(r.school_class.name for r in rows if r.homeroom_count(day) == 0)
    several = tuple(r.school_class.name for r in rows if r.homeroom_count(day) > 1)
    return ClassCompliance(day, len(rows), without, several)


def class_compliance(session: Session, school_id: int, year: int, day: date) -> ClassCompliance:
    return _compliance(day, class_rows(session, school_id, year))


def compliance_by_school(session: Session, school_ids: list[int], year: int, day: date) -> dict[int, ClassCompliance]:
    """每班必须配备班主任 for many schools at once (supervision figures), the same rule as `class_compliance`."""
    rows = _rows_by_school(session, year)
    return {school_id: _compliance(day, rows.get(school_id, [])) for school_id in school_ids}


def class_counts(session: Session, year: int) -> dict[int, int]:
    """Classes per school in a school year (the figure the workshop rule reads)."""
    rows = session.execute(
        select(SchoolClass.school_id, func.count()).where(SchoolClass.year == year).group_by(SchoolClass.school_id)
    )
    return {school_id: n for school_id, n in rows}


def overview(
    session: Session, actor: User, school_id: int | None, year: int, policy: Policy, as_of: date | None = None
) -> Overview:
    school = scope.school_for(session, actor, school_id)
    day = scope.counting_day(year, policy, as_of)
    return Overview(school, year, stage_of(session, school, year), day, class_rows(session, school.id, year))


def teachers_of(session: Session, school_id: int) -> list[User]:
    """The school's active teachers, to choose from when appointing."""
    return list(
        session.scalars(
            select(User)
            .where(User.school_id == school_id, User.role == Role.teacher, User.is_active.is_(True))
            .order_by(User.display_name, User.id)
        )
    )


# ---------------------------------------------------------------------------------------------------------------
# Changes


def _audit(
    session: Session, action: str, actor: User, school_id: int, subject_type: str, subject_id: object, **kw: Any
) -> None:
    audit.record(
        session, action, actor_id=actor.id, subject_type=subject_type, subject_id=subject_id, school_id=school_id, **kw
    )


def set_stage(session: Session, actor: User, school_id: int | None, year: int, stage: str) -> SchoolYearStage:
    school = scope.school_for(session, actor, school_id)
    if stage not in STAGES:
        raise InvalidInput(_("Please correct the marked fields."), fields={"stage": _("Choose a stage from the list.")})
    row = session.scalar(
        select(SchoolYearStage).where(SchoolYearStage.school_id == school.id, SchoolYearStage.year == year)
    )
    before = {"stage": row.stage} if row else {"stage": school.stage}
    if row is None:
        row = SchoolYearStage(school_id=school.id, year=year, stage=stage)
        session.add(row)
    else:
        row.stage = stage
    session.flush()
    _audit(session, "organisation.stage_set", actor, school.id, "school_year", f"{school.code}:{year}",
           before=before, after={"year": year, "stage": stage})  # fmt: skip
    return row


def _class_values(name: str, grade: str) -> tuple[str, str]:
    name, grade = (name or "").strip(), (grade or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the class name, e.g. 三年级（2）班.")
    elif len(name) > MAX_CLASS_NAME:
        errors["name"] = _("A class name has at most 40 characters.")
    if len(grade) > MAX_GRADE:
        errors["grade"] = _("A grade has at most 20 characters.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return name, grade


def find_class(session: Session, school_id: int, year: int, name: str) -> SchoolClass | None:
    return session.scalar(
        select(SchoolClass).where(
            SchoolClass.school_id == school_id, SchoolClass.year == year, SchoolClass.name == name
        )
    )


def add_class(
    session: Session, actor: User, school_id: int | None, year: int, name: str, grade: str = ""
) -> SchoolClass:
    school = scope.school_for(session, actor, school_id)
    name, grade = _class_values(name, grade)
    if find_class(session, school.id, year, name) is not None:
        raise Conflict(_("The class %(name)s is already recorded for this school year."), name=name)
    school_class = SchoolClass(school_id=school.id, year=year, name=name, grade=grade, created_at=clock.now())
    session.add(school_class)
    session.flush()
    _audit(session, "organisation.class_add", actor, school.id, "school_class", school_class.id,
           after={"year": year, "name": name, "grade": grade})  # fmt: skip
    return school_class


def class_for(session: Session, actor: User, class_id: int) -> SchoolClass:
    """A class the actor may act on; another school's class is not found."""
    school_class = session.get(SchoolClass, class_id)
    if school_class is None:
        scope.require_admin(actor)
        raise NotFound(_("This class does not exist or is not in your school."))
    scope.school_for(session, actor, school_class.school_id)
    return school_class


def _appointment_dates(start_raw: object, end_raw: object, year: int, policy: Policy) -> tuple[date, date | None]:
    errors: dict[str, str] = {}
    first, last = scope.school_year_bounds(year, policy)

    def parse(raw: object, name: str) -> date | None:
        try:
            return records.parse_date(raw)
        except ValueError:
            errors[name] = _("Enter a date like 2026-09-01.")
            return None

    start = parse(start_raw, "start")
    end = parse(end_raw, "end")
    if start is None and "start" not in errors:
        errors["start"] = _("This field is required.")
    for name, value in (("start", start), ("end", end)):
        if value is not None and not first <= value <= last:
            errors[name] = _("The date must lie in the class's school year.")
    if start and end and end < start:
        errors["end"] = _("The end date cannot be before the start date.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert start is not None
    return start, end


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start <= (b_end or date.max) and b_start <= (a_end or date.max)


def appoint(
    session: Session,
    actor: User,
    class_id: int,
    teacher_id: int,
    role: str,
    start: object,
    policy: Policy,
    end: object = None,
) -> Appointment:
    """Appoints a teacher to a class and writes the matching service period (people's `save_period`)."""
    school_class = class_for(session, actor, class_id)
    if role not in ROLES:
        raise InvalidInput(_("Please correct the marked fields."), fields={"role": _("Choose a role from the list.")})
    teacher = records.get_teacher(session, actor, teacher_id)
    if teacher.school_id != school_class.school_id:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"teacher": _("This teacher is not at the class's school.")}
        )
    first, until = _appointment_dates(start, end, school_class.year, policy)
    others = session.execute(
        select(Appointment, User.display_name)
        .join(User, User.id == Appointment.user_id)
        .where(Appointment.class_id == school_class.id, Appointment.role == role)
    ).all()
    for other, name in others:
        if not _overlaps(first, until, other.start, other.end):
            continue
        if other.user_id == teacher.id:
            raise Conflict(
                _("%(name)s already holds this role in %(class_name)s."), name=name, class_name=school_class.name
            )
        if role == "homeroom":
            raise Conflict(
                _("%(class_name)s already has a homeroom teacher (%(name)s) then. End that appointment first."),
                name=name, class_name=school_class.name,
            )  # fmt: skip
    period = records.save_period(
        session,
        actor,
        teacher.id,
        {"kind": role, "school_id": str(school_class.school_id), "start": first.isoformat(),
         "end": until.isoformat() if until else ""},
    )  # fmt: skip
    appointment = Appointment(
        class_id=school_class.id, user_id=teacher.id, role=role, start=first, end=until,
        service_period_id=period.id, created_by=actor.id, created_at=clock.now(),
    )  # fmt: skip
    session.add(appointment)
    session.flush()
    _audit(session, "organisation.appoint", actor, school_class.school_id, "appointment", appointment.id,
           on_behalf_of_id=teacher.id,
           after={"class": school_class.name, "year": school_class.year, "role": role, "user_id": teacher.id,
                  "start": first.isoformat(), "end": until.isoformat() if until else None,
                  "service_period_id": period.id})  # fmt: skip
    return appointment


def appointment_for(session: Session, actor: User, appointment_id: int) -> tuple[Appointment, SchoolClass]:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        scope.require_admin(actor)
        raise NotFound(_("This appointment does not exist or is not in your school."))
    return appointment, class_for(session, actor, appointment.class_id)


def end_appointment(session: Session, actor: User, appointment_id: int, end: object, policy: Policy) -> Appointment:
    """Ends an appointment on a day (inclusive) and closes its service period on the same day."""
    appointment, school_class = appointment_for(session, actor, appointment_id)
    if appointment.end is not None:
        raise Conflict(_("This appointment has already ended."))
    start, until = _appointment_dates(appointment.start, end, school_class.year, policy)
    if until is None:
        raise InvalidInput(_("Please correct the marked fields."), fields={"end": _("This field is required.")})
    appointment.end = until
    if appointment.service_period_id is not None:
        records.save_period(
            session,
            actor,
            appointment.user_id,
            {"kind": appointment.role, "school_id": str(school_class.school_id), "start": start.isoformat(),
             "end": until.isoformat()},
            appointment.service_period_id,
        )  # fmt: skip
    session.flush()
    _audit(session, "organisation.appointment_end", actor, school_class.school_id, "appointment", appointment.id,
           on_behalf_of_id=appointment.user_id, before={"end": None}, after={"end": until.isoformat()})  # fmt: skip
    return appointment
