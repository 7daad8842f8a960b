"""The teacher's journey over the JSON API, and the errors it gives for bad input."""

from __future__ import annotations

import pytest

from backend.quizzes import service as quizzes
from tests.api.helpers import login
from tests.factories import make_course, make_user, wrong_answers


@pytest.fixture
def teacher(client, session):  # type: ignore[no-untyped-def]
    user = make_user(session)
    token = login(client, user.username)
    client.headers["X-CSRF-Token"] = token
    return user


def test_quiz_api_never_reveals_answers_before_submission(client, session, teacher) -> None:
    course = make_course(session)
    client.post(f"/api/v1/courses/{course.id}/enrollment")
    body = client.get(f"/api/v1/courses/{course.id}/quiz").json()
    assert all(set(q) == {"id", "position", "kind", "prompt", "options"} for q in body["questions"])


def test_failed_attempts_run_out(client, session, teacher) -> None:
    course = make_course(session)
    client.post(f"/api/v1/courses/{course.id}/enrollment")
    quiz = quizzes.quiz_for_course(session, course.id)
    wrong = {str(k): v for k, v in wrong_answers(quiz).items()}
    for left in (2, 1, 0):
        r = client.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": wrong})
        assert r.status_code == 201 and r.json()["attempts_left"] == left and not r.json()["passed"]
    r = client.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": wrong})
    assert r.status_code == 409 and r.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/playbacks/nope/heartbeats", {"seq": -1, "position_ms": 0, "playing": True, "visible": True}, 422),
        ("/api/v1/playbacks/nope/heartbeats", {"seq": "x"}, 422),
        ("/api/v1/playbacks/nope/prompts/abc", None, 404),
        ("/api/v1/playbacks/nope/close", None, 404),
        ("/api/v1/courses/999999/enrollment", None, 404),
        ("/api/v1/lessons/999999/playbacks", {}, 404),
        ("/api/v1/courses/999999/quiz/attempts", {"answers": {}}, 404),
    ],
)
def test_bad_input_gets_a_clear_4xx_json_error(client, teacher, path, body, status) -> None:
    r = client.post(path, json=body) if body is not None else client.post(path)
    assert r.status_code == status
    assert r.json()["detail"]


def test_unanswered_quiz_names_the_missing_questions(client, session, teacher) -> None:
    course = make_course(session)
    client.post(f"/api/v1/courses/{course.id}/enrollment")
    quiz = quizzes.quiz_for_course(session, course.id)
    first = quiz.questions[0]
    r = client.post(f"/api/v1/courses/{course.id}/quiz/attempts", json={"answers": {str(first.id): first.answer}})
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {f"q{q.id}" for q in quiz.questions[1:]}
    assert quizzes.state_for(session, quiz, teacher.id).attempts == []  # nothing half-written


def test_unenrolled_teacher_cannot_start_playback(client, session, teacher) -> None:
    course = make_course(session)
    r = client.post(f"/api/v1/lessons/{course.lessons[0].id}/playbacks", json={})
    assert r.status_code == 403 and r.json()["detail"]


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "storage": "ok"}


def test_openapi_lists_the_learning_api(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/playbacks/{playback_id}/heartbeats" in paths
    assert "/api/v1/courses" in paths
