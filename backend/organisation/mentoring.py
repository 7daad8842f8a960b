"""Mentoring (带教、在岗跟岗指导, the plan's 二(一)2 and 二(三)1): mentor–mentee pairs with a period, goals, a meeting
log and the mentor's sign-off; and the check that every trainee homeroom teacher (见习班主任) has a mentor.

- A pair is made by an admin of the mentee's school (or the district): mentor and mentee are teachers in the actor's
  scope, not the same person, and the period's end is not before its start.
- The meeting log is kept by the mentor or the admins; a signed-off pair takes no more entries.
- The mentor (or an admin) signs off once; the sign-off writes one pending ledger entry for each of the two people
  through the credits service: the log's minutes as hours (one decimal), at most
  `OrganisationPolicy.mentoring_max_hours`, in `OrganisationPolicy.mentoring_category` and
  `OrganisationPolicy.mentoring_level`. Nobody signs off a pair they are the mentee of.
- Compliance (`trainees_without_mentor`): every teacher whose status is trainee has a pair whose period covers the
  day (signed off or not).
Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.accounts.models import Role, User
from backend.accounts.scope import school_scope
from backend.audit import service as audit
from backend.credits import ledger as credits
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.organisation import scope
from backend.organisation.models import MentoringMeeting, Mentorship
from backend.people import records
from backend.people.models import TeacherProfile
from backend.policies.service import Policy

MAX_GOALS = 1000
MAX_NOTES = 1000
MAX_MINUTES = 600


@dataclass
class PairRow:
    pair: Mentorship
    mentor_name: str
    mentee_name: str
    minutes: int


@dataclass
class PairView:
    pair: Mentorship
    mentor_name: str
    mentee_name: str
    meetings: list[MentoringMeeting]
    may_log: bool
    may_sign_off: bool

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.meetings)


def _scope_condition(actor: User):  # type: ignore[no-untyped-def]
    """The pairs an actor may see: the district all; a school admin their school's; anyone else their own."""
    if actor.role == Role.district_admin:
        return None
    if actor.role == Role.school_admin:
        return Mentorship.school_id == actor.school_id
    return or_(Mentorship.mentor_id == actor.id, Mentorship.mentee_id == actor.id)


def _is_admin_of(actor: User, pair: Mentorship) -> bool:
    return actor.role == Role.district_admin or (
        actor.role == Role.school_admin and actor.school_id is not None and actor.school_id == pair.school_id
    )


def get_pair(session: Session, actor: User, pair_id: int) -> Mentorship:
    pair = session.get(Mentorship, pair_id)
    visible = pair is not None and (_is_admin_of(actor, pair) or actor.id in (pair.mentor_id, pair.mentee_id))
    if not visible or pair is None:
        raise NotFound(_("This mentoring pair does not exist or is not yours."))
    return pair


def list_pairs(session: Session, actor: User) -> list[PairRow]:
    mentor, mentee = aliased(User), aliased(User)
    minutes = (
        select(MentoringMeeting.mentorship_id, func.sum(MentoringMeeting.minutes).label("minutes"))
        .group_by(MentoringMeeting.mentorship_id)
        .subquery()
    )
    stmt = (
        select(Mentorship, mentor.display_name, mentee.display_name, minutes.c.minutes)
        .join(mentor, mentor.id == Mentorship.mentor_id)
        .join(mentee, mentee.id == Mentorship.mentee_id)
        .outerjoin(minutes, minutes.c.mentorship_id == Mentorship.id)
        .order_by(Mentorship.start.desc(), Mentorship.id.desc())
    )
    condition = _scope_condition(actor)
    if condition is not None:
        stmt = stmt.where(condition)
    return [PairRow(p, a, b, int(m or 0)) for p, a, b, m in session.execute(stmt)]


def view(session: Session, actor: User, pair_id: int) -> PairView:
    pair = get_pair(session, actor, pair_id)
    meetings = list(
        session.scalars(
            select(MentoringMeeting)
            .where(MentoringMeeting.mentorship_id == pair.id)
            .order_by(MentoringMeeting.day, MentoringMeeting.id)
        )
    )
    names = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_([pair.mentor_id, pair.mentee_id]))).all()
    )
    may_log = pair.signed_off_at is None and (actor.id == pair.mentor_id or _is_admin_of(actor, pair))
    may_sign_off = may_log and actor.id != pair.mentee_id
    return PairView(pair, names.get(pair.mentor_id, ""), names.get(pair.mentee_id, ""), meetings, may_log, may_sign_off)


def _date(raw: object, name: str, errors: dict[str, str], *, required: bool = True) -> date | None:
    try:
        value = records.parse_date(raw)
    except ValueError:
        errors[name] = _("Enter a date like 2026-09-01.")
        return None
    if value is None and required:
        errors[name] = _("This field is required.")
    return value


