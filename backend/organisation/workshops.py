"""Workshops (班主任工作室, the plan's 二(二)2 and 二(三)3) and the plan's workshop rule.

A workshop is at city, district, school or joint (联合) level, for a stage, with a host (主持人), members with dated
terms and roles (a teacher may belong to several), and — for a joint workshop — its member schools.

The workshop rule (二(二)2: 班级数15个及以上学校需组建校级工作室（成员不少于8人），
鼓励班级数不足15个的学校与周边学校建立联合工作室), with the numbers as policy (`workshop_min_classes`,
`workshop_min_members`), per school and school year,
counted on one day (`scope.counting_day`):
- a school with ≥ min classes (the classes recorded for that school year) meets it when one of its school workshops
  has ≥ min members whose terms cover the day; otherwise it does not;
- a school with fewer classes is not required to; it meets it through a joint workshop it belongs to (or a school
  workshop of its own) with ≥ min members on the day, and is otherwise "not required".
Each result carries its reason: the classes, the workshop and its members counted on which day.

Activities are offline sessions of the training package (`backend.training.service.schedule`): its QR check-in and
hand-marked attendance write the members' pending ledger entries. An exchange visit with a workshop outside the
district (互学互访) is an activity of kind "exchange" with the partner's name.

Who may do what (`_may_manage`): district admins manage every workshop; a school admin the school and joint
workshops of their own school (a joint workshop's lead school); the host runs activities. Lists are scoped the same
way (`visible`): school admins also see the city, district and joint workshops their school takes part in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.organisation import classes, scope
from backend.organisation.models import Workshop, WorkshopActivity, WorkshopMember, WorkshopSchool
from backend.people import records
from backend.people.models import School
from backend.policies.service import Policy
from backend.training import service as training
from backend.training.models import TrainingSession

LEVELS = ("city", "district", "school", "joint")
LEVEL_LABELS = {
    "city": _("City workshop"),
    "district": _("District workshop"),
    "school": _("School workshop"),
    "joint": _("Joint workshop"),
}
STAGES = (*classes.STAGES, "all")
STAGE_LABELS = classes.STAGE_LABELS | {"all": _("All stages")}
MEMBER_ROLES = ("host", "deputy", "member")
MEMBER_ROLE_LABELS = {"host": _("Host"), "deputy": _("Deputy host"), "member": _("Member")}
ACTIVITY_KINDS = ("session", "exchange")
ACTIVITY_LABELS = {"session": _("Workshop session"), "exchange": _("Exchange visit (互学互访)")}
MAX_NAME = 100


# ---------------------------------------------------------------------------------------------------------------
# Who may see and change which workshop


def _member_schools(session: Session, workshop_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if workshop_ids:
        for workshop_id, school_id in session.execute(
            select(WorkshopSchool.workshop_id, WorkshopSchool.school_id).where(
                WorkshopSchool.workshop_id.in_(workshop_ids)
            )
        ):
            found[workshop_id].append(school_id)
    return found


def _may_manage(session: Session, actor: User, workshop: Workshop) -> bool:
    if actor.role == Role.district_admin:
        return True
    if actor.role == Role.school_admin:
        return (
            actor.school_id is not None
            and workshop.level in ("school", "joint")
            and workshop.school_id == actor.school_id
        )
    return False


def _may_run(session: Session, actor: User, workshop: Workshop) -> bool:
    """Runs activities: the host, and whoever manages the workshop."""
    return workshop.host_id == actor.id or _may_manage(session, actor, workshop)


def visible(actor: User) -> ColumnElement[bool]:
    """The workshops an actor may look at, as a condition on `Workshop`."""
    if actor.role == Role.district_admin:
        return true()
    if actor.role == Role.school_admin:
        if actor.school_id is None:
            return false()
        joined = select(WorkshopSchool.workshop_id).where(WorkshopSchool.school_id == actor.school_id)
        return or_(
            Workshop.school_id == actor.school_id, Workshop.id.in_(joined), Workshop.level.in_(("city", "district"))
        )
    if actor.role == Role.trainer:
        return Workshop.host_id == actor.id
    raise Forbidden(_("Your role does not allow this."))


def get_workshop(session: Session, actor: User, workshop_id: int) -> Workshop:
    workshop = session.scalar(select(Workshop).where(Workshop.id == workshop_id, visible(actor)))
    if workshop is None:
        raise NotFound(_("This workshop does not exist or is not open to you."))
    return workshop


def _managed(session: Session, actor: User, workshop_id: int) -> Workshop:
    workshop = get_workshop(session, actor, workshop_id)
    if not _may_manage(session, actor, workshop):
        raise Forbidden(_("Only the district, or the admin of the workshop's school, changes this workshop."))
    return workshop


# ---------------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class MemberRow:
    member: WorkshopMember
    name: str
    school_name: str | None


@dataclass
class ActivityRow:
    activity: WorkshopActivity
    session: TrainingSession
    attendees: int


@dataclass
class WorkshopView:
    workshop: Workshop
    school_name: str | None
    host_name: str | None
    member_schools: list[School]
    members: list[MemberRow]
    activities: list[ActivityRow]
    may_manage: bool
    may_run: bool
    day: date

    def active_members(self) -> list[MemberRow]:
        return [m for m in self.members if is_active(m.member, self.day)]


def is_active(member: WorkshopMember, day: date) -> bool:
    return member.start <= day and (member.end is None or member.end >= day)


def list_workshops(session: Session, actor: User) -> list[tuple[Workshop, str | None, int]]:
    """Visible workshops with their school's name and their members on today."""
    rows = session.execute(
        select(Workshop, School.name)
        .outerjoin(School, School.id == Workshop.school_id)
        .where(visible(actor))
        .order_by(Workshop.level, Workshop.name, Workshop.id)
    ).all()
    counts = member_counts(session, [w.id for w, _n in rows], scope.today())
    return [(w, name, counts.get(w.id, 0)) for w, name in rows]


