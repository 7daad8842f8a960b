"""Learning assigned to people (issue 16): a course (必修) assigned to a group with a deadline.

The group is a tier, the reserve pool, the trainee homeroom teachers, a workshop's members, a school, or a list of
teachers uploaded from Excel. A school admin assigns within their school only: the assignment carries the school and
reaches only the group's teachers of that school (a tier assigned by a school admin = that tier's teachers in their
school). District admins assign to the whole district (or one school).

Enrolment goes through learning's own service (`learning.service.enroll(..., assigned=True)`): nothing here writes an
enrollment. Membership is read when needed, never copied, and the enrolment is an idempotent sync:
- `sync_assignment` enrols every member of one assignment's group not enrolled yet (when it is made, and whenever
  an admin opens its progress);
- `sync_person` enrols one teacher in every assignment whose group they are in. The organisation's own services call
  it when they change a group (a tier set, a workshop member added, a pool member nominated), and the teacher's "My
  learning" calls it through the section this module registers with learning (`learning.service.home_sections`).
  Groups whose facts live below the organisation (a teacher created in a school by the roster import or the account
  pages, a teacher's status becoming trainee) are caught by that read-time sync rather than by a hook: those packages
  would have to announce on a `kit.hooks.Hook`, which refuses to announce when nothing listens (the CLI and the
  roster tests do not import the organisation), and one sync on read covers every path that changes them.

Progress per assignment (completed / in progress / not started, and who is late) is read from learning
(`learning.service.statuses`) by course code, so a new version of the course keeps the learners' progress. A teacher
is late when the deadline (a day, Asia/Shanghai) has passed without completion: due today is not late yet.
Every change is audited (`organisation.assignment_*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.accounts.scope import in_school_scope, school_scope
from backend.audit import service as audit
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.i18n import _
from backend.kit.xlsx import Column, Layout, named_rows
from backend.learning import service as learning
from backend.organisation import scope, workshops
from backend.organisation.models import (
    AssignmentPerson,
    LearningAssignment,
    PoolMember,
    Workshop,
    WorkshopMember,
)
from backend.people import directory, records
from backend.people.models import School, TeacherProfile
from backend.people.roster import RowError
from backend.policies.taxonomy import TIER_CODES, TIERS

KINDS = ("tier", "pool", "trainees", "workshop", "school", "list")
KIND_LABELS = {
    "tier": _("A tier"),
    "pool": _("The reserve pool"),
    "trainees": _("Trainee homeroom teachers"),
    "workshop": _("A workshop's members"),
    "school": _("A school"),
    "list": _("A list of teachers (Excel)"),
}
STATE_LABELS = {"completed": _("Completed"), "in_progress": _("In progress"), "not_started": _("Not started")}
MAX_NOTE = 200
MAX_LIST_BYTES = 2 * 1024 * 1024
MAX_LIST_ROWS = 2_000
COL_STAFF_NO, COL_NAME = "工号", "姓名"
# A list of teachers learning is assigned to: staff numbers, and names to check them against (optional).
LIST_LAYOUT = Layout(
    columns=(Column(COL_STAFF_NO, required=True), Column(COL_NAME)),
    unsupported=_("Upload the list as an Excel (.xlsx) or CSV file."),
    max_bytes=MAX_LIST_BYTES,
    too_large=_("The file is larger than 2 MB."),
    max_rows=MAX_LIST_ROWS,
    too_many=_("A list has at most 2,000 rows. Split the file."),
    missing=_("The first row must name the columns; missing: %(columns)s."),
)
POOL_ACTIVE = ("reserve", "ready")


# ---------------------------------------------------------------------------------------------------------------
# Who is in a group


def _group_condition(session: Session, assignment: LearningAssignment, day: date) -> ColumnElement[bool]:
    kind, value = assignment.group_kind, assignment.group_value
    if kind == "tier":
        return User.id.in_(select(TeacherProfile.user_id).where(TeacherProfile.tier == value))
    if kind == "trainees":
        return User.id.in_(select(TeacherProfile.user_id).where(TeacherProfile.status == "trainee"))
    if kind == "pool":
        return User.id.in_(select(PoolMember.user_id).where(PoolMember.status.in_(POOL_ACTIVE)))
    if kind == "workshop":
        return User.id.in_(
            select(WorkshopMember.user_id).where(
                WorkshopMember.workshop_id == int(value),
                WorkshopMember.start <= day,
                (WorkshopMember.end.is_(None)) | (WorkshopMember.end >= day),
            )
        )
    if kind == "school":
        return User.school_id == int(value)
    return User.id.in_(select(AssignmentPerson.user_id).where(AssignmentPerson.assignment_id == assignment.id))


def members(
    session: Session, assignment: LearningAssignment, *, only: int | None = None, viewer: User | None = None
) -> list[User]:
    """The active teachers of the assignment's group today, within its school if a school admin made it (and within
    the viewer's school scope when one is given)."""
    conditions = [
        User.role == Role.teacher,
        User.is_active.is_(True),
        _group_condition(session, assignment, scope.today()),
    ]
    if assignment.school_id is not None:
        conditions.append(User.school_id == assignment.school_id)
    if only is not None:
        conditions.append(User.id == only)
    if viewer is not None:
        conditions.append(school_scope(viewer))
    return list(session.scalars(select(User).where(*conditions).order_by(User.school_id, User.display_name, User.id)))


