"""A school records its classes per school year and their 班主任, 副班主任 and 轮值班主任; each appointment is the
service period the title review reads, and every class must have exactly one 班主任."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.evidence import title_review
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.organisation import classes
from backend.organisation.models import Appointment, SchoolClass
from backend.people.models import ServicePeriod
from backend.policies.service import load_policy
from tests.api.helpers import login
from tests.factories import make_user
from tests.organisation.helpers import district_admin, make_classes, school_admin
from tests.people.helpers import make_teacher, zh


def _periods(session: Session, user_id: int) -> list[tuple[str, date, date | None]]:
    return [
        (p.kind, p.start, p.end)
        for p in session.scalars(
            select(ServicePeriod).where(ServicePeriod.user_id == user_id).order_by(ServicePeriod.id)
        )
    ]


def test_school_admin_records_a_class_and_its_homeroom_teacher_which_writes_the_service_period(
    client: TestClient, session: Session, clock
) -> None:
    admin = school_admin(session)
    teacher = make_teacher(session, "S-A", name="陈老师")
    token = login(client, admin.username)

    r = client.post("/organisation/classes", data={"csrf_token": token, "year": "2026", "name": "三年级（2）班",
                                                    "grade": "三年级"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    school_class = session.scalar(select(SchoolClass).where(SchoolClass.name == "三年级（2）班"))
    assert school_class is not None and (school_class.school_id, school_class.year) == (admin.school_id, 2026)
    page = client.get(r.headers["location"]).text
    assert "三年级（2）班" in page and 'data-compliance="not-met"' in page  # a class, and no 班主任 yet

    r = client.post(f"/organisation/classes/{school_class.id}/appointments",
                    data={"csrf_token": token, "teacher": str(teacher.id), "role": "homeroom", "start": "2026-09-01"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert _periods(session, teacher.id) == [("homeroom", date(2026, 9, 1), None)]
    page = client.get(r.headers["location"]).text
    assert "陈老师" in page and 'data-compliance="met"' in page
    # The title review reads the period: the teacher is currently a homeroom teacher.
    detail = title_review.teacher_review(session, admin, teacher.id, date(2026, 11, 2))
    assert detail.review.current_period is not None and detail.review.current_period.kind == "homeroom"
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)))
    assert {"organisation.class_add", "organisation.appoint", "people.period_add"} <= actions


def test_ending_an_appointment_closes_its_service_period_on_the_same_day(session: Session, clock) -> None:
    admin = school_admin(session)
    teacher = make_teacher(session, "S-A")
    deputy = make_teacher(session, "S-A", name="副老师")
    [school_class] = make_classes(session, admin, 1, with_homeroom=False)
    policy = load_policy(session)
    appointment = classes.appoint(session, admin, school_class.id, teacher.id, "homeroom", "2026-09-01", policy)
    classes.appoint(session, admin, school_class.id, deputy.id, "deputy", "2026-09-01", policy)

    classes.end_appointment(session, admin, appointment.id, "2027-01-31", policy)
    assert _periods(session, teacher.id) == [("homeroom", date(2026, 9, 1), date(2027, 1, 31))]
    assert _periods(session, deputy.id) == [("deputy", date(2026, 9, 1), None)]
    # Mid-year the class is without its 班主任 from 1 February: the compliance check says so.
    assert classes.class_compliance(session, admin.school_id, 2026, date(2027, 1, 31)).met
    later = classes.class_compliance(session, admin.school_id, 2026, date(2027, 2, 1))
    assert not later.met and later.without == ("1班",)
    with pytest.raises(Conflict):
        classes.end_appointment(session, admin, appointment.id, "2027-02-01", policy)


def test_a_class_has_one_homeroom_teacher_at_a_time(session: Session, clock) -> None:
    admin = school_admin(session)
    first, second = make_teacher(session, "S-A", name="甲老师"), make_teacher(session, "S-A", name="乙老师")
    [school_class] = make_classes(session, admin, 1, with_homeroom=False)
    policy = load_policy(session)
    appointment = classes.appoint(session, admin, school_class.id, first.id, "homeroom", "2026-09-01", policy)
    with pytest.raises(Conflict) as refused:
        classes.appoint(session, admin, school_class.id, second.id, "homeroom", "2026-10-01", policy)
    assert refused.value.params["name"] == "甲老师"
    assert _periods(session, second.id) == []  # nothing written for the refused one
    # After the first one's last day, the second may take over; two 轮值班主任 may serve side by side.
    classes.end_appointment(session, admin, appointment.id, "2026-12-31", policy)
    classes.appoint(session, admin, school_class.id, second.id, "homeroom", "2027-01-01", policy)
    classes.appoint(session, admin, school_class.id, first.id, "rotating", "2027-01-01", policy)
    assert classes.class_compliance(session, admin.school_id, 2026, date(2027, 3, 1)).met


def test_appointments_are_checked_field_by_field(session: Session, clock) -> None:
    admin = school_admin(session)
    teacher = make_teacher(session, "S-A")
    elsewhere = make_teacher(session, "S-B")
    [school_class] = make_classes(session, admin, 1, with_homeroom=False)
    policy = load_policy(session)
    with pytest.raises(InvalidInput) as bad:
        classes.appoint(session, admin, school_class.id, teacher.id, "principal", "2026-08-31", policy)
    assert set(bad.value.fields) == {"role"}
    with pytest.raises(InvalidInput) as bad:
        classes.appoint(session, admin, school_class.id, teacher.id, "homeroom", "2026-08-31", policy)
    assert set(bad.value.fields) == {"start"}  # the day before the 2026 school year
    with pytest.raises(NotFound):  # another school's teacher: not even confirmed to exist
        classes.appoint(session, admin, school_class.id, elsewhere.id, "homeroom", "2026-09-01", policy)
    district = district_admin(session)
    with pytest.raises(InvalidInput) as bad:
        classes.appoint(session, district, school_class.id, elsewhere.id, "homeroom", "2026-09-01", policy)
    assert set(bad.value.fields) == {"teacher"}


def test_another_schools_classes_are_not_found_and_teachers_are_refused(client: TestClient, session: Session) -> None:
    own = school_admin(session, "S-A")
    other = school_admin(session, "S-B")
    [school_class] = make_classes(session, other, 1, with_homeroom=False)
    token = login(client, own.username)
    r = client.get(f"/organisation/classes?school={other.school_id}")
    assert r.status_code == 404
    r = client.post(f"/organisation/classes/{school_class.id}/appointments",
                    data={"csrf_token": token, "teacher": "1", "role": "homeroom", "start": "2026-09-01"})  # fmt: skip
    assert r.status_code == 404
    r = client.post("/organisation/classes", data={"year": "2026", "name": "X班"})  # no CSRF token
    assert r.status_code == 403
    assert session.scalar(select(SchoolClass).where(SchoolClass.name == "X班")) is None

    client.post("/logout", data={"csrf_token": token})
    teacher = make_user(session, Role.teacher, school_code="S-A")
    login(client, teacher.username)
    assert client.get("/organisation/classes").status_code == 403
    assert client.get("/api/v1/organisation/schools/S-A/classes").status_code == 403


def test_bad_input_is_marked_on_the_page_and_nothing_is_written(client: TestClient, session: Session) -> None:
    admin = school_admin(session)
    token = login(client, admin.username)
    r = client.post("/organisation/classes", data={"csrf_token": token, "year": "2026", "name": "", "grade": "x" * 30})
    assert r.status_code == 422
    assert zh("Enter the class name, e.g. 三年级（2）班.") in r.text
    assert zh("A grade has at most 20 characters.") in r.text
    assert session.scalar(select(SchoolClass)) is None


def test_the_api_lists_classes_with_appointments_and_the_compliance(
    client: TestClient, session: Session, clock
) -> None:
    admin = school_admin(session)
    make_classes(session, admin, 2)
    classes.add_class(session, admin, None, 2026, "3班")
    token = login(client, admin.username)
    school = client.get("/api/v1/organisation/schools/S-A/classes?year=2026").json()
    assert school["every_class_has_one_homeroom_teacher"] is False
    assert school["classes_without_homeroom_teacher"] == ["3班"]
    assert {c["name"]: len(c["appointments"]) for c in school["classes"]} == {"1班": 1, "2班": 1, "3班": 0}
    teacher = make_teacher(session, "S-A", name="新老师")
    third = next(c for c in school["classes"] if c["name"] == "3班")
    r = client.post(f"/api/v1/organisation/classes/{third['id']}/appointments",
                    json={"teacher_id": teacher.id, "role": "homeroom", "start": "2026-11-02"},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["service_period_id"] == session.scalar(
        select(ServicePeriod.id).where(ServicePeriod.user_id == teacher.id)
    )
    assert client.get("/api/v1/organisation/schools/S-A/classes?year=2026").json()[
        "every_class_has_one_homeroom_teacher"
    ]
    r = client.post(f"/api/v1/organisation/classes/{third['id']}/appointments",
                    json={"teacher_id": teacher.id, "role": "chief", "start": "2026-11-02"},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 422 and "role" in r.json()["fields"]
    assert client.get("/api/v1/organisation/schools/S-B/classes").status_code == 404
    assert "/api/v1/organisation/schools/{school_code}/classes" in client.get("/openapi.json").json()["paths"]
    assert session.scalar(select(Appointment).where(Appointment.user_id == teacher.id)) is not None


NO_SCHOOLS = ("No school is recorded in the district yet. Schools come with the roster import; once a school is there, "
              "its classes and homeroom teachers are kept here.")


def test_a_district_without_schools_sees_how_to_add_them_not_an_error(client: TestClient, session: Session) -> None:
    admin = district_admin(session)
    session.commit()
    login(client, admin.username)
    r = client.get("/organisation/classes")
    assert r.status_code == 200
    assert zh(NO_SCHOOLS) in r.text
    assert 'href="/admin/teachers/import"' in r.text