def member_counts(session: Session, workshop_ids: list[int], day: date) -> dict[int, int]:
    """Members whose term covers `day`, per workshop (a teacher counts once however many roles they hold)."""
    found: dict[int, set[int]] = defaultdict(set)
    if workshop_ids:
        for workshop_id, user_id in session.execute(
            select(WorkshopMember.workshop_id, WorkshopMember.user_id).where(
                WorkshopMember.workshop_id.in_(workshop_ids),
                WorkshopMember.start <= day,
                or_(WorkshopMember.end.is_(None), WorkshopMember.end >= day),
            )
        ):
            found[workshop_id].add(user_id)
    return {k: len(v) for k, v in found.items()}


def view(session: Session, actor: User, workshop_id: int, as_of: date | None = None) -> WorkshopView:
    workshop = get_workshop(session, actor, workshop_id)
    day = as_of or scope.today()
    names = dict(session.execute(select(School.id, School.name)).all())
    member_schools = list(
        session.scalars(
            select(School)
            .join(WorkshopSchool, WorkshopSchool.school_id == School.id)
            .where(WorkshopSchool.workshop_id == workshop.id)
            .order_by(School.code)
        )
    )
    members = [
        MemberRow(member, name, names.get(school_id or 0))
        for member, name, school_id in session.execute(
            select(WorkshopMember, User.display_name, User.school_id)
            .join(User, User.id == WorkshopMember.user_id)
            .where(WorkshopMember.workshop_id == workshop.id)
            .order_by(WorkshopMember.start, WorkshopMember.id)
        )
    ]
    activity_rows = session.execute(
        select(WorkshopActivity, TrainingSession)
        .join(TrainingSession, TrainingSession.id == WorkshopActivity.session_id)
        .where(WorkshopActivity.workshop_id == workshop.id)
        .order_by(TrainingSession.day.desc(), TrainingSession.id.desc())
    ).all()
    activities = [ActivityRow(a, ts, training.attendee_count(session, ts)) for a, ts in activity_rows]
    host = session.get(User, workshop.host_id) if workshop.host_id else None
    return WorkshopView(
        workshop, names.get(workshop.school_id or 0), host.display_name if host else None, member_schools, members,
        activities, _may_manage(session, actor, workshop), _may_run(session, actor, workshop), day,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Changes


def _audit(session: Session, action: str, actor: User, workshop: Workshop, **kw: Any) -> None:
    audit.record(
        session, action, actor_id=actor.id, subject_type="workshop", subject_id=workshop.id,
        school_id=workshop.school_id, **kw,
    )  # fmt: skip


def _user(session: Session, user_id: int | None, field: str, errors: dict[str, str]) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        errors[field] = _("Choose a person from the list.")
    return user


def create_workshop(
    session: Session,
    actor: User,
    *,
    name: str,
    level: str,
    stage: str,
    school_id: int | None = None,
    host_id: int | None = None,
    member_school_ids: list[int] | None = None,
) -> Workshop:
    scope.require_admin(actor)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        errors["name"] = _("Enter a name of 1 to 100 characters.")
    if level not in LEVELS:
        errors["level"] = _("Choose a level from the list.")
    elif actor.role == Role.school_admin and level not in ("school", "joint"):
        errors["level"] = _("A school creates school and joint workshops; city and district ones are the district's.")
    if stage not in STAGES:
        errors["stage"] = _("Choose a stage from the list.")
    if actor.role == Role.school_admin:
        school_id = actor.school_id
    if level in ("school", "joint"):
        if school_id is None or session.get(School, school_id) is None:
            errors["school"] = _("Choose a school.")
    else:
        school_id = None
    host = _user(session, host_id, "host", errors)
    schools = sorted(set(member_school_ids or []) | ({school_id} if level == "joint" and school_id else set()))
    if level == "joint":
        known = set(session.scalars(select(School.id).where(School.id.in_(schools)))) if schools else set()
        if known != set(schools):
            errors["schools"] = _("Choose the member schools from the list.")
        elif len(schools) < 2:
            errors["schools"] = _("A joint workshop has at least two member schools.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    workshop = Workshop(
        name=name, level=level, stage=stage, school_id=school_id, host_id=host.id if host else None,
        created_by=actor.id, created_at=clock.now(),
    )  # fmt: skip
    session.add(workshop)
    session.flush()
    if level == "joint":
        session.add_all(WorkshopSchool(workshop_id=workshop.id, school_id=s) for s in schools)
    if host is not None:
        session.add(WorkshopMember(workshop_id=workshop.id, user_id=host.id, role="host", start=scope.today()))
    session.flush()
    _audit(session, "organisation.workshop_create", actor, workshop,
           after={"name": name, "level": level, "stage": stage, "school_id": school_id,
                  "host_id": workshop.host_id, "schools": schools})  # fmt: skip
    return workshop


def add_member(
    session: Session,
    actor: User,
    workshop_id: int,
    user_id: int,
    role: str = "member",
    start: object = None,
    end: object = None,
) -> WorkshopMember:
    """A member's term: from `start` (default today) to `end` (inclusive; none: open)."""
    workshop = _managed(session, actor, workshop_id)
    errors: dict[str, str] = {}
    if role not in MEMBER_ROLES:
        errors["role"] = _("Choose a role from the list.")
    teacher = _user(session, user_id, "teacher", errors)
    if teacher is not None and "teacher" not in errors:
        allowed = schools_of(session, workshop)
        if allowed is not None and teacher.school_id not in allowed:
            errors["teacher"] = _("This teacher is not at a school of this workshop.")
    first = until = None
    try:
        first = records.parse_date(start) if start not in (None, "") else scope.today()
    except ValueError:
        errors["start"] = _("Enter a date like 2026-09-01.")
    try:
        until = records.parse_date(end) if end not in (None, "") else None
    except ValueError:
        errors["end"] = _("Enter a date like 2026-09-01.")
    if first and until and until < first:
        errors["end"] = _("The end date cannot be before the start date.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert teacher is not None and first is not None
    for other in session.scalars(
        select(WorkshopMember).where(WorkshopMember.workshop_id == workshop.id, WorkshopMember.user_id == teacher.id)
    ):
        if first <= (other.end or date.max) and other.start <= (until or date.max):
            raise Conflict(_("%(name)s is already a member of this workshop then."), name=teacher.display_name)
    member = WorkshopMember(workshop_id=workshop.id, user_id=teacher.id, role=role, start=first, end=until)
    session.add(member)
    session.flush()
    _audit(session, "organisation.member_add", actor, workshop, on_behalf_of_id=teacher.id,
           after={"user_id": teacher.id, "role": role, "start": first.isoformat(),
                  "end": until.isoformat() if until else None})  # fmt: skip
    # The workshop's assigned courses reach the new member now (assignments imports this module, hence here).
    from backend.organisation import assignments

    assignments.sync_person(session, teacher.id)
    return member


def schools_of(session: Session, workshop: Workshop) -> set[int | None] | None:
    """The schools a workshop's members come from (None: any school, for city and district workshops)."""
    if workshop.level == "school":
        return {workshop.school_id}
    if workshop.level == "joint":
        return set(_member_schools(session, [workshop.id]).get(workshop.id, []))
    return None


def end_member(session: Session, actor: User, member_id: int, end: object) -> WorkshopMember:
    member = session.get(WorkshopMember, member_id)
    if member is None:
        scope.require_admin(actor)
        raise NotFound(_("This membership does not exist."))
    workshop = _managed(session, actor, member.workshop_id)
    if member.end is not None:
        raise Conflict(_("This term has already ended."))
    try:
        until = records.parse_date(end)
    except ValueError:
        until = None
    if until is None or until < member.start:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"end": _("Enter a date like 2026-09-01, not before the start.")},
        )
    member.end = until
    session.flush()
    _audit(session, "organisation.member_end", actor, workshop, on_behalf_of_id=member.user_id,
           before={"end": None}, after={"member_id": member.id, "end": until.isoformat()})  # fmt: skip
    return member


