"""Tiers (四阶培养体系, the plan's 二(二)1: 地平线—指南针—攀登者—满天星): a teacher's current tier and its history.

The district sets a teacher's tier (`set_tier`, district admins only), from a day on, with a reason; each change is a
history row here, and the current tier is written to the teacher record through people's own `update_profile`, so
every reader of `TeacherProfile.tier` (assigned learning, the integration API) sees it. A policy suggests a tier:
trainee homeroom teachers → `OrganisationPolicy.tier_suggested_for_trainees` (地平线, for new and qualifying-stage
teachers).
The history is shown on the teacher record (a section registered with `backend.people.records.record_sections`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Forbidden, InvalidInput
from backend.kit.i18n import _
from backend.organisation import assignments, scope
from backend.organisation.models import TierChange
from backend.people import records
from backend.policies.service import Policy, load_policy
from backend.policies.taxonomy import TIER_CODES

MAX_REASON = 200


@dataclass(frozen=True)
class TierHistory:
    teacher: User
    current: str | None
    suggested: str | None
    changes: list[tuple[TierChange, str]]  # with the name of who set it, latest first
    may_set: bool


def suggested_tier(status: str | None, policy: Policy) -> str | None:
    """The plan's 地平线 is for new and qualifying-stage homeroom teachers: suggested for trainees."""
    return policy.organisation.tier_suggested_for_trainees or None if status == "trainee" else None


def history(session: Session, actor: User, teacher_id: int) -> TierHistory:
    record = records.record_of(session, actor, teacher_id)
    rows = session.execute(
        select(TierChange, User.display_name)
        .join(User, User.id == TierChange.set_by)
        .where(TierChange.user_id == teacher_id)
        .order_by(TierChange.effective.desc(), TierChange.id.desc())
    ).all()
    suggested = suggested_tier(record.profile.status, load_policy(session))
    return TierHistory(
        record.user,
        record.profile.tier,
        suggested if suggested != record.profile.tier else None,
        [(change, name) for change, name in rows],
        actor.role == Role.district_admin,
    )


def set_tier(
    session: Session, actor: User, teacher_id: int, tier: str, effective: object = None, reason: str = ""
) -> TierChange:
    if actor.role != Role.district_admin:
        raise Forbidden(_("Only the district sets a teacher's tier."))
    record = records.record_of(session, actor, teacher_id)
    errors: dict[str, str] = {}
    if tier not in TIER_CODES:
        errors["tier"] = _("Choose a tier from the list.")
    day: date | None = None
    try:
        day = records.parse_date(effective) if effective not in (None, "") else scope.today()
    except ValueError:
        errors["effective"] = _("Enter a date like 2026-09-01.")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        errors["reason"] = _("At most 200 characters.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert day is not None
    profile = record.profile
    before = profile.tier
    records.update_profile(
        session,
        actor,
        teacher_id,
        {
            "staff_no": profile.staff_no or "",
            "teaching_start": profile.teaching_start.isoformat() if profile.teaching_start else "",
            "status": profile.status or "reserve",
            "tier": tier,
        },
    )
    change = TierChange(
        user_id=teacher_id, tier=tier, effective=day, reason=reason, set_by=actor.id, created_at=clock.now()
    )
    session.add(change)
    session.flush()
    audit.record(
        session, "organisation.tier_set", actor_id=actor.id, subject_type="teacher", subject_id=teacher_id,
        school_id=record.user.school_id, on_behalf_of_id=teacher_id,
        before={"tier": before}, after={"tier": tier, "effective": day.isoformat(), "reason": reason},
    )  # fmt: skip
    assignments.sync_person(session, teacher_id)  # the tier's assigned courses reach the teacher now
    return change


def record_section(session: Session, actor: User, teacher_id: int) -> tuple[str, dict[str, Any]]:
    """The tier history on the teacher record page."""
    return "organisation/_tier_history.html", {"tier_history": history(session, actor, teacher_id)}


records.record_sections.append(record_section)