# ---------------------------------------------------------------------------------------------------------------
# Enrolment (the idempotent sync)


def _course(session: Session, assignment: LearningAssignment) -> Course | None:
    """The version a member is enrolled in: the current published version of the assigned course's code."""
    assigned = session.get(Course, assignment.course_id)
    return catalogue.current_published(session, assigned.code) if assigned else None


def _enrol(session: Session, assignment: LearningAssignment, people: list[User]) -> list[int]:
    course = _course(session, assignment)
    if course is None or not people:
        return []
    ids = [p.id for p in people]
    have = learning.statuses(session, course.code, ids)
    enrolled = learning.enrolled_among(session, course.id, ids)
    new = []
    for person in people:
        if person.id in enrolled or have[person.id].state == "completed":
            continue  # a teacher who completed any version is not enrolled again
        learning.enroll(session, person.id, course, assigned=True)
        new.append(person.id)
    if new:
        audit.record(
            session, "organisation.assignment_enrol", actor_id=None, subject_type="learning_assignment",
            subject_id=assignment.id, school_id=assignment.school_id, after={"course": course.code, "user_ids": new},
        )  # fmt: skip
    return new


def sync_assignment(session: Session, assignment: LearningAssignment) -> list[int]:
    """Enrols every member of the group not enrolled yet; returns who was enrolled now. Idempotent."""
    return _enrol(session, assignment, members(session, assignment))


def sync_person(session: Session, user_id: int) -> list[int]:
    """Enrols one teacher in every assignment whose group they are in; returns the assignments that enrolled them."""
    person = session.get(User, user_id)
    if person is None or person.role != Role.teacher:
        return []
    reached = []
    for assignment in list(session.scalars(select(LearningAssignment).order_by(LearningAssignment.id))):
        if assignment.school_id is not None and assignment.school_id != person.school_id:
            continue
        if members(session, assignment, only=user_id) and _enrol(session, assignment, [person]):
            reached.append(assignment.id)
    return reached


# ---------------------------------------------------------------------------------------------------------------
# Making an assignment


def parse_list(session: Session, actor: User, content: bytes, filename: str) -> tuple[list[int], list[RowError]]:
    """Teachers named by staff number (工号; a 姓名 column, if any, must match) in an Excel or CSV file, within the
    actor's school scope. Returns the teachers and the row-by-row problems; the caller keeps nothing if any."""
    scope.require_admin(actor)
    rows = [(r.number, r.text(COL_STAFF_NO), r.text(COL_NAME)) for r in named_rows(content, filename, LIST_LAYOUT)]
    if not rows:
        raise InvalidInput(_("The list names no teacher."))
    school_id = actor.school_id if actor.role == Role.school_admin else None
    found = directory.teachers_with_staff_nos(session, school_id, sorted({r[1] for r in rows if r[1]}))
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    ids: list[int] = []
    for number, staff_no, name in rows:
        teacher = found.get(staff_no)
        if not staff_no:
            errors.append(RowError(number, COL_STAFF_NO, _("Write the teacher's staff number.")))
        elif staff_no in seen:
            errors.append(RowError(number, COL_STAFF_NO, _("The staff number %(value)s appears twice in this file "
                                                           "(also in row %(other)s)."),
                                   {"value": staff_no, "other": seen[staff_no]}))  # fmt: skip
        elif teacher is None or teacher.role != Role.teacher or not in_school_scope(actor, teacher):
            errors.append(RowError(number, COL_STAFF_NO, _("No teacher in your scope has the staff number %(value)s."),
                                   {"value": staff_no}))  # fmt: skip
        elif name and name != teacher.display_name:
            errors.append(RowError(number, COL_NAME, _("The staff number %(value)s belongs to %(name)s, not "
                                                       "%(found)s."),
                                   {"value": staff_no, "name": teacher.display_name, "found": name}))  # fmt: skip
        else:
            ids.append(teacher.id)
        seen.setdefault(staff_no, number)
    return ids, errors