def create_pair(
    session: Session, actor: User, mentor_id: int, mentee_id: int, start: object, end: object, goals: str = ""
) -> Mentorship:
    scope.require_admin(actor)
    errors: dict[str, str] = {}
    mentee = records.get_teacher(session, actor, mentee_id)
    mentor = (
        records.get_teacher(session, actor, mentor_id)
        if actor.role == Role.school_admin
        else session.get(User, mentor_id)
    )
    if mentor is None or mentor.role != Role.teacher:
        errors["mentor"] = _("Choose a person from the list.")
    elif mentor.id == mentee.id:
        errors["mentor"] = _("A teacher cannot mentor themself.")
    first = _date(start, "start", errors)
    until = _date(end, "end", errors)
    if first and until and until < first:
        errors["end"] = _("The end date cannot be before the start date.")
    goals = (goals or "").strip()
    if len(goals) > MAX_GOALS:
        errors["goals"] = _("At most 1,000 characters.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert mentor is not None and first is not None and until is not None
    pair = Mentorship(
        mentor_id=mentor.id, mentee_id=mentee.id, school_id=mentee.school_id, start=first, end=until, goals=goals,
        created_by=actor.id, created_at=clock.now(),
    )  # fmt: skip
    session.add(pair)
    session.flush()
    audit.record(
        session, "organisation.mentoring_create", actor_id=actor.id, subject_type="mentorship", subject_id=pair.id,
        school_id=pair.school_id, on_behalf_of_id=mentee.id,
        after={"mentor_id": mentor.id, "mentee_id": mentee.id, "start": first.isoformat(), "end": until.isoformat()},
    )  # fmt: skip
    return pair


def log_meeting(
    session: Session, actor: User, pair_id: int, day: object, minutes: object, notes: str = ""
) -> MentoringMeeting:
    pair = get_pair(session, actor, pair_id)
    if not (actor.id == pair.mentor_id or _is_admin_of(actor, pair)):
        raise Forbidden(_("The mentor or the school's admins keep the meeting log."))
    if pair.signed_off_at is not None:
        raise Conflict(_("This pair has been signed off; its log is closed."))
    errors: dict[str, str] = {}
    when = _date(day, "day", errors)
    if when is not None and not pair.start <= when <= pair.end:
        errors["day"] = _("The meeting must lie within the pair's period.")
    text = str(minutes or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
        errors["minutes"] = _("Enter the minutes as a whole number from 1 to 600.")
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = _("At most 1,000 characters.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert when is not None
    meeting = MentoringMeeting(
        mentorship_id=pair.id, day=when, minutes=int(text), notes=notes, created_by=actor.id, created_at=clock.now()
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session, "organisation.mentoring_meeting", actor_id=actor.id, subject_type="mentorship", subject_id=pair.id,
        school_id=pair.school_id, after={"day": when.isoformat(), "minutes": int(text)},
    )  # fmt: skip
    return meeting


def hours_for(minutes: int, policy: Policy) -> Decimal:
    """The log's minutes as hours, rounded down to one decimal, at most the policy's cap."""
    hours = (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return min(hours, policy.organisation.mentoring_max_hours)


def sign_off(session: Session, actor: User, pair_id: int, note: str, policy: Policy) -> Mentorship:
    detail = view(session, actor, pair_id)
    pair = detail.pair
    if actor.id == pair.mentee_id or not (actor.id == pair.mentor_id or _is_admin_of(actor, pair)):
        raise Forbidden(_("The mentor or the school's admins sign the pair off; a mentee cannot."))
    if pair.signed_off_at is not None:
        raise Conflict(_("This pair has already been signed off."))
    hours = hours_for(detail.minutes, policy)
    if hours <= 0:
        raise InvalidInput(_("Log the meetings before signing off: there are no hours to credit yet."))
    note = (note or "").strip()[:500]
    pair.signed_off_at, pair.sign_off_note = clock.now(), note
    for user_id in (pair.mentor_id, pair.mentee_id):
        credits.record_mentoring(
            session, user_id=user_id, hours=hours,
            category=policy.organisation.mentoring_category, level=policy.organisation.mentoring_level,
            mentoring_ref=f"mentoring:{pair.id}", day=max(m.day for m in detail.meetings),
        )  # fmt: skip
    session.flush()
    audit.record(
        session, "organisation.mentoring_sign_off", actor_id=actor.id, subject_type="mentorship", subject_id=pair.id,
        school_id=pair.school_id, on_behalf_of_id=pair.mentee_id,
        after={"hours": str(hours), "minutes": detail.minutes, "note": note},
    )  # fmt: skip
    return pair


def _unmentored_trainee(day: date) -> list[ColumnElement[bool]]:
    """The rule (每名见习班主任配备带教导师): an active trainee 班主任 with no pair covering `day`."""
    covered = select(Mentorship.mentee_id).where(Mentorship.start <= day, Mentorship.end >= day)
    return [
        User.role == Role.teacher,
        User.is_active.is_(True),
        TeacherProfile.status == "trainee",
        User.id.not_in(covered),
    ]


def trainees_without_mentor(session: Session, actor: User, day: date) -> list[User]:
    """Trainee homeroom teachers in the actor's scope with no pair covering `day`."""
    return list(
        session.scalars(
            select(User)
            .join(TeacherProfile, TeacherProfile.user_id == User.id)
            .where(school_scope(actor), *_unmentored_trainee(day))
            .order_by(User.school_id, User.display_name)
        )
    )


def unmentored_by_school(session: Session, day: date) -> dict[int, int]:
    """Per school, how many trainees have no mentor on `day` (every school: the caller checks who may see it)."""
    rows = session.execute(
        select(User.school_id, func.count())
        .join(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.school_id.is_not(None), *_unmentored_trainee(day))
        .group_by(User.school_id)
    )
    return {school_id: n for school_id, n in rows if school_id is not None}
