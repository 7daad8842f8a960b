"""Taking a course's quiz: the questions, submission, and the result with correct answers and explanations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from backend.accounts.deps import CurrentUser
from backend.catalogue.routes import visible_course
from backend.db import SessionDep
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import redirect, render
from backend.learning import service as learning
from backend.policies.service import load_policy
from backend.quizzes import service
from backend.quizzes.models import Attempt, Quiz

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["quizzes"])


def _quiz_of(session: SessionDep, course_id: int) -> Quiz:
    quiz = service.quiz_for_course(session, course_id)
    if quiz is None:
        raise NotFound(_("This course has no quiz."))
    return quiz


def _submit(session: SessionDep, user_id: int, course_id: int, answers: dict[int, list[int]]) -> Attempt:
    enrollment = learning.require_enrollment(session, user_id, course_id)
    quiz = _quiz_of(session, course_id)
    attempt = service.submit_attempt(session, quiz, user_id, answers)
    if attempt.passed:
        learning.evaluate_completion(session, enrollment, load_policy(session))
    return attempt


@pages.get("/courses/{course_id}/quiz")
def quiz_page(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = visible_course(session, user, course_id)
    if learning.enrollment_for(session, user.id, course.id) is None:
        return redirect(request, f"/courses/{course.id}")
    quiz = _quiz_of(session, course.id)
    return render(
        request,
        "quizzes/quiz.html",
        {"course": course, "quiz": quiz, "state": service.state_for(session, quiz, user.id), "errors": {},
         "chosen": {}},
    )


@pages.post("/courses/{course_id}/quiz")
def quiz_submit(request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    course = visible_course(session, user, course_id)
    answers: dict[int, list[int]] = {}
    for key in form:
        if key.startswith("q") and key[1:].isdigit():
            answers[int(key[1:])] = [int(v) for v in form.getlist(key) if isinstance(v, str) and v.isdigit()]
    try:
        attempt = _submit(session, user.id, course.id, answers)
    except InvalidInput as exc:
        quiz = _quiz_of(session, course.id)
        locale = request.state.locale

        return render(
            request,
            "quizzes/quiz.html",
            {
                "course": course,
                "quiz": quiz,
                "state": service.state_for(session, quiz, user.id),
                "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
                "form_error": translate(locale, exc.message, **exc.params),
                "chosen": answers,
            },
            status=422,
        )
    return redirect(request, f"/quiz/attempts/{attempt.id}")


@pages.get("/quiz/attempts/{attempt_id}")
def attempt_page(request: Request, attempt_id: int, session: SessionDep, user: CurrentUser) -> Response:
    attempt = service.get_attempt(session, attempt_id, user.id)
    quiz = service.get_quiz(session, attempt.quiz_id)
    course = visible_course(session, user, quiz.course_id)
    state = learning.course_progress(session, user.id, course)
    return render(
        request,
        "quizzes/result.html",
        {"course": course, "quiz": quiz, "attempt": attempt, "state": state,
         "quiz_state": service.state_for(session, quiz, user.id)},
    )


class QuestionOut(BaseModel):
    id: int
    position: int
    kind: str
    prompt: str
    options: list[str]


class QuizOut(BaseModel):
    id: int
    title: str
    pass_mark: int
    max_attempts: int
    attempts_used: int
    passed: bool
    questions: list[QuestionOut]


class AttemptIn(BaseModel):
    answers: dict[int, list[int]]


class QuestionResultOut(BaseModel):
    id: int
    chosen: list[int]
    correct: list[int]
    is_correct: bool
    explanation: str


class AttemptOut(BaseModel):
    id: int
    number: int
    score_percent: int
    passed: bool
    correct_count: int
    question_count: int
    attempts_left: int
    course_completed: bool
    questions: list[QuestionResultOut]


@api.get("/courses/{course_id}/quiz", response_model=QuizOut)
def get_quiz(course_id: int, session: SessionDep, user: CurrentUser) -> QuizOut:
    course = visible_course(session, user, course_id)
    learning.require_enrollment(session, user.id, course.id)
    quiz = _quiz_of(session, course.id)
    state = service.state_for(session, quiz, user.id)
    return QuizOut(
        id=quiz.id,
        title=quiz.title,
        pass_mark=quiz.pass_mark,
        max_attempts=quiz.max_attempts,
        attempts_used=len(state.attempts),
        passed=state.passed,
        questions=[
            QuestionOut(id=q.id, position=q.position, kind=q.kind, prompt=q.prompt, options=q.options)
            for q in quiz.questions
        ],
    )


@api.post("/courses/{course_id}/quiz/attempts", response_model=AttemptOut, status_code=201)
def submit_quiz(course_id: int, body: AttemptIn, session: SessionDep, user: CurrentUser) -> AttemptOut:
    course = visible_course(session, user, course_id)
    attempt = _submit(session, user.id, course.id, body.answers)
    quiz = _quiz_of(session, course.id)
    enrollment = learning.require_enrollment(session, user.id, course.id)
    return AttemptOut(
        id=attempt.id,
        number=attempt.number,
        score_percent=attempt.score_percent,
        passed=attempt.passed,
        correct_count=attempt.correct_count,
        question_count=attempt.question_count,
        attempts_left=service.state_for(session, quiz, user.id).attempts_left,
        course_completed=enrollment.completed_at is not None,
        questions=[
            QuestionResultOut(
                id=q.id,
                chosen=attempt.answers.get(str(q.id), []),
                correct=q.answer,
                is_correct=attempt.answers.get(str(q.id), []) == q.answer,
                explanation=q.explanation,
            )
            for q in quiz.questions
        ],
    )
