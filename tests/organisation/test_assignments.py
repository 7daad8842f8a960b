"""Learning assigned to people: a course (必修) assigned to a group with a deadline enrols the group's teachers, and
whoever joins the group later; teachers see it first, admins see who is late; prerequisites hold."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue import authoring
from backend.catalogue.models import Course
from backend.kit.errors import Conflict, InvalidInput
from backend.learning import playbacks
from backend.learning import service as learning
from backend.learning.models import Enrollment
from backend.organisation import assignments, pool, tiers, workshops
from backend.organisation.models import LearningAssignment
from backend.people.models import TeacherProfile
from backend.policies.service import load_policy
from backend.quizzes import service as quizzes
from tests.api.helpers import login
from tests.factories import correct_answers, make_course, make_user
from tests.organisation.helpers import district_admin, school_admin
from tests.people.helpers import make_teacher, zh


def _enrolled(session: Session, course: Course) -> set[int]:
    return set(session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id)))


def _complete(session: Session, course: Course, user: User) -> None:
    """The teacher completes a course without videos by passing its quiz (the way completion happens)."""
    learning.enroll(session, user.id, course)
    quiz = quizzes.quiz_for_course(session, course.id)
    assert quiz is not None
    quizzes.submit_attempt(session, quiz, user.id, correct_answers(quiz))
    assert learning.follow_completion(session, course.id, user.id)  # what the quiz page announces after a pass
    assert learning.enrollment_for(session, user.id, course.id).completed_at is not None


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in [["工号", "姓名"], *rows]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["tier", "pool", "trainees", "workshop", "school", "list"])
def test_assigning_a_course_to_each_kind_of_group_enrols_its_teachers(session: Session, kind: str) -> None:
    district = district_admin(session)
    admin = school_admin(session, "S-A")
    inside = make_teacher(session, "S-A", name="组内老师", evaluations=((2025, "qualified"),))
    outside = make_teacher(session, "S-B", name="组外老师")
    value = ""
    if kind == "tier":
        tiers.set_tier(session, district, inside.id, "compass")
        tiers.set_tier(session, district, outside.id, "climber")
        value = "compass"
    elif kind == "pool":
        pool.nominate(session, admin, inside.id, load_policy(session), willing=True)
    elif kind == "trainees":
        session.get(TeacherProfile, inside.id).status = "trainee"
    elif kind == "workshop":
        workshop = workshops.create_workshop(session, district, name="区级工作室", level="district", stage="primary")
        workshops.add_member(session, district, workshop.id, inside.id, "member", "2026-09-01")
        value = str(workshop.id)
    elif kind == "school":
        value = str(inside.school_id)
    course = make_course(session, title="必修课")
    assignment = assignments.create(
        session, district, course_id=course.id, kind=kind, value=value, due="2026-12-31",
        teacher_ids=[inside.id] if kind == "list" else None,
    )  # fmt: skip
    assert _enrolled(session, course) == {inside.id}
    assert [p.id for p in assignments.members(session, assignment)] == [inside.id]
    assert assignments.sync_assignment(session, assignment) == []  # idempotent


def test_teachers_who_join_the_group_later_are_enrolled(client: TestClient, session: Session) -> None:
    district, admin = district_admin(session), school_admin(session, "S-A")
    course = make_course(session)
    workshop = workshops.create_workshop(session, district, name="工作室", level="district", stage="primary")
    for kind, value in (("tier", "horizon"), ("workshop", str(workshop.id)), ("pool", ""), ("school", "")):
        school_value = value or (str(admin.school_id) if kind == "school" else "")
        assignments.create(session, district, course_id=course.id, kind=kind, value=school_value, due="2026-12-31")
    assert _enrolled(session, course) == set()

    by_tier = make_teacher(session, "S-B", name="定级老师")
    tiers.set_tier(session, district, by_tier.id, "horizon")
    by_workshop = make_teacher(session, "S-B", name="新成员")
    workshops.add_member(session, district, workshop.id, by_workshop.id, "member")
    by_pool = make_teacher(session, "S-B", name="新储备", evaluations=((2025, "excellent"),))
    pool.nominate(session, district, by_pool.id, load_policy(session), willing=True)
    assert _enrolled(session, course) == {by_tier.id, by_workshop.id, by_pool.id}

    # A teacher created in the school later (roster import, account pages): enrolled when they open My learning.
    newcomer = make_user(session, Role.teacher, school_code="S-A", display_name="新来的老师")
    login(client, newcomer.username)
    page = client.get("/learning").text
    assert newcomer.id in _enrolled(session, course)
    assert page.index('id="assigned-courses"') < page.index(zh("My courses"))


def test_a_school_admin_assigns_within_their_school_only(client: TestClient, session: Session) -> None:
    district, admin = district_admin(session), school_admin(session, "S-A")
    mine, theirs = make_teacher(session, "S-A", name="本校"), make_teacher(session, "S-B", name="外校")
    for teacher in (mine, theirs):
        tiers.set_tier(session, district, teacher.id, "compass")
    course = make_course(session)
    assignment = assignments.create(session, admin, course_id=course.id, kind="tier", value="compass", due="2026-12-31")
    assert assignment.school_id == admin.school_id and _enrolled(session, course) == {mine.id}
    with pytest.raises(InvalidInput) as refused:  # another school as the group
        assignments.create(session, admin, course_id=course.id, kind="school", value=str(theirs.school_id),
                           due="2026-12-31")  # fmt: skip
    assert "value" in refused.value.fields
    with pytest.raises(InvalidInput):  # a list naming another school's teacher
        assignments.create(session, admin, course_id=course.id, kind="list", due="2026-12-31", teacher_ids=[theirs.id])

    token = login(client, admin.username)
    r = client.post("/api/v1/organisation/assignments", json={"course_id": course.id, "group": "list",
                    "due": "2026-12-31", "teacher_ids": [theirs.id]}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]
    r = client.post("/api/v1/organisation/assignments", json={"course_id": course.id, "group": "everyone",
                    "due": "2026-12-31"}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 422 and "kind" in r.json()["fields"]
    assert session.scalar(select(func.count()).select_from(LearningAssignment)) == 1
    client.post("/logout", data={"csrf_token": token})
    login(client, theirs.username)
    assert client.get("/organisation/assignments").status_code == 403
    assert client.get(f"/api/v1/organisation/assignments/{assignment.id}").status_code == 403


@pytest.mark.parametrize(
    ("now", "due", "late"),
    [
        (datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "2026-11-02", False),  # due today (Shanghai): not late yet
        (datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "2026-11-01", True),  # due yesterday: late
        (datetime(2026, 11, 1, 15, 59, tzinfo=UTC), "2026-11-01", False),  # 23:59 in Shanghai on the day
        (datetime(2026, 11, 1, 16, 0, tzinfo=UTC), "2026-11-01", True),  # 00:00 the next day in Shanghai
    ],
)
def test_late_is_read_at_the_deadline_day_in_shanghai(
    client: TestClient, session: Session, clock, now: datetime, due: str, late: bool
) -> None:
    clock.current = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
    district = district_admin(session)
    slow, done = make_teacher(session, "S-A", name="慢老师"), make_teacher(session, "S-A", name="快老师")
    course = make_course(session, video_ms=())
    _complete(session, course, done)  # in October, before any of the deadlines
    clock.current = now
    assignment = assignments.create(session, district, course_id=course.id, kind="list", due=due,
                                    teacher_ids=[slow.id, done.id])  # fmt: skip
    view = assignments.progress(session, district, assignment.id)
    assert {r.teacher.id: (r.state, r.late) for r in view.rows} == {
        slow.id: ("not_started", late), done.id: ("completed", False)
    }

    token = login(client, district.username)
    page = client.get(f"/organisation/assignments/{assignment.id}").text
    assert (f'data-teacher="{slow.id}" data-state="not_started" data-late="1"' in page) is late
    api = client.get(f"/api/v1/organisation/assignments/{assignment.id}").json()
    assert (api["completed"], api["not_started"], api["late"]) == (1, 1, int(late))
    client.post("/logout", data={"csrf_token": token})
    login(client, slow.username)
    mine = client.get("/learning").text
    assert ('data-overdue="1"' in mine) is late


def test_a_prerequisite_is_refused_with_its_name_until_completed(session: Session) -> None:
    trainer = make_user(session, Role.trainer, school_code=None)
    district = district_admin(session)
    first = make_course(session, title="班主任工作规范", video_ms=())
    second = make_course(session, title="班级特色建设")
    second.prerequisite_code = first.code
    teacher = make_teacher(session, "S-A")
    with pytest.raises(Conflict) as refused:
        learning.enroll(session, teacher.id, second)
    assert refused.value.params == {"title": "班主任工作规范"}

    # Assigned anyway: enrolled, so it is on the teacher's list, but it cannot be started yet.
    assignments.create(session, district, course_id=second.id, kind="list", due="2026-12-31",
                       teacher_ids=[teacher.id])  # fmt: skip
    assert learning.enrollment_for(session, teacher.id, second.id) is not None
    with pytest.raises(Conflict):
        playbacks.start_playback(session, teacher.id, second.lessons[0].id, load_policy(session))

    _complete(session, first, teacher)
    learning.require_prerequisite(session, teacher.id, second)  # now allowed
    other = make_teacher(session, "S-A", name="另一位")
    _complete(session, first, other)
    assert learning.enroll(session, other.id, second).course_id == second.id

    # The studio sets it on the course form: a published course's code, not itself.
    draft = authoring.create_course(
        session, trainer, authoring.parse_fields({"title": "进阶", "tier": "compass", "credit_hours": "2",
                                                  "prerequisite": first.code}),
    )  # fmt: skip
    assert draft.prerequisite_code == first.code
    for bad in ("NO-SUCH", draft.code):
        with pytest.raises(InvalidInput) as refused_field:
            fields = authoring.parse_fields(authoring.fields_of(draft) | {"prerequisite": bad})
            authoring.update_course(session, trainer, draft, fields)
        assert "prerequisite" in refused_field.value.fields


def test_an_excel_list_with_a_bad_row_assigns_nothing_and_names_each_row(client: TestClient, session: Session) -> None:
    admin = school_admin(session, "S-A")
    make_teacher(session, "S-A", name="甲老师", staff_no="A1")
    make_teacher(session, "S-A", name="乙老师", staff_no="A2")
    make_teacher(session, "S-B", name="外校老师", staff_no="B1")
    course = make_course(session)
    token = login(client, admin.username)

    def upload(rows: list[list[object]]):  # type: ignore[no-untyped-def]
        return client.post(
            "/organisation/assignments",
            data={"csrf_token": token, "course": str(course.id), "kind": "list", "due": "2026-12-31"},
            files={"file": ("名单.xlsx", _xlsx(rows), "application/octet-stream")},
            follow_redirects=False,
        )

    r = upload([["A1", "甲老师"], ["B1", ""], ["A2", "丙老师"], ["A1", ""], ["", "无名"]])
    assert r.status_code == 422
    assert zh("No teacher in your scope has the staff number %(value)s.", value="B1") in r.text
    assert zh("The staff number %(value)s belongs to %(name)s, not %(found)s.", value="A2", name="乙老师",
              found="丙老师") in r.text  # fmt: skip
    assert zh("The staff number %(value)s appears twice in this file (also in row %(other)s).", value="A1",
              other=2) in r.text  # fmt: skip
    assert zh("Write the teacher's staff number.") in r.text
    assert session.scalar(select(func.count()).select_from(LearningAssignment)) == 0
    assert _enrolled(session, course) == set()

    r = upload([["A1", "甲老师"], ["A2", ""]])
    assert r.status_code == 303
    assert len(_enrolled(session, course)) == 2


def test_the_course_page_names_the_prerequisite_and_enrolling_is_refused(client: TestClient, session: Session) -> None:
    first = make_course(session, title="班主任工作规范", video_ms=())
    second = make_course(session, title="班级特色建设")
    second.prerequisite_code = first.code
    teacher = make_teacher(session, "S-A")
    token = login(client, teacher.username)
    page = client.get(f"/courses/{second.id}").text
    assert 'id="prerequisite"' in page and "班主任工作规范" in page
    r = client.post(f"/courses/{second.id}/enroll", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409 and "班主任工作规范" in r.text
    r = client.post(f"/api/v1/courses/{second.id}/enrollment", headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and "班主任工作规范" in r.json()["detail"]
    assert learning.enrollment_for(session, teacher.id, second.id) is None

    _complete(session, first, teacher)
    assert 'id="prerequisite"' not in client.get(f"/courses/{second.id}").text
    r = client.post(f"/courses/{second.id}/enroll", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