def add_activity(
    session: Session, actor: User, workshop_id: int, form: dict[str, Any], policy: Policy
) -> WorkshopActivity:
    """Schedules a workshop activity as an offline session of the training package (level 工作室): its check-in
    and attendance feed the members' ledger. `form` carries the session's fields plus `kind` and `partner`."""
    workshop = get_workshop(session, actor, workshop_id)
    if not _may_run(session, actor, workshop):
        raise Forbidden(_("Only the workshop's host or its admins run its activities."))
    kind = str(form.get("kind") or "session")
    partner = str(form.get("partner") or "").strip()
    errors: dict[str, str] = {}
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = _("Choose a kind of activity from the list.")
    if kind == "exchange" and not partner:
        errors["partner"] = _("Name the workshop visited or visiting (outside the district).")
    if len(partner) > 200:
        errors["partner"] = _("At most 200 characters.")
    own_school = (
        workshop.school_id if workshop.school_id is not None and workshop.school_id == actor.school_id else None
    )
    if actor.role == Role.district_admin:
        own_school = workshop.school_id
    session_form = dict(form) | {"level": "workshop", "school_id": str(own_school or "")}
    try:
        ts = training.schedule(session, actor, session_form, policy)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, fields=exc.fields | errors, **exc.params) from exc
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    activity = WorkshopActivity(workshop_id=workshop.id, session_id=ts.id, kind=kind, partner=partner)
    session.add(activity)
    session.flush()
    _audit(session, "organisation.activity_add", actor, workshop,
           after={"session_id": ts.id, "kind": kind, "partner": partner, "title": ts.title})  # fmt: skip
    return activity


