"""The trainer's pages as a trainer uses them, with plain forms: a bank, the quiz settings and questions, draws,
an extension, an assignment; and the teacher's pages for fill-in, essay and assignment."""

from __future__ import annotations

import re

from backend.accounts.models import Role
from backend.quizzes import assignments, service
from tests.factories import make_user
from tests.quizzes.helpers import enrolled_teacher, essay, fill, owned_course, publish, quiz_with, reload_quiz, single


def test_a_trainer_builds_a_timed_quiz_with_a_bank_draw_in_the_browser(client_for, session) -> None:
    course, trainer = owned_course(session, status="draft")
    web = client_for(trainer)
    assert 'href="/grading"' in web.get("/studio/banks").text  # the 阅卷 nav item

    r = web.post("/studio/banks", data={"title": "班级管理", "topic": "norms", "course_code": course.code},
                 follow_redirects=False)
    assert r.status_code == 303
    bank_url = r.headers["location"]
    for n in range(3):
        web.post(f"{bank_url}/questions", data={"kind": "truefalse", "prompt": f"判断{n}", "answer": "错误"})
    assert web.get(bank_url).text.count("判断") >= 3
    assert "班级管理" in web.get("/studio/banks").text

    settings = {"title": "结业测验", "pass_mark": "80", "max_attempts": "2", "time_limit_minutes": "15",
                "counting": "last", "show_explanations": "after_passing", "shuffle_options": "1"}
    assert web.post(f"/studio/courses/{course.id}/quiz", data=settings, follow_redirects=False).status_code == 303
    bad = web.post(f"/studio/courses/{course.id}/quiz", data={**settings, "pass_mark": "120"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    web.post(f"/studio/courses/{course.id}/quiz/questions",
             data={"kind": "multiple", "prompt": "多选题", "options": "甲\n乙\n丙", "answer": "AC", "points": "2"})
    bank_id = int(bank_url.rsplit("/", 1)[1])
    web.post(f"/studio/courses/{course.id}/quiz/draws", data={"bank_id": str(bank_id), "count": "2"})
    page = web.get(f"/studio/courses/{course.id}/quiz").text
    assert "多选题" in page and "班级管理" in page and "3" in page

    quiz = reload_quiz(session, course.id)
    assert (quiz.title, quiz.pass_mark, quiz.max_attempts, quiz.time_limit_minutes, quiz.counting,
            quiz.show_explanations, quiz.shuffle_options) == ("结业测验", 80, 2, 15, "last", "after_passing", True)
    assert service.requires_start(quiz) and service.question_count(session, quiz) == 3

    publish(session, course)  # extra time is for a teacher taking the published course
    teacher = enrolled_teacher(session, course)
    no_one = web.post(f"/studio/courses/{course.id}/quiz/extensions", data={"username": "nobody", "minutes": "5"})
    assert no_one.status_code == 422
    r = web.post(f"/studio/courses/{course.id}/quiz/extensions",
                 data={"username": teacher.username, "minutes": "10", "reason": "视力障碍"}, follow_redirects=False)
    assert r.status_code == 303
    assert "视力障碍" in web.get(f"/studio/courses/{course.id}/quiz").text
    assert service.extension_minutes(session, quiz.id, teacher.id) == 10


def test_an_assignment_is_edited_and_the_teacher_finds_it(client_for, session) -> None:
    course, trainer = owned_course(session, status="draft")
    web = client_for(trainer)
    web.post(f"/studio/courses/{course.id}/assignments",
             data={"title": "班会设计方案", "max_score": "100", "pass_score": "60", "required": "1"})
    listing = web.get(f"/studio/courses/{course.id}/assignments").text
    edit_url = "/studio/assignments/" + listing.split('href="/studio/assignments/', 1)[1].split('"', 1)[0]
    assert "班会设计方案" in web.get(edit_url).text
    bad = web.post(edit_url, data={"title": "班会设计方案", "rubric": "主题 | x", "pass_score": "6"})
    assert bad.status_code == 422
    r = web.post(edit_url, data={"title": "主题班会设计", "rubric": "主题明确 | 40\n过程 | 60", "pass_score": "60"},
                 follow_redirects=False)
    assert r.status_code == 303
    assert "主题班会设计" in web.get(f"/studio/courses/{course.id}/assignments").text

    publish(session, course)
    teacher_web = client_for(enrolled_teacher(session, course))
    mine = teacher_web.get(f"/courses/{course.id}/assignments").text
    assert "主题班会设计" in mine
    page = teacher_web.get(edit_url.replace("/studio", "")).text
    assert "主题明确" in page and 'enctype="multipart/form-data"' in page


def test_fill_and_essay_questions_on_the_timed_page_keep_what_was_typed(client_for, session) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [fill(), essay()], time_limit_minutes=30)
    web = client_for(enrolled_teacher(session, course))
    url = web.post(f"/courses/{course.id}/quiz/start", follow_redirects=False).headers["location"]
    blank, text = quiz.questions
    page = web.get(url).text
    assert f'name="q{blank.id}"' in page and "<textarea" in page
    r = web.post(f"{url}/submit", data={f"q{blank.id}": "教 育 部"})
    assert r.status_code == 422 and 'value="教 育 部"' in r.text  # the essay is open; what was typed stays
    r = web.post(f"{url}/submit", data={f"q{blank.id}": "教育部", f"q{text.id}": "我的设计要点"},
                 follow_redirects=False)
    result = web.get(r.headers["location"]).text
    assert re.search(r'id="verdict">\s*[^<]+<', result) and "我的设计要点" in result


def test_the_empty_queue_says_what_comes(client_for, session) -> None:
    html = client_for(make_user(session, Role.trainer)).get("/grading").text
    assert 'class="empty"' in html and 'aria-current="page"' in html


def test_refused_quiz_settings_leave_no_empty_quiz_behind(client_for, session) -> None:
    """A course without a quiz: settings with a wrong pass mark are refused, and no quiz is made on the way."""
    course, trainer = owned_course(session, status="draft")
    web = client_for(trainer)
    bad = web.post(f"/studio/courses/{course.id}/quiz",
                   data={"title": "测验", "pass_mark": "120", "max_attempts": "2"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    assert service.quiz_for_course(session, course.id) is None
    wrong_question = web.post(f"/studio/courses/{course.id}/quiz/questions",
                              data={"kind": "single", "prompt": "单选题", "options": "甲\n乙", "answer": "C"})
    assert wrong_question.status_code == 422
    assert service.quiz_for_course(session, course.id) is None


def test_a_published_courses_quiz_and_assignments_change_only_in_a_new_version(client_for, session) -> None:
    """Teachers are assessed only on questions that went through review: the studio shows a published course's quiz
    and assignments read-only and refuses changes, pointing to a new version; extra time for a teacher still works."""
    course, trainer = owned_course(session)  # published
    quiz = quiz_with(session, course, [single()], time_limit_minutes=20)
    teacher = enrolled_teacher(session, course)
    web = client_for(trainer)

    page = web.get(f"/studio/courses/{course.id}/quiz").text
    assert "只有草稿的测验和作业可以修改" in page
    assert "<fieldset class=\"plain\" disabled>" in page and "/quiz/questions\"" not in page

    before = (quiz.title, quiz.pass_mark, quiz.max_attempts, [q.prompt for q in quiz.questions])
    settings = {"title": "改过的测验", "pass_mark": "10", "max_attempts": "9"}
    refused = [
        web.post(f"/studio/courses/{course.id}/quiz", data=settings),
        web.post(f"/studio/courses/{course.id}/quiz/questions",
                 data={"kind": "truefalse", "prompt": "新加的题", "answer": "对"}),
        web.post(f"/studio/courses/{course.id}/quiz/questions/{quiz.questions[0].id}/delete"),
        web.post(f"/studio/courses/{course.id}/assignments", data={"title": "新作业", "pass_score": "60"}),
    ]
    assert [r.status_code for r in refused] == [409] * 4
    assert "只有草稿可以修改" in refused[0].text
    quiz = reload_quiz(session, course.id)
    assert (quiz.title, quiz.pass_mark, quiz.max_attempts, [q.prompt for q in quiz.questions]) == before
    assert not assignments.assignments_for_course(session, course.id)

    r = web.post(f"/studio/courses/{course.id}/quiz/extensions",
                 data={"username": teacher.username, "minutes": "10", "reason": "视力障碍"}, follow_redirects=False)
    assert r.status_code == 303 and service.extension_minutes(session, quiz.id, teacher.id) == 10
