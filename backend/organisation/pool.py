"""The reserve pool of homeroom teachers (班主任储备池, the plan's 二(一)1: 建立班主任储备池，
将愿担责且考评合格的教师纳入，强化滚动培训并定期更新，储备期表现作为聘任依据).

- A school nominates its teachers (a school admin their own school's; a district admin any school's). The district's
  criteria are policy: the latest annual evaluation at least `OrganisationPolicy.reserve_min_evaluation` (考评合格)
  and the teacher's willingness confirmed when `OrganisationPolicy.reserve_requires_willingness` (愿担责). A teacher
  is in the pool once.
- Members take rolling training through assigned learning: "the reserve pool" is a group of
  `backend.organisation.assignments`; a nomination enrols the new member in the pool's assignments at once.
- The district reviews members (定期更新; due after `OrganisationPolicy.reserve_review_months`): keep (继续储备),
  ready for appointment (可聘任) or exit (退出), with reviewer, day and note. The member's status follows the latest
  review.
- A school appointing a 班主任 sees the candidate's pool record (`record_of`, `records_for_school`): member since,
  reviews, and the progress of their assigned courses (储备期表现作为聘任依据).
Every change is audited (`organisation.pool_*`, in the school's log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.accounts.scope import school_scope
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.organisation import assignments, scope
from backend.organisation.models import PoolMember, PoolReview
from backend.people import records
from backend.people.models import AnnualEvaluation
from backend.policies.service import Policy

OUTCOMES = ("keep", "ready", "exit")
OUTCOME_LABELS = {"keep": _("Keep in the pool"), "ready": _("Ready for appointment"), "exit": _("Leaves the pool")}
STATUS_OF_OUTCOME = {"keep": "reserve", "ready": "ready", "exit": "left"}
STATUS_LABELS = {"reserve": _("In the reserve pool"), "ready": _("Ready for appointment"), "left": _("Left the pool")}
# Annual evaluation results from best to worst (people.records.RESULTS): "at least qualified" = excellent or qualified.
RANK = {result: n for n, result in enumerate(records.RESULTS)}
MAX_REASON = 500
MAX_NOTE = 1000


@dataclass
class PoolRecord:
    member: PoolMember
    teacher: User
    reviews: list[tuple[PoolReview, str]]  # with the reviewer's name, latest first
    assigned: list[assignments.MyAssignment] = field(default_factory=list)
    review_due: bool = False


def _review_due(member: PoolMember, last: date | None, policy: Policy, today: date) -> bool:
    if member.status == "left":
        return False
    since = last or member.since
    months = (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)
    return months >= policy.organisation.reserve_review_months


def _active(session: Session, user_id: int) -> PoolMember | None:
    return session.scalar(
        select(PoolMember)
        .where(PoolMember.user_id == user_id, PoolMember.status != "left")
        .order_by(PoolMember.id.desc())
        .limit(1)
    )


def record_for(session: Session, member: PoolMember, teacher: User, policy: Policy) -> PoolRecord:
    reviews = [
        (review, name)
        for review, name in session.execute(
            select(PoolReview, User.display_name)
            .join(User, User.id == PoolReview.reviewer_id)
            .where(PoolReview.member_id == member.id)
            .order_by(PoolReview.day.desc(), PoolReview.id.desc())
        )
    ]
    last = reviews[0][0].day if reviews else None
    return PoolRecord(
        member, teacher, reviews, assignments.reaching(session, teacher.id),
        _review_due(member, last, policy, scope.today()),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Reading


def list_members(session: Session, actor: User, policy: Policy, *, include_left: bool = False) -> list[PoolRecord]:
    """The pool as the actor may see it: the district all of it, a school admin their school's teachers."""
    scope.require_admin(actor)
    stmt = (
        select(PoolMember, User)
        .join(User, User.id == PoolMember.user_id)
        .where(school_scope(actor))
        .order_by(User.school_id, User.display_name, PoolMember.id)
    )
    if not include_left:
        stmt = stmt.where(PoolMember.status != "left")
    return [record_for(session, member, teacher, policy) for member, teacher in session.execute(stmt).all()]


def record_of(session: Session, actor: User, teacher_id: int, policy: Policy) -> PoolRecord | None:
    """A teacher's current pool record (None: not in the pool); another school's teacher is not found."""
    teacher = records.get_teacher(session, actor, teacher_id)
    member = _active(session, teacher.id)
    return record_for(session, member, teacher, policy) if member else None


