"""Programs measured against the ledger: the 32-hour induction (DOMAIN.md, Induction) and annual hours."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.catalogue.models import Course
from backend.catalogue.taxonomy import TOPICS
from backend.credits import service as credits
from backend.policies.service import Policy


@dataclass(frozen=True)
class InductionProgress:
    hours: Decimal
    required: Decimal
    covered_topics: list[str]
    missing_topics: list[str]

    @property
    def hours_met(self) -> bool:
        return self.hours >= self.required

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.hours / self.required)) if self.required else 100

    @property
    def complete(self) -> bool:
        return self.hours_met and not self.missing_topics


def induction_progress(session: Session, user_id: int, policy: Policy) -> InductionProgress:
    """Hours from completed Horizon-tier courses, and which of the eight topics they covered."""
    credited = credits.credited_course_ids(session, user_id)
    courses = (
        session.scalars(
            select(Course).where(Course.id.in_(credited), Course.tier == "horizon").options(selectinload(Course.topics))
        ).all()
        if credited
        else []
    )
    hours = sum((credited[c.id] for c in courses), Decimal("0"))
    covered = {code for c in courses for code in c.topic_codes}
    return InductionProgress(
        hours=hours,
        required=policy.induction_hours,
        covered_topics=[t.code for t in TOPICS if t.code in covered],
        missing_topics=[t.code for t in TOPICS if t.code not in covered],
    )


def hours_by_tier(session: Session, user_id: int, year: int) -> dict[str, Decimal]:
    entries = [e for e in credits.entries_for(session, user_id, year) if e.status in credits.COUNTING_STATUSES]
    course_ids = {e.course_id for e in entries if e.course_id is not None}
    tiers = dict(session.execute(select(Course.id, Course.tier).where(Course.id.in_(course_ids))).tuples().all())
    result: dict[str, Decimal] = {}
    for e in entries:
        tier = tiers.get(e.course_id, "other") if e.course_id is not None else "other"
        result[tier] = result.get(tier, Decimal("0")) + e.hours
    return result
