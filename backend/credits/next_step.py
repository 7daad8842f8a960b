"""The teacher's next step, made plain on 我的学习 (issue 17): what is still missing for the induction or for this
year's hours, and by when. Read from the programmes (`credits.programs`), which own the rules; this only picks the
most urgent open one and names its deadline.

- A trainee homeroom teacher (任职状态 见习, or a current trainee period) whose induction is not complete: the
  missing certified hours and topics, by the end of the trainee year (the anniversary of its start; DOMAIN.md,
  Induction: 1 year as trainee).
- Otherwise, a homeroom teacher below this year's target: the missing certified hours, by 31 December.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.credits import programs
from backend.kit.i18n import _
from backend.people.models import ServicePeriod, TeacherProfile
from backend.people.rules import anniversary
from backend.policies.service import Policy


@dataclass(frozen=True)
class NextStep:
    text: str  # gettext msgid
    params: dict[str, str]
    deadline: date | None
    href: str
    label: str  # gettext msgid of the link


def _trainee_since(session: Session, user_id: int, today: date) -> date | None | bool:
    """The start of the current trainee period; True when the record says trainee without a period; else None."""
    start = session.scalar(
        select(ServicePeriod.start)
        .where(
            ServicePeriod.user_id == user_id,
            ServicePeriod.kind == "trainee",
            ServicePeriod.start <= today,
            or_(ServicePeriod.end.is_(None), ServicePeriod.end >= today),
        )
        .order_by(ServicePeriod.start)
        .limit(1)
    )
    if start is not None:
        return start
    profile = session.get(TeacherProfile, user_id)
    return True if profile is not None and profile.status == "trainee" else None


def next_step(session: Session, user_id: int, policy: Policy, today: date) -> NextStep | None:
    trainee = _trainee_since(session, user_id, today)
    if trainee is not None:
        induction = programs.induction_program(session, user_id, policy, today)
        hours = next(c for c in induction.checks if c.code == "hours")
        topics = next(c for c in induction.checks if c.code == "topics")
        if not (hours.met and topics.met):
            deadline = anniversary(trainee, 1) if isinstance(trainee, date) else None
            return NextStep(
                _("Induction: %(hours)s more certified hours and %(topics)s more topics to go."),
                {"hours": hours.short or "0.0", "topics": str(len(topics.missing))},
                deadline,
                "/courses?tier=horizon",
                _("Browse Horizon induction courses"),
            )
    annual = programs.annual_program(session, user_id, policy, today.year)
    check = annual.checks[0]
    if annual.applies and not check.met:
        return NextStep(
            _("This year: %(hours)s more certified hours to reach %(target)s."),
            {"hours": check.short, "target": check.need},
            date(today.year, 12, 31),
            "/courses",
            _("Course library"),
        )
    return None
