"""The reserve pool (班主任储备池): schools nominate their own teachers on the district's criteria, the district
reviews them, and a school appointing a 班主任 sees the candidate's record."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.organisation import assignments, pool
from backend.organisation.models import PoolMember, PoolReview
from backend.policies.service import load_policy, set_policy
from tests.api.helpers import login
from tests.factories import make_course, make_user
from tests.organisation.helpers import district_admin, make_classes, school_admin
from tests.people.helpers import make_teacher, zh


def _candidate(session: Session, school: str = "S-A", name: str = "储备老师", result: str = "qualified"):  # type: ignore[no-untyped-def]
    return make_teacher(session, school, name=name, evaluations=((2025, result),))


def test_a_school_nominates_its_teacher_and_the_district_reviews_the_member(session: Session, clock) -> None:
    admin, district = school_admin(session), district_admin(session)
    teacher = _candidate(session)
    member = pool.nominate(session, admin, teacher.id, load_policy(session), willing=True, reason="自愿，带班经验丰富",
                           since="2026-09-01")  # fmt: skip
    assert (member.status, member.since, member.school_id) == ("reserve", date(2026, 9, 1), teacher.school_id)
    with pytest.raises(Conflict):  # once in the pool
        pool.nominate(session, admin, teacher.id, load_policy(session), willing=True)

    with pytest.raises(Forbidden):  # the district reviews, not the school
        pool.review(session, admin, member.id, "ready", "表现好")
    review = pool.review(session, district, member.id, "ready", "储备期表现优秀，可聘任", "2026-11-01")
    assert (review.outcome, review.day, review.reviewer_id, review.note) == (
        "ready", date(2026, 11, 1), district.id, "储备期表现优秀，可聘任"
    )
    assert session.get(PoolMember, member.id).status == "ready"
    with pytest.raises(InvalidInput) as refused:
        pool.review(session, district, member.id, "promote", "", "2026-08-01")
    assert set(refused.value.fields) == {"outcome", "day"}  # not an outcome; before the teacher joined

    pool.review(session, district, member.id, "exit", "本人申请退出", "2026-11-02")
    assert (session.get(PoolMember, member.id).status, session.get(PoolMember, member.id).left_on) == (
        "left", date(2026, 11, 2)
    )
    with pytest.raises(Conflict):
        pool.review(session, district, member.id, "keep")
    actions = list(session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "pool_member").order_by(AuditEvent.id)
    ))
    assert actions == ["organisation.pool_nominate", "organisation.pool_review", "organisation.pool_review"]
    record = pool.list_members(session, district, load_policy(session), include_left=True)[0]
    assert [(r.outcome, name) for r, name in record.reviews] == [
        ("exit", district.display_name), ("ready", district.display_name)
    ]


def test_a_school_admin_nominates_only_their_own_teachers_and_teachers_nobody(
    client: TestClient, session: Session
) -> None:
    own, other_admin = school_admin(session, "S-A"), school_admin(session, "S-B")
    teacher = _candidate(session, "S-A")
    with pytest.raises(NotFound):  # another school's teacher is not found
        pool.nominate(session, other_admin, teacher.id, load_policy(session), willing=True)
    colleague = make_user(session, Role.teacher, school_code="S-A")
    with pytest.raises(Forbidden):
        pool.nominate(session, colleague, teacher.id, load_policy(session), willing=True)

    token = login(client, other_admin.username)
    r = client.post("/api/v1/organisation/pool", json={"teacher_id": teacher.id, "willing": True},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 404 and r.json()["error"]
    r = client.post("/organisation/pool", data={"csrf_token": token, "teacher": str(teacher.id), "willing": "1"})
    assert r.status_code == 404
    assert client.get("/api/v1/organisation/pool").json() == []
    client.post("/logout", data={"csrf_token": token})

    token = login(client, own.username)
    r = client.post("/organisation/pool", data={"teacher": str(teacher.id), "willing": "1"})  # no CSRF token
    assert r.status_code == 403
    r = client.post("/organisation/pool", data={"csrf_token": token, "teacher": str(teacher.id), "willing": "1",
                                                "reason": "愿意担任班主任"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    listed = client.get("/api/v1/organisation/pool").json()
    assert [(m["teacher_id"], m["status"]) for m in listed] == [(teacher.id, "reserve")]
    assert "/api/v1/organisation/pool" in client.get("/openapi.json").json()["paths"]
    r = client.post(f"/api/v1/organisation/pool/{listed[0]['id']}/reviews", json={"outcome": "ready"},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 403  # reviews are the district's
    client.post("/logout", data={"csrf_token": token})

    login(client, colleague.username)
    assert client.get("/organisation/pool").status_code == 403
    assert client.get("/api/v1/organisation/pool").status_code == 403


def test_the_districts_criteria_are_policy(client: TestClient, session: Session) -> None:
    admin, district = school_admin(session), district_admin(session)
    never_evaluated = make_teacher(session, "S-A", name="未考评老师")
    basic = _candidate(session, name="基本合格老师", result="basic")
    policy = load_policy(session)
    with pytest.raises(InvalidInput) as refused:
        pool.nominate(session, admin, never_evaluated.id, policy, willing=False)
    assert set(refused.value.fields) == {"teacher", "willing"}
    with pytest.raises(InvalidInput):
        pool.nominate(session, admin, basic.id, policy, willing=True)

    token = login(client, admin.username)
    r = client.post("/organisation/pool", data={"csrf_token": token, "teacher": str(basic.id)})
    assert r.status_code == 422
    assert zh("Confirm that the teacher is willing to take on the work (愿担责).") in r.text
    assert session.scalar(select(PoolMember)) is None

    set_policy(session, "reserve_min_evaluation", "basic", district.id)
    set_policy(session, "reserve_requires_willingness", "false", district.id)
    assert pool.nominate(session, admin, basic.id, load_policy(session), willing=False).status == "reserve"


def test_appointing_a_homeroom_teacher_shows_the_candidates_pool_record(client: TestClient, session: Session) -> None:
    admin, district = school_admin(session), district_admin(session)
    make_classes(session, admin, 1, with_homeroom=False)
    teacher = _candidate(session, name="候选老师")
    course = make_course(session, title="储备池必修课")
    assignments.create(session, district, course_id=course.id, kind="pool", due="2026-12-31")
    member = pool.nominate(session, admin, teacher.id, load_policy(session), willing=True, since="2026-09-01")
    pool.review(session, district, member.id, "ready", "可以聘任", "2026-10-15")
    assert session.scalar(select(PoolReview.note)) == "可以聘任"

    login(client, admin.username)
    page = client.get("/organisation/classes?year=2026").text
    assert f'data-pool-candidate="{teacher.id}"' in page
    section = page[page.index('id="pool-candidates"'):]
    assert "候选老师" in section and "可以聘任" in section and "储备池必修课" in section
    assert zh("Not started") in section  # enrolled by the nomination, not started yet
