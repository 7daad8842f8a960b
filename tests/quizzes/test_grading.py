"""Essays wait for a person; the grading queue shows what waits, oldest first, and grades inline with htmx; every
grade change is in the history; completion follows a grade."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.kit.i18n import translate
from backend.learning import service as learning
from backend.quizzes.models import Attempt, GradeChange
from tests.quizzes.helpers import enrolled_teacher, essay, owned_course, quiz_with, single


def test_an_essay_waits_for_grading_then_passes_and_completes_the_course(client_for, session, clock) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(points=2), essay(points=8)], pass_mark=60)
    teacher = enrolled_teacher(session, course)
    web, grader = client_for(teacher), client_for(trainer)
    one, text = quiz.questions
    r = web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                 json={"answers": {str(one.id): [0], str(text.id): "目标明确，以学生为主体，形式多样。"}})
    body = r.json()
    assert body["status"] == "awaiting_grading" and not body["passed"] and body["score_percent"] == 20
    assert not learning.enrollment_for(session, teacher.id, course.id).completed_at
    page = web.get(f"/quiz/attempts/{body['id']}").text
    assert "id=\"verdict\"" in page and "目标明确" not in page.split("id=\"verdict\"")[0]
    # a new attempt must wait for the grade
    again = web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                     json={"answers": {str(one.id): [0], str(text.id): "再答一次"}})
    assert again.status_code == 409

    queue = grader.get("/grading").text
    assert f'id="item-essay-{body["id"]}"' in queue and "以学生为主体" in queue
    clock.advance(60)
    graded = grader.post(f"/grading/attempts/{body['id']}", data={f"q{text.id}": "5", "comment": "要点齐全"},
                         headers={"HX-Request": "true"})
    assert graded.status_code == 200 and "<html" not in graded.text and 'class="grading-form graded"' in graded.text
    assert "70" in graded.text  # (2 + 5) of 10 points
    # The queue's count comes along, out of band, so it is not left stale (issue 18).
    waiting = translate("zh_CN", "%(n)s waiting, oldest first.", n=0)
    assert f'<p class="muted" id="grading-count" hx-swap-oob="true">{waiting}</p>' in graded.text

    result = web.get(f"/api/v1/quiz/attempts/{body['id']}").json()
    assert result["status"] == "graded" and result["passed"] and result["score_percent"] == 70
    assert result["course_completed"]
    assert "要点齐全" in web.get(f"/quiz/attempts/{body['id']}").text  # the trainer's comment


def test_grade_changes_are_recorded_with_who_when_old_and_new(client_for, session, clock) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [essay(points=10)], pass_mark=60)
    teacher = enrolled_teacher(session, course)
    web, grader = client_for(teacher), client_for(trainer)
    q = quiz.questions[0]
    attempt_id = web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                          json={"answers": {str(q.id): "我的回答"}}).json()["id"]
    first = grader.post(f"/grading/attempts/{attempt_id}", data={f"q{q.id}": "4", "comment": "再具体些"},
                        follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/grading"
    clock.advance(20 * 60)  # within the 30-minute idle timeout of the grader's session
    grader.post(f"/grading/attempts/{attempt_id}", data={f"q{q.id}": "7", "comment": "复核后加分"})
    rows = list(session.scalars(select(GradeChange).where(GradeChange.item_id == attempt_id,
                                                          GradeChange.item_type == "essay")
                                .order_by(GradeChange.id)))
    assert [(r.old_value, r.new_value, r.actor_id, r.question_id) for r in rows] == [
        (None, "4", trainer.id, q.id), ("4", "7", trainer.id, q.id)]
    assert rows[1].changed_at > rows[0].changed_at and rows[1].comment == "复核后加分"
    history = grader.get(f"/grading/attempts/{attempt_id}").text
    assert 'id="grade-history"' in history and "复核后加分" in history
    attempt = session.get(Attempt, attempt_id)
    session.refresh(attempt)
    assert attempt.score_percent == 70 and attempt.passed


def test_a_score_out_of_range_is_refused_and_the_form_comes_back(client_for, session) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [essay(points=10)])
    web, grader = client_for(enrolled_teacher(session, course)), client_for(trainer)
    q = quiz.questions[0]
    attempt_id = web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                          json={"answers": {str(q.id): "回答"}}).json()["id"]
    plain = grader.post(f"/grading/attempts/{attempt_id}", data={f"q{q.id}": "11"})
    assert plain.status_code == 422 and 'class="field-error"' in plain.text
    inline = grader.post(f"/grading/attempts/{attempt_id}", data={f"q{q.id}": "x"}, headers={"HX-Request": "true"})
    assert inline.status_code == 200 and "<html" not in inline.text and 'class="field-error"' in inline.text
    assert session.scalar(select(GradeChange.id).where(GradeChange.item_id == attempt_id)) is None


def test_the_queue_lists_oldest_first_across_my_courses_only(client_for, session, clock) -> None:
    course_a, trainer = owned_course(session, title="甲课程")
    course_b, _ = owned_course(session, trainer=trainer, title="乙课程")
    other, _someone = owned_course(session, title="别人的课程")
    ids = []
    for course in (course_b, course_a, other):
        quiz = quiz_with(session, course, [essay()])
        web = client_for(enrolled_teacher(session, course))
        ids.append(web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                            json={"answers": {str(quiz.questions[0].id): "回答"}}).json()["id"])
        clock.advance(60)
    page = client_for(trainer).get("/grading").text
    found = [int(i) for i in re.findall(r'id="item-essay-(\d+)"', page)]
    assert found == ids[:2]  # oldest first; the other trainer's course is not there
    assert "别人的课程" not in page


def test_an_essay_left_empty_when_the_time_ran_out_needs_no_grading(client_for, session, clock) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(), essay()], time_limit_minutes=5, pass_mark=10)
    web = client_for(enrolled_teacher(session, course))
    attempt = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()
    clock.advance(5 * 60 + 10)  # in the grace period: open questions score nothing
    r = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit",
                 json={"answers": {str(quiz.questions[0].id): [0]}})
    assert r.status_code == 200 and r.json()["status"] == "graded" and r.json()["score_percent"] == 9
