"""Workshops and the plan's workshop rule (≥ 15 classes → a school workshop of ≥ 8 members; fewer classes may meet it
through a joint workshop), at its edges; activities are offline sessions whose attendance feeds the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits.models import LedgerEntry
from backend.kit.errors import Forbidden, InvalidInput, NotFound
from backend.organisation import workshops
from backend.organisation.models import WorkshopActivity
from backend.policies.service import load_policy, set_policy
from backend.training import service as training
from tests.api.helpers import login
from tests.factories import make_user
from tests.organisation.helpers import district_admin, make_classes, school_admin
from tests.people.helpers import make_teacher

DAY = date(2026, 12, 1)


def _workshop_with_members(
    session: Session, admin: User, members: int, *, level: str = "school", end: str | None = None, **kw: object
) -> workshops.Workshop:
    workshop = workshops.create_workshop(
        session, admin, name=f"{level}工作室{members}", level=level, stage="primary", **kw
    )  # type: ignore[arg-type]
    for n in range(members):
        teacher = make_teacher(session, "S-A", name=f"成员{n}")
        workshops.add_member(session, admin, workshop.id, teacher.id, "member", "2026-09-01", end)
    return workshop


def _rule(session: Session, actor: User, school_id: int | None, as_of: date = DAY) -> workshops.WorkshopRule:
    [result] = workshops.workshop_rule(session, actor, 2026, load_policy(session), as_of, school_id=school_id)
    return result


@pytest.mark.parametrize(
    ("classes", "members", "status"), [(15, 8, "met"), (15, 7, "not_met"), (14, 0, "not_required"), (14, 8, "met")]
)
def test_the_workshop_rule_at_its_edges(session: Session, classes: int, members: int, status: str) -> None:
    admin = school_admin(session)
    make_classes(session, admin, classes, with_homeroom=False)
    if members:
        _workshop_with_members(session, admin, members)
    result = _rule(session, admin, None)
    assert (result.classes, result.required, result.members, result.status) == (classes, classes >= 15, members, status)
    assert result.day == DAY


def test_a_term_ending_mid_year_stops_counting_the_day_after(session: Session) -> None:
    admin = school_admin(session)
    make_classes(session, admin, 15, with_homeroom=False)
    workshop = _workshop_with_members(session, admin, 7)
    leaving = make_teacher(session, "S-A", name="调离老师")
    workshops.add_member(session, admin, workshop.id, leaving.id, "member", "2026-09-01", "2027-01-31")
    assert _rule(session, admin, None, date(2027, 1, 31)).status == "met"
    after = _rule(session, admin, None, date(2027, 2, 1))
    assert (after.status, after.members) == ("not_met", 7)
    # A day outside the school year is kept inside it: the year's last day.
    assert _rule(session, admin, None, date(2028, 1, 1)).day == date(2027, 8, 31)


def test_a_small_school_meets_the_rule_through_a_joint_workshop_but_a_large_one_does_not(session: Session) -> None:
    district = district_admin(session)
    small, large = school_admin(session, "S-A"), school_admin(session, "S-B")
    make_classes(session, small, 6, with_homeroom=False)
    make_classes(session, large, 15, with_homeroom=False)
    workshop = workshops.create_workshop(
        session, district, name="东片联合工作室", level="joint", stage="primary", school_id=small.school_id,
        member_school_ids=[small.school_id, large.school_id],
    )  # fmt: skip
    for n in range(8):
        teacher = make_teacher(session, "S-A" if n % 2 else "S-B", name=f"联合{n}")
        workshops.add_member(session, district, workshop.id, teacher.id, "member", "2026-09-01")
    small_rule = _rule(session, district, small.school_id)
    assert (small_rule.status, small_rule.workshop, small_rule.workshop_level) == ("met", "东片联合工作室", "joint")
    assert _rule(session, district, large.school_id).status == "not_met"  # ≥ 15 classes: its own school workshop


def test_the_numbers_are_policy(session: Session) -> None:
    admin = school_admin(session)
    district = district_admin(session)
    make_classes(session, admin, 10, with_homeroom=False)
    _workshop_with_members(session, admin, 5)
    assert _rule(session, admin, None).status == "not_required"
    set_policy(session, "workshop_min_classes", 10, district.id)
    assert _rule(session, admin, None).status == "not_met"
    set_policy(session, "workshop_min_members", 5, district.id)
    assert _rule(session, admin, None).status == "met"


def test_members_come_from_the_workshops_schools_and_school_admins_manage_their_own(session: Session) -> None:
    admin, other = school_admin(session, "S-A"), school_admin(session, "S-B")
    workshop = workshops.create_workshop(session, admin, name="一小工作室", level="school", stage="primary")
    outsider = make_teacher(session, "S-B")
    with pytest.raises(InvalidInput) as bad:
        workshops.add_member(session, admin, workshop.id, outsider.id)
    assert set(bad.value.fields) == {"teacher"}
    with pytest.raises(InvalidInput) as bad:
        workshops.create_workshop(session, admin, name="区工作室", level="district", stage="primary")
    assert set(bad.value.fields) == {"level"}
    with pytest.raises(NotFound):
        workshops.add_member(session, other, workshop.id, outsider.id)


def test_a_host_runs_an_activity_and_attendance_becomes_the_members_pending_hours(
    client: TestClient, session: Session, clock
) -> None:
    district = district_admin(session)
    host = make_user(session, Role.trainer, school_code="S-A", display_name="周主持")
    workshop = workshops.create_workshop(
        session, district, name="区小学班主任工作室", level="district", stage="primary", host_id=host.id
    )
    member = make_teacher(session, "S-A", name="成员甲")
    workshops.add_member(session, district, workshop.id, member.id, "member", "2026-09-01")
    token = login(client, host.username)
    page = client.get(f"/organisation/workshops/{workshop.id}")
    assert page.status_code == 200 and "区小学班主任工作室" in page.text

    form = {"csrf_token": token, "title": "互访：嘉定区名班主任工作室", "kind": "exchange", "partner": "",
            "day": "2026-11-02", "start_time": "09:00", "end_time": "11:30", "place": "嘉定", "category": "practice",
            "duration": "half", "hours": ""}  # fmt: skip
    r = client.post(f"/organisation/workshops/{workshop.id}/activities", data=form)
    assert r.status_code == 422  # an exchange visit names its partner
    assert session.scalar(select(WorkshopActivity)) is None
    r = client.post(f"/organisation/workshops/{workshop.id}/activities",
                    data=form | {"partner": "嘉定区名班主任工作室"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    activity = session.scalar(select(WorkshopActivity))
    assert activity is not None and (activity.kind, activity.partner) == ("exchange", "嘉定区名班主任工作室")
    ts = training.get_training_session(session, activity.session_id)
    assert (ts.level, ts.created_by, ts.hours) == ("workshop", host.id, Decimal("3.0"))

    r = client.post(f"/training/sessions/{ts.id}/attendance",
                    data={"csrf_token": token, "usernames": member.username}, follow_redirects=False)  # fmt: skip
    assert r.status_code in (200, 303), r.text
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.user_id == member.id))
    assert entry is not None and (entry.hours, entry.level, entry.status) == (Decimal("3.0"), "workshop", "pending")
    api = client.get(f"/api/v1/organisation/workshops/{workshop.id}").json()
    assert api["activities"][0]["attendees"] == 1 and api["activities"][0]["partner"] == "嘉定区名班主任工作室"


def test_only_the_host_or_the_admins_run_activities(session: Session) -> None:
    district = district_admin(session)
    workshop = workshops.create_workshop(session, district, name="区工作室", level="district", stage="all")
    stranger = make_user(session, Role.trainer, school_code="S-A")
    with pytest.raises(NotFound):  # a trainer sees only the workshops they host
        workshops.add_activity(session, stranger, workshop.id, {"title": "x"}, load_policy(session))
    teacher = make_user(session, Role.teacher, school_code="S-A")
    with pytest.raises(Forbidden):
        workshops.add_activity(session, teacher, workshop.id, {"title": "x"}, load_policy(session))


def test_the_compliance_page_and_api_show_each_school_with_its_reason(
    client: TestClient, session: Session, clock
) -> None:
    district = district_admin(session)
    big = school_admin(session, "S-A")
    make_classes(session, big, 15)
    _workshop_with_members(session, big, 8)
    login(client, district.username)
    page = client.get("/organisation/compliance?year=2026&as_of=2026-12-01")
    assert page.status_code == 200
    assert 'data-school="S-A" data-workshop-rule="met"' in page.text
    rows = {r["school"]: r for r in client.get("/api/v1/organisation/compliance?year=2026&as_of=2026-12-01").json()}
    assert (rows["S-A"]["classes"], rows["S-A"]["members"], rows["S-A"]["status"]) == (15, 8, "met")
    assert rows["S-A"]["classes_without_homeroom_teacher"] == []
