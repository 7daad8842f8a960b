"""Declined appointment (the plan's 二(一)1): 无正当理由拒绝担任班主任者，暂缓当年度评优评先、职称及职务晋升.

A school admin (or the district) records that a teacher of their school declined appointment as 班主任 without good
reason, with the reason, the actor and the year. The year is a calendar year, the year annual evaluations and the
title review are named by. While the record stands (not withdrawn), that year:
- the title review shows it as a blocking note with its reason, and grants neither the paper waiver nor the honour
  certificate (`backend.people.rules.review(..., deferral=…)`);
- no "excellent" annual evaluation may be recorded for the teacher (评优评先, `records.save_evaluation`).
The next year is not touched.

Who: the teacher's own school admin or a district admin (school scope: another school's teacher is not found); the
teacher never records it for themself. A record is withdrawn with a reason, never deleted. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.people import records
from backend.people.models import DeclinedAppointment

MAX_REASON = 500
FIRST_YEAR = 2000


def _require_admin(actor: User) -> None:
    if actor.role not in (Role.school_admin, Role.district_admin):
        raise Forbidden(_("Only the school's or the district's administrators record a declined appointment."))


def _reason(raw: object, field: str, errors: dict[str, str]) -> str:
    text = str(raw or "").strip()
    if not text or len(text) > MAX_REASON:
        errors[field] = _("Give the reason in 1 to 500 characters.")
    return text


def record(session: Session, actor: User, user_id: int, year: object, reason: object) -> DeclinedAppointment:
    """Records that the teacher declined appointment without good reason in `year`; one standing record per year."""
    _require_admin(actor)
    teacher = records.get_teacher(session, actor, user_id)  # school scope: NotFound for another school's teacher
    if teacher.id == actor.id:
        raise Forbidden(_("Nobody records a declined appointment for themself."))
    errors: dict[str, str] = {}
    text = str(year or "").strip()
    this_year = clock.now().astimezone(clock.SHANGHAI).year
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= this_year + 1:
        errors["year"] = _("Enter a year between 2000 and next year.")
    why = _reason(reason, "reason", errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    if standing(session, [teacher.id], int(text)):
        raise Conflict(_("A declined appointment is already recorded for this teacher in %(year)s."), year=int(text))
    row = DeclinedAppointment(
        user_id=teacher.id, year=int(text), reason=why, school_id=teacher.school_id, recorded_by=actor.id,
        recorded_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, "people.declined_record", actor_id=actor.id, subject_type="declined_appointment", subject_id=row.id,
        school_id=teacher.school_id, on_behalf_of_id=teacher.id, after={"year": row.year, "reason": why},
    )  # fmt: skip
    return row


def withdraw(session: Session, actor: User, record_id: int, reason: object) -> DeclinedAppointment:
    """Withdraws a standing record (e.g. the reason turned out to be good), with the reason; the record stays."""
    _require_admin(actor)
    row = session.get(DeclinedAppointment, record_id)
    if row is None:
        raise NotFound(_("This record does not exist."))
    try:
        teacher = records.get_teacher(session, actor, row.user_id)
    except NotFound:
        raise NotFound(_("This record does not exist.")) from None
    if row.withdrawn_at is not None:
        raise Conflict(_("This record has already been withdrawn."))
    errors: dict[str, str] = {}
    why = _reason(reason, "withdraw_reason", errors)
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    row.withdrawn_at, row.withdrawn_by, row.withdraw_reason = clock.now(), actor.id, why
    session.flush()
    audit.record(
        session, "people.declined_withdraw", actor_id=actor.id, subject_type="declined_appointment",
        subject_id=row.id, school_id=teacher.school_id, on_behalf_of_id=teacher.id,
        before={"year": row.year, "reason": row.reason}, after={"withdrawn": True, "reason": why},
    )  # fmt: skip
    return row


def standing(session: Session, user_ids: list[int], year: int) -> dict[int, str]:
    """Teachers with a standing (not withdrawn) record for `year`, with its reason: what the year's rules read."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(DeclinedAppointment.user_id, DeclinedAppointment.reason)
        .where(
            DeclinedAppointment.user_id.in_(user_ids),
            DeclinedAppointment.year == year,
            DeclinedAppointment.withdrawn_at.is_(None),
        )
        .order_by(DeclinedAppointment.id)
    )
    return {user_id: reason for user_id, reason in rows}


@dataclass(frozen=True)
class DeclinedRow:
    row: DeclinedAppointment
    recorded_by: str
    withdrawn_by: str | None


def of_teacher(session: Session, actor: User, user_id: int) -> list[DeclinedRow]:
    """A teacher's records, newest year first, with the actors' names (scope as for the teacher's record)."""
    _require_admin(actor)
    teacher = records.get_teacher(session, actor, user_id)
    rows = list(
        session.scalars(
            select(DeclinedAppointment)
            .where(DeclinedAppointment.user_id == teacher.id)
            .order_by(DeclinedAppointment.year.desc(), DeclinedAppointment.id.desc())
        )
    )
    ids = {r.recorded_by for r in rows} | {r.withdrawn_by for r in rows if r.withdrawn_by}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [DeclinedRow(r, names.get(r.recorded_by, ""), names.get(r.withdrawn_by or 0)) for r in rows]