def _published_course(session: Session, course_id: int | None, errors: dict[str, str]) -> Course | None:
    course = session.get(Course, course_id) if course_id and 0 < course_id < 2**31 else None
    if course is None or catalogue.current_published(session, course.code) is None:
        errors["course"] = _("Choose a published course from the list.")
        return None
    return course


def _group_value(
    session: Session, actor: User, kind: str, value: str, errors: dict[str, str]
) -> tuple[str, int | None]:
    """The group's value as stored and the school the assignment is limited to."""
    own = actor.school_id if actor.role == Role.school_admin else None
    value = (value or "").strip()
    if kind == "tier":
        if value not in TIER_CODES:
            errors["value"] = _("Choose a tier from the list.")
        return value, own
    if kind in ("pool", "trainees", "list"):
        return "", own
    number = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
    if kind == "workshop":
        try:
            if number is None:
                raise NotFound(_("Choose a workshop from the list."))
            workshop = workshops.get_workshop(session, actor, number)
        except NotFound:
            errors["value"] = _("Choose a workshop from the list.")
            return "", own
        return str(workshop.id), own
    if kind == "school":
        if value and number is None:
            errors["value"] = _("Choose a school from the list.")
            return "", own
        try:
            school = scope.school_for(session, actor, number if value else own)
        except (InvalidInput, NotFound):
            errors["value"] = _("Choose a school from the list.")
            return "", own
        return str(school.id), school.id
    errors["kind"] = _("Choose a group from the list.")
    return "", own