@training.registration_source
def registered_members(ts: TrainingSession) -> ColumnElement[bool] | None:
    """Who is registered for a workshop activity's session (issue 13: the people a trainer may mark present): the
    workshop's members whose term covers the session's day. None for a session of no workshop."""
    if ts.id is None:
        return None
    on_the_day = (WorkshopMember.start <= ts.day) & (or_(WorkshopMember.end.is_(None), WorkshopMember.end >= ts.day))
    members = (
        select(WorkshopMember.user_id)
        .join(WorkshopActivity, WorkshopActivity.workshop_id == WorkshopMember.workshop_id)
        .where(WorkshopActivity.session_id == ts.id, on_the_day)
    )
    return User.id.in_(members)


def workshop_of_session(session: Session, session_id: int) -> tuple[Workshop, WorkshopActivity] | None:
    row = session.execute(
        select(Workshop, WorkshopActivity)
        .join(WorkshopActivity, WorkshopActivity.workshop_id == Workshop.id)
        .where(WorkshopActivity.session_id == session_id)
    ).first()
    return (row[0], row[1]) if row else None


# ---------------------------------------------------------------------------------------------------------------
# The workshop rule


@dataclass(frozen=True)
class WorkshopRule:
    """The rule's result for one school and school year, with the figures behind it."""

    school: School
    year: int
    day: date
    classes: int
    required: bool
    status: str  # met | not_met | not_required
    workshop: str | None  # the workshop that meets it (or comes closest)
    workshop_level: str | None
    members: int
    min_classes: int
    min_members: int

    @property
    def met(self) -> bool:
        return self.status == "met"


