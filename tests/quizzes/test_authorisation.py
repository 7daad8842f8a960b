"""Every refusal: only a course's owners, co-owners and district admins author its questions, banks and
assignments, grant extensions, grade and see analytics (403 for anyone else); teachers see only their own
attempts and submissions (404 for anyone else's); and never see correct answers before submitting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from backend.accounts.models import Role, User
from backend.catalogue import ownership
from backend.catalogue.models import Course
from backend.quizzes import assignments, banks
from backend.quizzes.models import Attempt, QuestionBank, Submission
from tests.factories import make_user
from tests.quizzes.helpers import enrolled_teacher, essay, owned_course, quiz_with, single
from tests.quizzes.test_excel import GOOD, sheet


@dataclass
class World:
    course: Course
    owner: User
    teacher: User
    attempt: Attempt
    submission: Submission
    bank: QuestionBank
    district_bank: QuestionBank
    assignment_id: int
    question_id: int
    draw_id: int


@pytest.fixture
def world(session, client_for) -> World:  # type: ignore[no-untyped-def]
    course, owner = owned_course(session)
    quiz = quiz_with(session, course, [single(), essay()], time_limit_minutes=30)
    bank = banks.create_bank(session, title="课程题库", topic="norms", course_code=course.code, actor_id=owner.id)
    banks.add_question(session, single(prompt="题库题"), bank=bank)
    admin = make_user(session, Role.district_admin)
    district_bank = banks.create_bank(session, title="全区题库", topic="moral", course_code=None, actor_id=admin.id)
    rule = banks.add_draw_rule(session, quiz, bank, 1)
    assignment = assignments.create_assignment(session, course.id, assignments.AssignmentInput(
        title="班会设计方案", instructions_md="", pass_score=6, allow_resubmission=False, required=False,
        rubric=[("主题", 10)]))
    teacher = enrolled_teacher(session, course)
    web = client_for(teacher)
    attempt_id = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()["id"]
    web.post(f"/assignments/{assignment.id}/submissions", data={"text": "我的方案"},
             files={"file": ("plan.pdf", b"%PDF-1.4 test", "application/pdf")})
    submission = session.scalars(select(Submission).where(Submission.user_id == teacher.id)).one()
    return World(course, owner, teacher, session.get(Attempt, attempt_id), submission, bank, district_bank,
                 assignment.id, quiz.questions[0].id, rule.id)


def _editor_requests(w: World) -> list[tuple[str, str, dict]]:
    c = w.course.id
    return [
        ("POST", f"/studio/courses/{c}/quiz", {"data": {"pass_mark": "50", "max_attempts": "3"}}),
        ("GET", f"/studio/courses/{c}/quiz", {}),
        ("POST", f"/studio/courses/{c}/quiz/questions",
         {"data": {"kind": "single", "prompt": "新题", "options": "甲\n乙", "answer": "A"}}),
        ("POST", f"/studio/courses/{c}/quiz/questions/{w.question_id}/delete", {}),
        ("POST", f"/studio/courses/{c}/quiz/draws", {"data": {"bank_id": str(w.bank.id), "count": "1"}}),
        ("POST", f"/studio/courses/{c}/quiz/draws/{w.draw_id}/delete", {}),
        ("POST", f"/studio/courses/{c}/quiz/extensions", {"data": {"username": w.teacher.username, "minutes": "5"}}),
        ("POST", f"/api/v1/courses/{c}/quiz/extensions", {"json": {"user_id": w.teacher.id, "minutes": 5}}),
        ("GET", f"/studio/banks/{w.bank.id}", {}),
        ("POST", f"/studio/banks/{w.bank.id}/questions", {"data": {"kind": "fill", "prompt": "填空", "answer": "甲"}}),
        ("POST", f"/studio/banks/{w.bank.id}/import",
         {"files": {"file": ("a.xlsx", sheet(GOOD), "application/octet-stream")}}),
        ("POST", "/studio/banks", {"data": {"title": "偷建题库", "topic": "norms", "course_code": w.course.code}}),
        ("GET", f"/studio/courses/{c}/assignments", {}),
        ("POST", f"/studio/courses/{c}/assignments", {"data": {"title": "作业", "max_score": "10", "pass_score": "6"}}),
        ("GET", f"/studio/assignments/{w.assignment_id}", {}),
        ("POST", f"/studio/assignments/{w.assignment_id}", {"data": {"title": "改名", "rubric": "主题 | 10",
                                                                      "pass_score": "6"}}),
        ("GET", f"/grading/attempts/{w.attempt.id}", {}),
        ("POST", f"/grading/attempts/{w.attempt.id}", {"data": {"comment": "x"}}),
        ("GET", f"/grading/submissions/{w.submission.id}", {}),
        ("POST", f"/grading/submissions/{w.submission.id}", {"data": {"action": "resubmit", "feedback": "改"}}),
        ("GET", f"/studio/courses/{c}/analytics", {}),
        ("GET", f"/studio/courses/{c}/analytics.xlsx", {}),
    ]


@pytest.mark.parametrize("who", ["other_trainer", "teacher", "school_admin"])
def test_only_the_courses_editors_author_grade_and_see_analytics(client_for, session, world, who) -> None:
    actor = world.teacher if who == "teacher" else make_user(
        session, Role.trainer if who == "other_trainer" else Role.school_admin)
    web = client_for(actor)
    for method, path, kw in _editor_requests(world):
        r = web.request(method, path, follow_redirects=False, **kw)
        assert r.status_code == 403, (who, method, path, r.status_code)
    assert web.get("/grading").status_code == (200 if who == "other_trainer" else 403)
    if who == "other_trainer":  # a trainer's queue holds only their own courses
        assert f"item-submission-{world.submission.id}" not in web.get("/grading").text


def test_a_trainer_cannot_create_or_edit_a_district_wide_bank(client_for, session, world) -> None:
    web = client_for(world.owner)
    assert web.post("/studio/banks", data={"title": "全区", "topic": "norms", "course_code": ""}).status_code == 403
    r = web.post(f"/studio/banks/{world.district_bank.id}/questions", data={"kind": "fill", "prompt": "题",
                                                                             "answer": "甲"})
    assert r.status_code == 403
    assert web.get(f"/studio/banks/{world.district_bank.id}").status_code == 200  # reading is fine


def test_teachers_are_refused_the_bank_pages(client_for, world) -> None:
    web = client_for(world.teacher)
    assert web.get("/studio/banks").status_code == 403
    assert web.get("/studio/banks/template.xlsx").status_code == 403


def test_co_owners_and_district_admins_may(client_for, session, world) -> None:
    co_owner = make_user(session, Role.trainer)
    ownership.add_owner(session, world.course.code, co_owner.id, "co_owner")
    admin = make_user(session, Role.district_admin)
    for actor in (co_owner, admin):
        web = client_for(actor)
        assert web.get(f"/studio/courses/{world.course.id}/analytics").status_code == 200
        assert web.get(f"/studio/courses/{world.course.id}/quiz").status_code == 200
        assert web.get(f"/grading/submissions/{world.submission.id}").status_code == 200
        assert f"item-submission-{world.submission.id}" in web.get("/grading").text


def test_teachers_see_only_their_own_attempts_and_submissions(client_for, session, world) -> None:
    other = enrolled_teacher(session, world.course)
    web = client_for(other)
    a = world.attempt.id
    assert web.get(f"/quiz/attempts/{a}").status_code == 404
    assert web.get(f"/api/v1/quiz/attempts/{a}").status_code == 404
    assert web.put(f"/api/v1/quiz/attempts/{a}/answers", json={"answers": {}}).status_code == 404
    assert web.post(f"/api/v1/quiz/attempts/{a}/submit", json={"answers": {}}).status_code == 404
    assert web.post(f"/quiz/attempts/{a}/submit", data={}).status_code == 404
    assert web.post(f"/quiz/attempts/{a}/answers", data={}).status_code == 404
    assert web.get(f"/assignments/submissions/{world.submission.id}/file").status_code == 404
    # nor may a trainer of another course download it
    assert client_for(make_user(session, Role.trainer)).get(
        f"/assignments/submissions/{world.submission.id}/file").status_code == 404
    # the owner may
    assert client_for(world.teacher).get(f"/assignments/submissions/{world.submission.id}/file").status_code == 200
    assert client_for(world.owner).get(f"/assignments/submissions/{world.submission.id}/file").status_code == 200


def test_a_running_attempt_never_shows_the_answers(client_for, session, world) -> None:
    web = client_for(world.teacher)
    body = web.get(f"/api/v1/quiz/attempts/{world.attempt.id}").json()
    assert body["status"] == "in_progress"
    assert all(set(q) == {"id", "position", "kind", "prompt", "options"} for q in body["questions"])
    html = web.get(f"/quiz/attempts/{world.attempt.id}").text
    for secret in ("班会由班主任主持", "目标明确", "要点：", "correct"):
        assert secret not in html and secret not in str(body)
