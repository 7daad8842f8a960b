"""The homeroom organisation's figures per school, as supervision reads them (the dashboards, issue 17): classes
and how many have no 班主任 on the day, the workshop rule, trainee 班主任 without a mentor. Each figure comes from
the rule that owns it here (class compliance, the workshop rule, mentoring); the caller has checked who may see it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from backend.organisation import classes, mentoring, pool, scope, workshops
from backend.people.models import School
from backend.policies.service import Policy


@dataclass(frozen=True)
class SchoolOrganisation:
    school_year: int
    classes: int
    classes_without_homeroom: int  # on the day: no 班主任 appointed
    workshop_rule: str  # met | not_met | not_required
    workshop_members: int
    trainees_without_mentor: int
    pool_members: int  # nominated to the reserve pool (储备池) by the school, in it on the day

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def by_school(session: Session, schools: list[School], day: date, policy: Policy) -> dict[int, SchoolOrganisation]:
    """Every school's figures on `day`, in the school year that day belongs to."""
    year = scope.school_year_of(day, policy)
    rules = {rule.school.id: rule for rule in workshops.rule_for_schools(session, schools, year, policy, day)}
    unmentored = mentoring.unmentored_by_school(session, day)
    in_pool = pool.members_by_school(session, day)
    compliance_of = classes.compliance_by_school(session, [school.id for school in schools], year, day)
    out = {}
    for school in schools:
        compliance = compliance_of[school.id]
        rule = rules[school.id]
        out[school.id] = SchoolOrganisation(
            year, compliance.classes, len(compliance.without), rule.status, rule.members, unmentored.get(school.id, 0),
            in_pool.get(school.id, 0),
        )
    return out
