"""Monthly compliance: each school holds at least one tiered, themed school-based session a month.

The test clock stands at 2 November 2026, 10:00 in Shanghai: October is over, November is under way.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit import pagination
from backend.people.models import School
from backend.policies.service import load_policy, set_policy
from backend.training import compliance, service
from backend.training.models import TrainingSession
from tests.api.helpers import login
from tests.conftest import ManualClock
from tests.factories import make_user
from tests.training.helpers import make_session


def _held(session: Session, admin: User, teacher: User, **fields: str | None) -> TrainingSession:
    ts = make_session(session, admin, **fields)
    service.mark_attendance(session, admin, ts, user_ids=[teacher.id])
    return ts


def _months(session: Session, admin: User, year: int = 2026) -> list[compliance.Month]:
    school = session.get(School, admin.school_id)
    assert school is not None
    [row] = compliance.compliance(session, [school], year, load_policy(session))
    return row.months


def test_a_session_on_the_last_day_of_a_month_counts_for_that_month_not_the_next(
    session: Session, clock: ManualClock
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    last_of_september = _held(session, admin, teacher, day="2026-09-30")
    first_of_october = _held(session, admin, teacher, day="2026-10-01", title="十月研修")
    months = _months(session, admin)
    assert months[8].state == "met" and [s.id for s in months[8].satisfied_by] == [last_of_september.id]
    assert months[9].state == "met" and [s.id for s in months[9].satisfied_by] == [first_of_october.id]
    assert months[7].state == "missed"  # August: nothing


def test_local_dates_decide_the_month(session: Session, clock: ManualClock) -> None:
    """31 August, 23:00 in Shanghai is still August there, though it is 15:00 UTC on the same day."""
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    _held(session, admin, teacher, day="2026-08-31", start_time="19:00", end_time="23:00")
    months = _months(session, admin)
    assert (months[7].state, months[8].state) == ("met", "missed")


def test_untiered_unthemed_and_workshop_sessions_do_not_count(session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    _held(session, admin, teacher, day="2026-10-08", tier=None)
    _held(session, admin, teacher, day="2026-10-09", theme="   ")
    _held(session, admin, teacher, day="2026-10-10", level="workshop")
    october = _months(session, admin)[9]
    assert october.state == "missed" and october.sessions == []


def test_a_session_nobody_attended_was_not_held(session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    make_session(session, admin, day="2026-10-15")
    october = _months(session, admin)[9]
    assert october.state == "missed" and len(october.sessions) == 1 and october.satisfied_by == []


def test_the_current_month_is_planned_open_or_met(session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    assert _months(session, admin)[10].state == "open"  # November, nothing yet
    make_session(session, admin, day="2026-11-20")
    assert _months(session, admin)[10].state == "planned"
    _held(session, admin, teacher, day="2026-11-02")  # today's session, attended
    assert _months(session, admin)[10].state == "met"
    assert _months(session, admin)[11].state == "upcoming"  # December has not started


def test_the_monthly_number_is_policy(session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    _held(session, admin, teacher, day="2026-10-08")
    set_policy(session, "monthly_school_sessions", 2, actor_id=None)
    assert _months(session, admin)[9].state == "missed"
    _held(session, admin, teacher, day="2026-10-22")
    assert _months(session, admin)[9].state == "met"


def test_school_admin_sees_their_school_district_admin_sees_all(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    admin_a = make_user(session, Role.school_admin, school_code="S-A")
    admin_b = make_user(session, Role.school_admin, school_code="S-B")
    district = make_user(session, Role.district_admin, school_code=None)
    teacher_a = make_user(session, school_code="S-A")
    _held(session, admin_a, teacher_a, day="2026-10-12", title="十月主题研修")

    login(client, admin_a.username)
    mine = client.get("/training/compliance?year=2026")
    assert mine.status_code == 200 and "十月主题研修" in mine.text and "测试学校S-B" not in mine.text
    assert client.get(f"/training/compliance?year=2026&school={admin_b.school_id}").status_code == 404

    login(client, district.username)
    everyone = client.get("/training/compliance?year=2026")
    assert "测试学校S-A" in everyone.text and "测试学校S-B" in everyone.text
    one = client.get(f"/training/compliance?year=2026&school={admin_a.school_id}")
    assert "十月主题研修" in one.text


def test_teachers_and_trainers_do_not_see_compliance(client: TestClient, session: Session) -> None:
    for role in (Role.teacher, Role.trainer):
        user = make_user(session, role, school_code="S-A")
        login(client, user.username)
        assert client.get("/training/compliance").status_code == 403


def test_the_district_grid_is_paged_by_school(
    client: TestClient, session: Session, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "PAGE_SIZE", 1)
    make_user(session, Role.school_admin, school_code="S-A")
    make_user(session, Role.school_admin, school_code="S-B")
    district = make_user(session, Role.district_admin, school_code=None)
    login(client, district.username)
    first = client.get("/training/compliance?year=2026").text
    second = client.get("/training/compliance?year=2026&page=2").text
    assert "测试学校S-A" in first and "测试学校S-B" not in first
    assert 'href="/training/compliance?year=2026&amp;page=2"' in first
    assert "测试学校S-B" in second and "测试学校S-A" not in second