def workshop_rule(
    session: Session, actor: User, year: int, policy: Policy, as_of: date | None = None, school_id: int | None = None
) -> list[WorkshopRule]:
    """The rule for every school in the actor's scope (or one school), counted on one day of the school year."""
    schools = scope.schools_in_scope(session, actor)
    if school_id is not None:
        schools = [scope.school_for(session, actor, school_id)]
    return rule_for_schools(session, schools, year, policy, scope.counting_day(year, policy, as_of))


def rule_for_schools(
    session: Session, schools: list[School], year: int, policy: Policy, day: date
) -> list[WorkshopRule]:
    """The rule for the given schools on `day` (the caller has checked who may see them)."""
    counts = classes.class_counts(session, year)
    school_workshops: dict[int, list[Workshop]] = defaultdict(list)
    joint_workshops: dict[int, list[Workshop]] = defaultdict(list)
    all_workshops = list(session.scalars(select(Workshop).where(Workshop.level.in_(("school", "joint")))))
    members_of: dict[int, int] = {}
    member_schools: dict[int, list[int]] = {}
    if all_workshops:
        ids = [w.id for w in all_workshops]
        members_of = member_counts(session, ids, day)
        member_schools = _member_schools(session, ids)
    for workshop in all_workshops:
        if workshop.level == "school" and workshop.school_id is not None:
            school_workshops[workshop.school_id].append(workshop)
        for member_school in member_schools.get(workshop.id, []) if workshop.level == "joint" else []:
            joint_workshops[member_school].append(workshop)
    results = []
    for school in schools:
        n = counts.get(school.id, 0)
        required = n >= policy.organisation.workshop_min_classes
        # A school that must have one counts only its own school workshops; a smaller one also joint workshops.
        candidates = school_workshops[school.id] + ([] if required else joint_workshops[school.id])
        best = max(candidates, key=lambda w: (members_of.get(w.id, 0), w.level == "school", -w.id), default=None)
        members = members_of.get(best.id, 0) if best else 0
        enough = best is not None and members >= policy.organisation.workshop_min_members
        status = "met" if enough else ("not_met" if required else "not_required")
        results.append(
            WorkshopRule(
                school,
                year,
                day,
                n,
                required,
                status,
                best.name if best else None,
                best.level if best else None,
                members,
                policy.organisation.workshop_min_classes,
                policy.organisation.workshop_min_members,
            )  # fmt: skip
        )
    return results
