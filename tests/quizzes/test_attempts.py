"""Explicitly started attempts: questions drawn from banks, shuffled options that map back on grading, the time
limit the server enforces (with its grace period), extensions that reach a running attempt, and which attempt
counts."""

from __future__ import annotations

import re

from backend.accounts.models import Role
from backend.quizzes import banks, service
from backend.quizzes.models import Attempt
from tests.factories import make_user
from tests.quizzes.helpers import enrolled_teacher, owned_course, quiz_with, reload_quiz, single, truefalse


def _bank_of(session, course, trainer, n: int):  # type: ignore[no-untyped-def]
    bank = banks.create_bank(session, title="班级管理题库", topic="norms", course_code=course.code, actor_id=trainer.id)
    for i in range(n):
        banks.add_question(session, single(prompt=f"题库第{i + 1}题", answer=i % 4), bank=bank)
    return bank


def _right_positions(attempt: dict, session) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """The right answer of each shown question, by the position the teacher saw it (found by option text)."""
    from backend.quizzes.models import Question

    out = {}
    for q in attempt["questions"]:
        stored = session.get(Question, q["id"])
        right_texts = {stored.options[i] for i in stored.answer}
        out[str(q["id"])] = [i for i, text in enumerate(q["options"]) if text in right_texts]
    return out


def test_an_attempt_draws_from_the_bank_and_shuffled_options_map_back(client_for, session) -> None:
    course, trainer = owned_course(session)
    bank = _bank_of(session, course, trainer, 8)
    quiz = quiz_with(session, course, [truefalse()], shuffle_options=True, max_attempts=5)
    banks.add_draw_rule(session, quiz, bank, 3)
    web = client_for(enrolled_teacher(session, course))

    started = web.post(f"/api/v1/courses/{course.id}/quiz/start")
    assert started.status_code == 201, started.text
    attempt = started.json()
    ids = [q["id"] for q in attempt["questions"]]
    assert len(ids) == 4 and ids[0] == quiz.questions[0].id  # the quiz's own question, then three drawn
    bank_ids = {q.id for q in banks.get_bank(session, bank.id).questions}
    assert set(ids[1:]) <= bank_ids and len(set(ids)) == 4
    # starting again resumes the same attempt, same questions and order
    assert web.post(f"/api/v1/courses/{course.id}/quiz/start").json() == attempt

    stored = session.get(Attempt, attempt["id"])
    assert stored is not None and stored.option_orders is not None
    assert set(stored.option_orders) == {str(i) for i in ids[1:]}  # true/false is never shuffled
    right = _right_positions(attempt, session)
    r = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit", json={"answers": right})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["score_percent"] == 100 and result["passed"]
    session.refresh(stored)
    # stored by original option index: each answer is exactly the question's answer
    from backend.quizzes.models import Question

    for qid in ids:
        assert stored.answers[str(qid)] == session.get(Question, qid).answer
    # the result shows the options in the order the teacher saw them, marked by shown position
    for q in result["questions"]:
        assert q["chosen"] == right[str(q["id"])] == q["correct"]


def test_a_wrong_shown_position_is_wrong_even_if_it_was_the_right_original_index(client_for, session) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(answer=0)], shuffle_options=True)
    web = client_for(enrolled_teacher(session, course))
    attempt = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()
    qid = quiz.questions[0].id
    shown = attempt["questions"][0]["options"]
    wrong_position = next(i for i, text in enumerate(shown) if text != "班主任")
    result = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit",
                      json={"answers": {str(qid): [wrong_position]}}).json()
    assert result["score_percent"] == 0
    assert result["questions"][0]["correct"] == [shown.index("班主任")]


def test_a_submission_after_the_deadline_and_grace_is_refused_and_saved_answers_count(
    client_for, session, clock
) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(), truefalse()], time_limit_minutes=10)
    web = client_for(enrolled_teacher(session, course))
    one, tf = quiz.questions
    attempt = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()
    assert attempt["seconds_left"] == 600
    clock.advance(5 * 60)
    saved = web.put(f"/api/v1/quiz/attempts/{attempt['id']}/answers", json={"answers": {str(one.id): [0]}})
    assert saved.status_code == 200 and saved.json()["saved"] == {str(one.id): [0]}

    clock.advance(5 * 60 + 31)  # 31 s past the deadline: beyond the 30 s grace
    late = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit",
                    json={"answers": {str(one.id): [0], str(tf.id): [0]}})
    assert late.status_code == 409 and late.json()["detail"]
    assert web.put(f"/api/v1/quiz/attempts/{attempt['id']}/answers",
                   json={"answers": {str(tf.id): [0]}}).status_code == 409

    # the next read closes it with what was saved in time: question 1 right, question 2 open
    closed = web.get(f"/api/v1/quiz/attempts/{attempt['id']}").json()
    assert closed["status"] == "graded" and closed["score_percent"] == 50 and not closed["passed"]


