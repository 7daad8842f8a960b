"""A school admin keeps the records of their own school's teachers; a district admin sees every school's.

The other school's teachers are not found (404) for a school admin, whether read or written; teachers are refused.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.people.models import AnnualEvaluation, School, ServicePeriod, TeacherProfile
from tests.api.helpers import login
from tests.factories import make_user
from tests.people.helpers import csrf, make_teacher, zh


@pytest.fixture
def schools(session: Session):  # type: ignore[no-untyped-def]
    ours = make_teacher(
        session,
        "S-A",
        name="本校李老师",
        staff_no="A001",
        teaching_start=date(1996, 9, 1),
        periods=(("homeroom", "2006-09-01", None),),
    )
    theirs = make_teacher(session, "S-B", name="外校赵老师", staff_no="B001")
    admin = make_user(session, Role.school_admin, school_code="S-A")
    return ours, theirs, admin


def test_school_admin_lists_and_opens_only_their_own_teachers(client: TestClient, session: Session, schools) -> None:
    ours, theirs, admin = schools
    login(client, admin.username)
    page = client.get("/admin/teachers")
    assert page.status_code == 200
    assert "本校李老师" in page.text and "外校赵老师" not in page.text
    assert client.get(f"/admin/teachers/{ours.id}").status_code == 200
    assert client.get(f"/admin/teachers/{theirs.id}").status_code == 404
    assert client.get(f"/admin/title-review/{theirs.id}").status_code == 404
    # Asking for the other school by filter changes nothing for a school admin.
    other = session.scalar(select(School.id).where(School.code == "S-B"))
    assert "外校赵老师" not in client.get(f"/admin/teachers?school={other}").text


def test_school_admin_cannot_change_another_schools_records(client: TestClient, session: Session, schools) -> None:
    _ours, theirs, admin = schools
    login(client, admin.username)
    token = csrf(client.get("/admin/teachers").text)
    attempts = [
        (f"/admin/teachers/{theirs.id}/profile", {"staff_no": "X", "status": "appointed"}),
        (f"/admin/teachers/{theirs.id}/periods", {"kind": "homeroom", "start": "2020-09-01"}),
        (f"/admin/teachers/{theirs.id}/evaluations", {"year": "2024", "result": "excellent"}),
    ]
    for path, data in attempts:
        response = client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 404, path
    assert session.scalar(select(TeacherProfile.staff_no).where(TeacherProfile.user_id == theirs.id)) == "B001"
    assert session.scalars(select(ServicePeriod).where(ServicePeriod.user_id == theirs.id)).all() == []
    assert session.scalars(select(AnnualEvaluation).where(AnnualEvaluation.user_id == theirs.id)).all() == []


def test_teachers_and_trainers_are_refused(client: TestClient, session: Session, schools) -> None:
    ours, _theirs, _admin = schools
    for role in (Role.teacher, Role.trainer):
        user = make_user(session, role, school_code="S-A")
        client.cookies.clear()
        login(client, user.username)
        for path in (
            "/admin/teachers",
            f"/admin/teachers/{ours.id}",
            "/admin/title-review",
            "/admin/title-review/export.xlsx",
            "/admin/teachers/import",
        ):
            assert client.get(path).status_code == 403, (role, path)


def test_district_admin_sees_every_school(client: TestClient, session: Session, schools) -> None:
    _ours, theirs, _admin = schools
    district = make_user(session, Role.district_admin, school_code=None)
    login(client, district.username)
    page = client.get("/admin/teachers")
    assert "本校李老师" in page.text and "外校赵老师" in page.text
    assert client.get(f"/admin/teachers/{theirs.id}").status_code == 200


def test_admin_edits_profile_periods_and_evaluations(client: TestClient, session: Session, schools) -> None:
    ours, _theirs, admin = schools
    login(client, admin.username)
    page = client.get(f"/admin/teachers/{ours.id}")
    token = csrf(page.text)
    r = client.post(
        f"/admin/teachers/{ours.id}/profile",
        follow_redirects=False,
        data={
            "csrf_token": token,
            "staff_no": "A001",
            "teaching_start": "1995-09-01",
            "status": "appointed",
            "tier": "compass",
        },
    )
    assert r.status_code == 303
    profile = session.get(TeacherProfile, ours.id)
    assert profile is not None and profile.teaching_start == date(1995, 9, 1) and profile.tier == "compass"

    school_b = session.scalar(select(School.id).where(School.code == "S-B"))
    r = client.post(
        f"/admin/teachers/{ours.id}/periods",
        follow_redirects=False,
        data={
            "csrf_token": token,
            "kind": "deputy",
            "school_id": str(school_b),
            "start": "2001-09-01",
            "end": "2006-08-31",
        },
    )
    assert r.status_code == 303
    deputy = session.scalar(
        select(ServicePeriod).where(ServicePeriod.user_id == ours.id, ServicePeriod.kind == "deputy")
    )
    assert deputy is not None and deputy.school_id == school_b and deputy.end == date(2006, 8, 31)

    # Ending the ongoing period, then deleting the deputy one.
    ongoing = session.scalar(
        select(ServicePeriod).where(ServicePeriod.user_id == ours.id, ServicePeriod.kind == "homeroom")
    )
    assert ongoing is not None
    r = client.post(
        f"/admin/teachers/{ours.id}/periods/{ongoing.id}",
        follow_redirects=False,
        data={
            "csrf_token": token,
            "kind": "homeroom",
            "school_id": str(ours.school_id),
            "start": "2006-09-01",
            "end": "2026-07-15",
        },
    )
    assert r.status_code == 303
    session.refresh(ongoing)
    assert ongoing.end == date(2026, 7, 15)
    assert (
        client.post(
            f"/admin/teachers/{ours.id}/periods/{deputy.id}/delete", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert session.scalar(select(ServicePeriod.id).where(ServicePeriod.id == deputy.id)) is None

    # One result per year: a second one for 2024 replaces the first.
    for result in ("qualified", "excellent"):
        r = client.post(
            f"/admin/teachers/{ours.id}/evaluations",
            follow_redirects=False,
            data={"csrf_token": token, "year": "2024", "result": result},
        )
        assert r.status_code == 303
    rows = session.scalars(select(AnnualEvaluation).where(AnnualEvaluation.user_id == ours.id)).all()
    assert [(e.year, e.result) for e in rows] == [(2024, "excellent")]
    page = client.get(f"/admin/teachers/{ours.id}")
    assert zh("Excellent") in page.text and "2026-07-15" in page.text

    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)).all()
    assert {
        "people.profile_update",
        "people.period_add",
        "people.period_update",
        "people.period_delete",
        "people.evaluation_save",
    } <= set(actions)


def test_bad_input_is_marked_on_the_field_and_nothing_is_written(client: TestClient, session: Session, schools) -> None:
    ours, theirs, admin = schools
    login(client, admin.username)
    token = csrf(client.get(f"/admin/teachers/{ours.id}").text)
    r = client.post(
        f"/admin/teachers/{ours.id}/periods",
        data={"csrf_token": token, "kind": "homeroom", "start": "2020-09-01", "end": "2019-09-01"},
    )
    assert r.status_code == 422
    assert zh("The end date cannot be before the start date.") in r.text
    assert 'value="2019-09-01"' in r.text  # what was typed is kept
    r = client.post(
        f"/admin/teachers/{ours.id}/periods", data={"csrf_token": token, "kind": "principal", "start": "2020-13-01"}
    )
    assert r.status_code == 422
    assert zh("Choose a kind of service from the list.") in r.text and zh("Enter a date like 2026-09-01.") in r.text
    r = client.post(
        f"/admin/teachers/{ours.id}/profile", data={"csrf_token": token, "staff_no": "B001", "status": "appointed"}
    )  # the other school's staff number
    assert r.status_code == 422 and zh("Another teacher already has this staff number.") in r.text
    r = client.post(
        f"/admin/teachers/{ours.id}/evaluations", data={"csrf_token": token, "year": "1900", "result": "excellent"}
    )
    assert r.status_code == 422
    assert len(session.scalars(select(ServicePeriod).where(ServicePeriod.user_id == ours.id)).all()) == 1
    assert session.scalar(select(TeacherProfile.staff_no).where(TeacherProfile.user_id == ours.id)) == "A001"
    assert session.scalars(select(AnnualEvaluation).where(AnnualEvaluation.user_id == ours.id)).all() == []


def test_a_moved_teacher_brings_the_periods_served_elsewhere(client: TestClient, session: Session) -> None:
    """Moves between schools: the teacher's account now belongs to school B, whose admin sees the periods served
    at school A; school A's admin no longer sees the teacher at all."""
    teacher = make_teacher(
        session, "S-A", name="调动的孙老师", staff_no="M001", periods=(("homeroom", "2006-09-01", "2016-08-31"),)
    )
    admin_a = make_user(session, Role.school_admin, school_code="S-A")
    admin_b = make_user(session, Role.school_admin, school_code="S-B")
    session.add(ServicePeriod(user_id=teacher.id, kind="homeroom", school_id=admin_b.school_id, start=date(2016, 9, 1)))
    teacher.school_id = admin_b.school_id
    session.flush()
    login(client, admin_b.username)
    page = client.get(f"/admin/teachers/{teacher.id}")
    assert page.status_code == 200
    assert "测试学校S-A" in page.text and "测试学校S-B" in page.text and "2016-08-31" in page.text
    client.cookies.clear()
    login(client, admin_a.username)
    assert client.get(f"/admin/teachers/{teacher.id}").status_code == 404
    assert "调动的孙老师" not in client.get("/admin/teachers").text