def create(
    session: Session,
    actor: User,
    *,
    course_id: int | None,
    kind: str,
    value: str = "",
    due: object = None,
    note: str = "",
    teacher_ids: list[int] | None = None,
) -> LearningAssignment:
    """Assigns a published course to a group with a deadline and enrols the group's teachers now."""
    scope.require_admin(actor)
    errors: dict[str, str] = {}
    course = _published_course(session, course_id, errors)
    stored, school_id = _group_value(session, actor, kind, value, errors)
    day: date | None = None
    try:
        day = records.parse_date(due)
    except ValueError:
        errors["due"] = _("Enter a date like 2026-09-01.")
    if day is None and "due" not in errors:
        errors["due"] = _("This field is required.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("At most 200 characters.")
    people: list[User] = []
    if kind == "list":
        for teacher_id in dict.fromkeys(teacher_ids or []):
            try:
                people.append(records.get_teacher(session, actor, teacher_id))
            except NotFound:
                errors["teachers"] = _("Choose teachers of your school scope.")
                break
        if not people and "teachers" not in errors:
            errors["teachers"] = _("The list names no teacher.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert course is not None and day is not None
    assignment = LearningAssignment(
        course_id=course.id, group_kind=kind, group_value=stored, school_id=school_id, due=day, note=note,
        created_by=actor.id, created_at=clock.now(),
    )  # fmt: skip
    session.add(assignment)
    session.flush()
    for person in people:
        session.add(AssignmentPerson(assignment_id=assignment.id, user_id=person.id))
    session.flush()
    audit.record(
        session, "organisation.assignment_create", actor_id=actor.id, subject_type="learning_assignment",
        subject_id=assignment.id, school_id=school_id,
        after={"course": course.code, "group": kind, "value": stored, "school_id": school_id,
               "due": day.isoformat(), "note": note, "teachers": [p.id for p in people]},
    )  # fmt: skip
    sync_assignment(session, assignment)
    return assignment


# ---------------------------------------------------------------------------------------------------------------
# Reading


def is_late(due: date, state: learning.LearnerStatus, today: date) -> bool:
    """Late: not completed by the end of the deadline day (Asia/Shanghai). Due today is not late yet."""
    if state.completed_at is not None:
        return state.completed_at.astimezone(SHANGHAI).date() > due
    return today > due


def visible(actor: User) -> ColumnElement[bool]:
    """Assignments an admin sees: the district's all; a school admin's their school's and the district-wide ones."""
    scope.require_admin(actor)
    if actor.role == Role.district_admin:
        return LearningAssignment.id.is_not(None)
    return (LearningAssignment.school_id == actor.school_id) | LearningAssignment.school_id.is_(None)


def get(session: Session, actor: User, assignment_id: int) -> LearningAssignment:
    found = session.scalar(select(LearningAssignment).where(LearningAssignment.id == assignment_id, visible(actor)))
    if found is None:
        raise NotFound(_("This assignment does not exist or is not yours."))
    return found


@dataclass
class ProgressRow:
    teacher: User
    school_name: str
    state: str
    completed_at: Any
    late: bool


@dataclass
class AssignmentView:
    assignment: LearningAssignment
    course: Course
    group_label: str
    today: date
    rows: list[ProgressRow] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for r in self.rows if r.state == state)

    @property
    def late(self) -> list[ProgressRow]:
        return [r for r in self.rows if r.late]


def group_label(session: Session, assignment: LearningAssignment) -> str:
    """The group's own name (a tier's name is a gettext msgid; templates translate it), or "" for the pool, the
    trainees and a list, which the group's kind names."""
    kind, value = assignment.group_kind, assignment.group_value
    if kind == "tier":
        return next((t.name for t in TIERS if t.code == value), value)
    if kind == "workshop":
        workshop = session.get(Workshop, int(value)) if value.isdigit() else None
        return workshop.name if workshop else value
    if kind == "school":
        school = session.get(School, int(value)) if value.isdigit() else None
        return school.name if school else value
    return ""


def progress(session: Session, actor: User, assignment_id: int) -> AssignmentView:
    """Each member's progress (synced first, so who joined since is enrolled), within the actor's school scope."""
    assignment = get(session, actor, assignment_id)
    sync_assignment(session, assignment)
    course = session.get(Course, assignment.course_id)
    assert course is not None
    people = members(session, assignment, viewer=actor)
    states = learning.statuses(session, course.code, [p.id for p in people])
    names = dict(session.execute(select(School.id, School.name)).all())
    today = scope.today()
    rows = [
        ProgressRow(p, names.get(p.school_id or 0, ""), states[p.id].state, states[p.id].completed_at,
                    is_late(assignment.due, states[p.id], today))
        for p in people
    ]  # fmt: skip
    return AssignmentView(assignment, course, group_label(session, assignment), today, rows)


def list_views(session: Session, actor: User) -> list[AssignmentView]:
    """Every assignment the actor sees, with its progress, newest deadline last."""
    ids = list(
        session.scalars(
            select(LearningAssignment.id).where(visible(actor)).order_by(LearningAssignment.due, LearningAssignment.id)
        )
    )
    return [progress(session, actor, assignment_id) for assignment_id in ids]


@dataclass(frozen=True)
class MyAssignment:
    assignment: LearningAssignment
    course: Course
    state: str
    overdue: bool


def mine(session: Session, user: User) -> list[MyAssignment]:
    """A teacher's assigned courses, soonest deadline first (enrolling them in any they were not yet in)."""
    if user.role != Role.teacher:
        return []
    sync_person(session, user.id)
    found = []
    today = scope.today()
    for assignment in list(session.scalars(select(LearningAssignment).order_by(LearningAssignment.due))):
        if not members(session, assignment, only=user.id):
            continue
        course = _course(session, assignment) or session.get(Course, assignment.course_id)
        assert course is not None
        state = learning.statuses(session, course.code, [user.id])[user.id]
        found.append(
            MyAssignment(assignment, course, state.state, state.state != "completed" and today > assignment.due)
        )
    return found


def reaching(session: Session, user_id: int) -> list[MyAssignment]:
    """The assignments that reach a teacher, with their progress (for the pool record), without enrolling."""
    today = scope.today()
    found = []
    for assignment in list(session.scalars(select(LearningAssignment).order_by(LearningAssignment.due))):
        if not members(session, assignment, only=user_id):
            continue
        course = session.get(Course, assignment.course_id)
        assert course is not None
        state = learning.statuses(session, course.code, [user_id])[user_id]
        found.append(MyAssignment(assignment, course, state.state, is_late(assignment.due, state, today)))
    return found


def learning_section(session: Session, user: User) -> tuple[str, dict[str, Any]] | None:
    """The assigned courses at the top of a teacher's "My learning"."""
    assigned = mine(session, user)
    if not assigned:
        return None
    return "organisation/_my_assignments.html", {"assigned": assigned, "state_labels": STATE_LABELS}


learning.home_sections.append(learning_section)