def records_for_school(session: Session, actor: User, school_id: int, policy: Policy) -> dict[int, PoolRecord]:
    """The pool records of a school's teachers, by teacher (the candidates shown where a 班主任 is appointed)."""
    school = scope.school_for(session, actor, school_id)
    return {
        r.teacher.id: r for r in list_members(session, actor, policy) if r.teacher.school_id == school.id
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Changes


def _audit(
    session: Session, action: str, actor: User, member: PoolMember, teacher: User, *,
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    audit.record(
        session, action, actor_id=actor.id, subject_type="pool_member", subject_id=member.id,
        school_id=teacher.school_id, on_behalf_of_id=teacher.id, before=before, after=after,
    )  # fmt: skip


def nominate(
    session: Session, actor: User, teacher_id: int, policy: Policy, *, willing: bool, reason: str = "",
    since: object = None,
) -> PoolMember:  # fmt: skip
    """A school nominates one of its teachers; the district's criteria (policy) are checked, field by field."""
    scope.require_admin(actor)
    teacher = records.get_teacher(session, actor, teacher_id)  # another school's teacher: not found
    errors: dict[str, str] = {}
    if policy.organisation.reserve_requires_willingness and not willing:
        errors["willing"] = _("Confirm that the teacher is willing to take on the work (愿担责).")
    if policy.organisation.reserve_min_evaluation in RANK:
        latest = session.scalar(
            select(AnnualEvaluation.result)
            .where(AnnualEvaluation.user_id == teacher.id)
            .order_by(AnnualEvaluation.year.desc())
            .limit(1)
        )
        if latest is None or RANK.get(latest, len(RANK)) > RANK[policy.organisation.reserve_min_evaluation]:
            errors["teacher"] = _(
                "The pool takes teachers whose latest annual evaluation meets the district's criterion (考评合格)."
            )
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        errors["reason"] = _("At most 500 characters.")
    day: date | None = None
    try:
        day = records.parse_date(since) if since not in (None, "") else scope.today()
    except ValueError:
        errors["since"] = _("Enter a date like 2026-09-01.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    if _active(session, teacher.id) is not None:
        raise Conflict(_("%(name)s is already in the reserve pool."), name=teacher.display_name)
    assert day is not None
    member = PoolMember(
        user_id=teacher.id, school_id=teacher.school_id, since=day, reason=reason, status="reserve",
        nominated_by=actor.id, created_at=clock.now(),
    )  # fmt: skip
    session.add(member)
    session.flush()
    _audit(session, "organisation.pool_nominate", actor, member, teacher,
           after={"user_id": teacher.id, "since": day.isoformat(), "reason": reason, "willing": willing})  # fmt: skip
    assignments.sync_person(session, teacher.id)  # rolling training: the pool's assigned courses, now
    return member


def get_member(session: Session, actor: User, member_id: int) -> tuple[PoolMember, User]:
    scope.require_admin(actor)
    found = session.execute(
        select(PoolMember, User).join(User, User.id == PoolMember.user_id).where(
            PoolMember.id == member_id, school_scope(actor)
        )
    ).first()
    if found is None:
        raise NotFound(_("This pool member does not exist or is not in your school."))
    return found[0], found[1]


def review(
    session: Session, actor: User, member_id: int, outcome: str, note: str = "", day: object = None
) -> PoolReview:
    """The district reviews a member: the outcome sets the member's status (退出 ends the membership that day)."""
    if actor.role != Role.district_admin:
        raise Forbidden(_("Only the district reviews the reserve pool."))
    member, teacher = get_member(session, actor, member_id)
    if member.status == "left":
        raise Conflict(_("This teacher has left the pool; nominate them again to review them."))
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = _("Choose an outcome from the list.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("At most 1,000 characters.")
    when: date | None = None
    try:
        when = records.parse_date(day) if day not in (None, "") else scope.today()
    except ValueError:
        errors["day"] = _("Enter a date like 2026-09-01.")
    if when is not None and "day" not in errors and when < member.since:
        errors["day"] = _("A review cannot be before the teacher joined the pool.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert when is not None
    before = {"status": member.status}
    entry = PoolReview(
        member_id=member.id, day=when, outcome=outcome, note=note, reviewer_id=actor.id, created_at=clock.now()
    )
    session.add(entry)
    member.status = STATUS_OF_OUTCOME[outcome]
    member.left_on = when if outcome == "exit" else None
    session.flush()
    _audit(session, "organisation.pool_review", actor, member, teacher, before=before,
           after={"status": member.status, "outcome": outcome, "day": when.isoformat(), "note": note})  # fmt: skip
    return entry


def members_by_school(session: Session, day: date) -> dict[int, int]:
    """Per nominating school, the teachers in the pool on `day` (joined by then, not yet left; every school: the
    caller checks who may see it)."""
    rows = session.execute(
        select(PoolMember.school_id, func.count())
        .where(PoolMember.since <= day, or_(PoolMember.left_on.is_(None), PoolMember.left_on > day))
        .group_by(PoolMember.school_id)
    )
    return {school_id: n for school_id, n in rows if school_id is not None}
