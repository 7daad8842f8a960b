"""Each question type is scored right, on the server, and nothing about the answer is shown before submission."""

from __future__ import annotations

import pytest

from backend.quizzes import service
from tests.quizzes.helpers import enrolled_teacher, essay, fill, multiple, owned_course, quiz_with, single, truefalse


@pytest.mark.parametrize(
    ("typed", "right"),
    [
        ("教育部", True),
        ("  教育部　", True),  # spaces around it, a full-width space at the end
        ("ＭＩＮＩＳＴＲＹ  ｏｆ  ｅｄｕｃａｔｉｏｎ", True),  # full-width letters, doubled space, any case
        ("ministry of education", True),
        ("教育局", False),
        ("", False),
    ],
)
def test_fill_in_the_blank_accepts_any_listed_answer_after_normalising(typed: str, right: bool) -> None:
    question = service.build_question(kind="fill", prompt="由____发布", accepted=["教育部", "Ministry of Education"],
                                      points=2)
    assert service.score_question(question, typed) == (2 if right else 0)


def test_every_choice_type_scores_only_the_exact_answer() -> None:
    one = service.build_question(kind="single", prompt="?", options=["a", "b", "c"], answer=[1])
    many = service.build_question(kind="multiple", prompt="?", options=["a", "b", "c"], answer=[0, 2], points=3)
    yes = service.build_question(kind="truefalse", prompt="?", answer=True)
    assert service.score_question(one, [1]) == 1 and service.score_question(one, [0]) == 0
    assert service.score_question(many, [2, 0]) == 3
    assert service.score_question(many, [0]) == 0 and service.score_question(many, [0, 1, 2]) == 0
    assert service.score_question(yes, [0]) == 1 and service.score_question(yes, [1]) == 0
    assert service.score_question(service.build_question(kind="essay", prompt="?"), "文字") is None


def test_a_quiz_of_every_type_is_scored_by_points_over_the_api(client_for, session) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(points=2), multiple(), truefalse(answer=False), fill()], pass_mark=70)
    teacher = enrolled_teacher(session, course)
    web = client_for(teacher)
    one, many, tf, blank = quiz.questions
    answers = {str(one.id): [0], str(many.id): [0, 1], str(tf.id): [1], str(blank.id): " 教育部 "}
    r = web.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": answers})
    assert r.status_code == 201, r.text
    body = r.json()
    # single 2 + multiple 0 (one missing) + true/false 1 + fill 1 = 4 of 5 points
    assert body["score_percent"] == 80 and body["passed"] and body["correct_count"] == 3
    by_id = {q["id"]: q for q in body["questions"]}
    assert by_id[many.id]["is_correct"] is False and by_id[many.id]["correct"] == [0, 1, 3]
    assert by_id[blank.id]["accepted"] == ["教育部", "Ministry of Education"]
    assert by_id[one.id]["explanation"] == "班会由班主任主持。"


def test_the_quiz_page_and_api_never_show_answers_before_submission(client_for, session) -> None:
    course, _trainer = owned_course(session)
    quiz_with(session, course, [single(), fill(accepted=["独一无二的答案"]), essay()])
    web = client_for(enrolled_teacher(session, course))
    html = web.get(f"/courses/{course.id}/quiz").text
    assert 'name="q' in html
    for secret in ("独一无二的答案", "班会由班主任主持", "目标明确", "要点：", "correct"):
        assert secret not in html
    body = web.get(f"/api/v1/courses/{course.id}/quiz").json()
    assert all(set(q) == {"id", "position", "kind", "prompt", "options"} for q in body["questions"])
    assert "独一无二的答案" not in str(body)


def test_the_html_form_takes_text_answers_and_shows_the_result(client_for, session) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single(), fill()])
    web = client_for(enrolled_teacher(session, course))
    one, blank = quiz.questions
    answers = {f"q{one.id}": "0", f"q{blank.id}": "ＭＩＮＩＳＴＲＹ of education"}
    r = web.post(f"/courses/{course.id}/quiz", data=answers, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"]).text
    assert 'id="score">100<' in page and "教育部" in page  # accepted answers shown after submission


def test_explanations_follow_the_quiz_policy(client_for, session) -> None:
    course, _trainer = owned_course(session)
    quiz = quiz_with(session, course, [single()], show_explanations="after_passing", max_attempts=3)
    web = client_for(enrolled_teacher(session, course))
    q = quiz.questions[0]
    failed = web.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": {str(q.id): [2]}}).json()
    assert failed["questions"][0]["correct"] is None and failed["questions"][0]["explanation"] is None
    html = web.get(f"/quiz/attempts/{failed['id']}").text
    assert "班会由班主任主持" not in html
    passed = web.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": {str(q.id): [0]}}).json()
    assert passed["questions"][0]["explanation"] == "班会由班主任主持。"
    # once passed, the earlier attempt shows them too
    assert web.get(f"/api/v1/quiz/attempts/{failed['id']}").json()["questions"][0]["correct"] == [0]

    session.expire_all()
    found = service.quiz_for_course(session, course.id)
    assert found is not None
    found.show_explanations = "never"
    session.flush()
    assert web.get(f"/api/v1/quiz/attempts/{passed['id']}").json()["questions"][0]["explanation"] is None