def test_within_the_grace_period_open_questions_score_nothing_but_the_attempt_counts(
    client_for, session, clock
) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(), truefalse()], time_limit_minutes=1, pass_mark=50)
    web = client_for(enrolled_teacher(session, course))
    attempt = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()
    clock.advance(60 + 29)
    r = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit",
                 json={"answers": {str(quiz.questions[0].id): [0]}})
    assert r.status_code == 200 and r.json()["score_percent"] == 50 and r.json()["passed"]


def test_an_extension_granted_mid_attempt_lets_a_late_submission_through(client_for, session, clock) -> None:
    course, trainer = owned_course(session)
    quiz = quiz_with(session, course, [single()], time_limit_minutes=10)
    teacher = enrolled_teacher(session, course)
    web, trainer_web = client_for(teacher), client_for(trainer)
    attempt = web.post(f"/api/v1/courses/{course.id}/quiz/start").json()
    clock.advance(9 * 60)
    granted = trainer_web.post(f"/api/v1/courses/{course.id}/quiz/extensions",
                               json={"user_id": teacher.id, "minutes": 5, "reason": "网络中断"})
    assert granted.status_code == 201 and granted.json()["total_minutes"] == 5
    running = web.get(f"/api/v1/quiz/attempts/{attempt['id']}").json()
    assert running["status"] == "in_progress" and running["seconds_left"] == 6 * 60

    clock.advance(4 * 60)  # 13 minutes in: late by the original limit, in time with the extension
    r = web.post(f"/api/v1/quiz/attempts/{attempt['id']}/submit",
                 json={"answers": {str(quiz.questions[0].id): [0]}})
    assert r.status_code == 200, r.text
    assert r.json()["passed"]


def test_the_html_flow_starts_shows_the_time_left_saves_and_submits(client_for, session, clock) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(), truefalse()], time_limit_minutes=20)
    web = client_for(enrolled_teacher(session, course))
    intro = web.get(f"/courses/{course.id}/quiz")
    assert intro.status_code == 200 and f'action="/courses/{course.id}/quiz/start"' in intro.text
    started = web.post(f"/courses/{course.id}/quiz/start", follow_redirects=False)
    assert started.status_code == 303
    url = started.headers["location"]
    page = web.get(url).text
    assert 'id="time-left">20:00<' in page and "quiz-timer.js" in page and "<script>" not in page
    assert web.get(f"/courses/{course.id}/quiz", follow_redirects=False).headers["location"] == url

    one, tf = quiz.questions
    saved = web.post(f"{url}/answers", data={f"q{one.id}": "0"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "<html" not in saved.text
    clock.advance(60)
    page = web.get(url).text
    assert 'id="time-left">19:00<' in page
    assert re.search(rf'name="q{one.id}" value="0"\s+checked', page)  # the saved answer is kept

    missing = web.post(f"{url}/submit", data={})
    assert missing.status_code == 422  # before the deadline every question must be answered
    done = web.post(f"{url}/submit", data={f"q{tf.id}": "0"}, follow_redirects=False)
    assert done.status_code == 303
    assert 'id="score">100<' in web.get(url).text


def test_highest_or_last_attempt_counts(client_for, session) -> None:
    for counting, expected in (("highest", 67), ("last", 33)):
        course, _trainer = owned_course(session)
        quiz = quiz_with(session, course, [single(), single(prompt="第二题"), truefalse()],
                         counting=counting, pass_mark=100)
        teacher = enrolled_teacher(session, course)
        web = client_for(teacher)
        a, b, c = (q.id for q in quiz.questions)
        for answers in ({a: [0], b: [0], c: [1]}, {a: [0], b: [1], c: [1]}):  # 2 of 3, then 1 of 3
            r = web.post(f"/api/v1/courses/{course.id}/quiz/attempts",
                         json={"answers": {str(k): v for k, v in answers.items()}})
            assert r.status_code == 201
        state = service.state_for(session, reload_quiz(session, course.id), teacher.id)
        assert state.counted_score == expected and not state.passed


def test_the_last_attempt_decides_the_pass_when_it_counts(session) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single()], counting="last", pass_mark=100)
    teacher = make_user(session, Role.teacher)
    assert service.counted_attempt([], "last") is None
    failed = service.submit_attempt(session, quiz, teacher.id, {quiz.questions[0].id: [1]})
    assert not service.has_passed(session, quiz.id, teacher.id)
    service.submit_attempt(session, quiz, teacher.id, {quiz.questions[0].id: [0]})
    assert service.has_passed(session, quiz.id, teacher.id)
    assert service.counted_attempt([failed], "highest") is failed
