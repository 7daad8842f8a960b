"""The demo shows each piece of the homeroom organisation: a school meeting the workshop rule, one not, a joint
workshop, a class without its 班主任, a district workshop activity whose attendance became pending hours, a tier."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import demo
from backend.accounts.models import User
from backend.credits.models import LedgerEntry
from backend.demo import organisation as demo_organisation
from backend.evidence import title_review
from backend.media.local import LocalStorage
from backend.organisation import classes, scope, workshops
from backend.organisation.models import (
    Appointment,
    IndicatorSet,
    Mentorship,
    TierChange,
    WorkshopActivity,
    WorkshopEvaluation,
    WorkshopOutput,
)
from backend.people.models import DeclinedAppointment, School
from backend.policies.service import load_policy


def test_the_demo_organisation_shows_each_rule_met_and_not_and_loads_once(
    session: Session, storage: LocalStorage
) -> None:
    demo.load_accounts(session)
    demo.load_records(session, storage)
    demo_organisation.load_organisation(session, storage)
    policy = load_policy(session)
    district = session.scalars(select(User).where(User.username == "district_admin")).one()
    year = scope.school_year_of(scope.today(), policy)
    rules = {r.school.code: r for r in workshops.workshop_rule(session, district, year, policy)}
    assert (rules["SJ-SY"].classes, rules["SJ-SY"].members, rules["SJ-SY"].status) == (16, 9, "met")
    assert (rules["SJ-YX"].classes, rules["SJ-YX"].members, rules["SJ-YX"].status) == (15, 7, "not_met")
    assert (rules["SJ-EZ"].status, rules["SJ-EZ"].workshop_level) == ("met", "joint")
    assert (rules["SJ-SJ"].status, rules["SJ-SJ"].workshop_level) == ("met", "joint")
    yx = session.scalars(select(School).where(School.code == "SJ-YX")).one()
    assert len(classes.class_compliance(session, yx.id, year, scope.today()).without) == 1
    activity = session.scalars(select(WorkshopActivity).where(WorkshopActivity.kind == "session")).one()
    hours = session.scalars(
        select(LedgerEntry).where(LedgerEntry.source_ref.startswith(f"training:{activity.session_id}:"))
    ).all()
    assert len(hours) == 2 and {e.status for e in hours} == {"pending"}
    assert session.scalar(select(WorkshopActivity.partner).where(WorkshopActivity.kind == "exchange"))
    assert session.scalar(select(func.count()).select_from(TierChange)) == 1
    assert session.scalar(select(func.count()).select_from(Mentorship)) == 1
    # Issue 16's second part: an accepted and a pending output (their files in storage), a published indicator set
    # with the host's self-assessment, and a declined appointment shown in this year's title review.
    made = {o.status: o for o in session.scalars(select(WorkshopOutput))}
    assert set(made) == {"accepted", "pending"} and all(storage.exists(o.media_key) for o in made.values())
    [indicator_set] = session.scalars(select(IndicatorSet)).all()
    evaluation_row = session.scalars(select(WorkshopEvaluation)).one()
    assert indicator_set.status == "published" and evaluation_row.self_submitted_at is not None
    refused = session.scalars(select(DeclinedAppointment)).one()
    review = title_review.teacher_review(session, district, refused.user_id, scope.today())
    assert review.review.deferral == refused.reason and not review.review.waiver

    appointments = session.scalar(select(func.count()).select_from(Appointment))
    demo_organisation.load_organisation(session)
    assert session.scalar(select(func.count()).select_from(Appointment)) == appointments


def test_the_demo_has_a_reserve_pool_with_a_review_and_an_assignment_with_one_teacher_late(
    session: Session, storage: LocalStorage
) -> None:
    from backend.organisation import assignments, pool
    from backend.organisation.models import LearningAssignment, PoolMember
    from tests.factories import make_course

    demo.load_accounts(session)
    demo.load_records(session, storage)
    demo_organisation.load_organisation(session)
    for code in ("HZ-01", "HZ-02"):  # the demo's courses (imported from courses/ by `portal demo load`)
        make_course(session, title=code).code = code
    demo_organisation.load_pool_and_assignments(session)
    district = session.scalars(select(User).where(User.username == "district_admin")).one()
    members = pool.list_members(session, district, load_policy(session))
    assert len(members) == 2
    assert [(r.member.status, len(r.reviews)) for r in members].count(("ready", 1)) == 1
    assert all(r.assigned and r.assigned[0].course.code == "HZ-01" for r in members)  # the pool's rolling training
    views = {v.course.code: v for v in assignments.list_views(session, district)}
    assert [r.teacher.username for r in views["HZ-02"].late] == ["teacher_zhou"]
    assert views["HZ-01"].late == []

    demo_organisation.load_pool_and_assignments(session)
    assert session.scalar(select(func.count()).select_from(PoolMember)) == 2
    assert session.scalar(select(func.count()).select_from(LearningAssignment)) == 2
