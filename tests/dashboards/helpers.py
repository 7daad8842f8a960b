"""A small district for the dashboard tests: two schools, trainees and appointed teachers, entries in every status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits.ledger import induction_topics_of_course, tag
from backend.credits.models import LedgerEntry
from backend.kit import clock
from backend.people.models import AnnualEvaluation, ServicePeriod, TeacherProfile
from backend.policies.taxonomy import TOPICS
from tests.factories import make_course, make_user


def entry(
    session: Session, user: User, hours: str, status: str, *, category: str = "practice", level: str = "school",
    course_id: int | None = None, year: int | None = None, created: datetime | None = None,
) -> LedgerEntry:  # fmt: skip
    now = clock.now()
    written = created or now - timedelta(days=3)
    trained = written.astimezone(clock.SHANGHAI).date()
    if year is not None and year != trained.year:
        trained = date(year, 6, 30)
    row = LedgerEntry(
        user_id=user.id, hours=Decimal(hours), category=category, level=level, source="external",
        source_ref=f"test:{uuid.uuid4().hex}", course_id=course_id, year=trained.year, trained_on=trained,
        status=status, created_at=written,
    )  # fmt: skip
    if course_id is not None:  # a Horizon course's topics are the entry's induction topics, as on completion
        tag(session, row, induction_topics_of_course(session, course_id))  # written with it (its chain hash)
    session.add(row)
    session.flush()
    return row


def teacher(
    session: Session, school: str, name: str, *, status: str = "appointed", tier: str = "horizon",
    periods: tuple[tuple[str, date, date | None], ...] = (), teaching: date | None = None,
) -> User:  # fmt: skip
    user = make_user(session, Role.teacher, school_code=school, display_name=name)
    session.add(TeacherProfile(user_id=user.id, status=status, tier=tier, teaching_start=teaching))
    for kind, start, end in periods:
        session.add(ServicePeriod(user_id=user.id, kind=kind, school_id=user.school_id, start=start, end=end))
    session.flush()
    return user


@dataclass
class District:
    admin: User
    school_admin: User
    trainee_done: User
    trainee_behind: User
    veteran: User
    idle: User
    other: User


def small_district(session: Session) -> District:
    """School D-A: a trainee who finished the induction (32 certified hours of Horizon courses on all eight topics),
    a trainee behind (4 certified, 4 pending), a veteran of 25 years as homeroom teacher rated excellent with 80
    certified hours, an idle teacher with nothing; school D-B: one teacher with 20 certified hours."""
    today = clock.now().date()
    year = today.year
    admin = make_user(session, Role.district_admin, school_code=None)
    school_admin = make_user(session, Role.school_admin, school_code="D-A")
    all_topics = make_course(session, topics=tuple(t.code for t in TOPICS), hours="32.0", with_quiz=False)
    one_topic = make_course(session, topics=("norms",), hours="4.0", with_quiz=False)
    trainee_period = (("trainee", date(year - 1, 9, 1), None),)
    done = teacher(session, "D-A", "甲见习", status="trainee", periods=trainee_period)
    entry(session, done, "32", "certified", course_id=all_topics.id, category="knowledge_skills", level="district")
    behind = teacher(session, "D-A", "乙见习", status="trainee", periods=trainee_period)
    entry(session, behind, "4", "certified", course_id=one_topic.id, category="knowledge_skills", level="district")
    entry(session, behind, "4", "pending", course_id=all_topics.id, category="knowledge_skills", level="district")
    veteran = teacher(
        session, "D-A", "丙资深", tier="climber", teaching=date(year - 32, 9, 1),
        periods=(("homeroom", date(year - 26, 9, 1), None),),
    )  # fmt: skip
    session.add(AnnualEvaluation(user_id=veteran.id, year=year - 1, result="excellent"))
    entry(session, veteran, "40", "certified", category="ethics", level="city")
    entry(session, veteran, "40", "certified", category="practice", level="school")
    entry(session, veteran, "6", "verified", category="practice", level="workshop")
    entry(session, veteran, "12", "rejected")
    entry(session, veteran, "30", "certified", year=year - 1, category="ethics", level="city")
    idle = teacher(session, "D-A", "丁空白", tier="compass")
    other = teacher(session, "D-B", "戊外校", tier="compass")
    entry(session, other, "20", "certified", category="self_study", level="district")
    session.flush()
    return District(admin, school_admin, done, behind, veteran, idle, other)
