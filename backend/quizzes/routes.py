"""Taking a course's quiz: the questions, an explicit start for timed or drawn quizzes, saving as you go,
submission, and the result with correct answers and explanations as the quiz's policy allows.

`/courses/{id}/quiz` keeps working as one form for quizzes without a time limit, draws or shuffled options; other
quizzes show a start page there, and the running attempt lives at `/quiz/attempts/{id}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from backend.accounts.deps import CurrentUser
from backend.accounts.models import User
from backend.catalogue.models import Course
from backend.db import SessionDep
from backend.kit import clock
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.numbers import Int, QueryInt
from backend.kit.web import is_htmx, redirect, render
from backend.learning import service as learning
from backend.quizzes import access, events, service
from backend.quizzes.models import CHOICE_KINDS, Attempt, Question, Quiz

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["quizzes"])


def _quiz_of(session: SessionDep, course_id: int) -> Quiz:
    quiz = service.quiz_for_course(session, course_id)
    if quiz is None:
        raise NotFound(_("This course has no quiz."))
    return quiz


def _after_submit(session: SessionDep, attempt: Attempt, course_id: int, user_id: int) -> None:
    if attempt.passed:
        events.result_changed.announce(session, course_id, user_id)


def _submit(session: SessionDep, user_id: int, course_id: int, answers: dict[int, service.Answer]) -> Attempt:
    learning.require_enrollment(session, user_id, course_id)
    quiz = _quiz_of(session, course_id)
    attempt = service.submit_attempt(session, quiz, user_id, answers)
    _after_submit(session, attempt, course_id, user_id)
    return attempt


def answers_from_form(form: FormData, questions: list[Question]) -> dict[int, service.Answer]:
    """Choice questions send option positions (checkboxes repeat the name); fill-in and essays send text."""
    answers: dict[int, service.Answer] = {}
    for q in questions:
        key = f"q{q.id}"
        if key not in form:
            continue
        if q.kind in CHOICE_KINDS:
            answers[q.id] = [int(v) for v in form.getlist(key) if isinstance(v, str) and v.isdigit()]
        else:
            value = form.get(key)
            answers[q.id] = value if isinstance(value, str) else ""
    return answers


def _own_attempt(
    session: SessionDep, user: User, attempt_id: int, *, close: bool = True
) -> tuple[Attempt, Quiz, Course]:
    """The teacher's own attempt (404 for anyone else's); when reading, closed first if its time ran out."""
    attempt = service.get_attempt(session, attempt_id, user.id)
    quiz = service.get_quiz(session, attempt.quiz_id)
    course = learning.visible_course(session, user, quiz.course_id)
    if close:
        service.close_expired(session, quiz, user.id)
    return attempt, quiz, course


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def _take_context(session: SessionDep, quiz: Quiz, attempt: Attempt, course: Course) -> dict[str, object]:
    deadline = service.effective_deadline(session, attempt)
    now = clock.now()
    return {
        "course": course,
        "quiz": quiz,
        "attempt": attempt,
        "questions": service.question_views(session, quiz, attempt),
        "deadline": deadline,
        "deadline_ms": _ms(deadline),
        "now_ms": _ms(now),
        "seconds_left": max(0, int((deadline - now).total_seconds())) if deadline else None,
        "errors": {},
    }


# --- pages --------------------------------------------------------------------------------------------------------


@pages.get("/courses/{course_id}/quiz")
def quiz_page(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = learning.visible_course(session, user, course_id)
    if learning.enrollment_for(session, user.id, course.id) is None:
        return redirect(request, f"/courses/{course.id}")
    quiz = _quiz_of(session, course.id)
    state = service.state_for(session, quiz, user.id)
    if state.running is not None:
        return redirect(request, f"/quiz/attempts/{state.running.id}")
    if service.requires_start(quiz) or state.awaiting is not None:
        return render(
            request,
            "quizzes/start.html",
            {"course": course, "quiz": quiz, "state": state, "count": service.question_count(session, quiz)},
        )
    return render(
        request,
        "quizzes/quiz.html",
        {"course": course, "quiz": quiz, "state": state, "errors": {}, "chosen": {},
         "questions": service.question_views(session, quiz, None, questions=quiz.questions)},
    )


@pages.post("/courses/{course_id}/quiz")
def quiz_submit(request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    course = learning.visible_course(session, user, course_id)
    quiz = _quiz_of(session, course.id)
    answers = answers_from_form(form, list(quiz.questions))
    try:
        attempt = _submit(session, user.id, course.id, answers)
    except InvalidInput as exc:
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
                "questions": service.question_views(session, quiz, None, questions=quiz.questions),
            },
            status=422,
        )
    return redirect(request, f"/quiz/attempts/{attempt.id}")


@pages.post("/courses/{course_id}/quiz/start")
def quiz_start(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = learning.visible_course(session, user, course_id)
    learning.require_enrollment(session, user.id, course.id)
    attempt = service.start_attempt(session, _quiz_of(session, course.id), user.id)
    return redirect(request, f"/quiz/attempts/{attempt.id}")


@pages.get("/quiz/attempts/{attempt_id}")
def attempt_page(request: Request, attempt_id: int, session: SessionDep, user: CurrentUser) -> Response:
    attempt, quiz, course = _own_attempt(session, user, attempt_id)
    if attempt.status == "in_progress":
        return render(request, "quizzes/take.html", _take_context(session, quiz, attempt, course))
    state = learning.course_progress(session, user.id, course)
    quiz_state = service.state_for(session, quiz, user.id)
    reveal = service.reveals_answers(quiz, attempt, quiz_state.passed)
    return render(
        request,
        "quizzes/result.html",
        {"course": course, "quiz": quiz, "attempt": attempt, "state": state, "quiz_state": quiz_state,
         "reveal": reveal, "questions": service.question_views(session, quiz, attempt, reveal=reveal)},
    )


@pages.post("/quiz/attempts/{attempt_id}/answers")
def attempt_save(request: Request, attempt_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    """Saving as you go (htmx on every change); a plain post saves and shows the attempt again."""
    attempt, quiz, course = _own_attempt(session, user, attempt_id, close=False)
    service.save_answers(session, quiz, attempt, answers_from_form(form, service.questions_of(session, attempt, quiz)))
    if is_htmx(request):
        return render(request, "quizzes/take.html", {"saved_at": clock.now()}, block="saved")
    return redirect(request, f"/quiz/attempts/{attempt.id}")


@pages.post("/quiz/attempts/{attempt_id}/submit")
def attempt_submit(
    request: Request, attempt_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    attempt, quiz, course = _own_attempt(session, user, attempt_id, close=False)
    answers = answers_from_form(form, service.questions_of(session, attempt, quiz))
    try:
        service.submit_started(session, quiz, attempt, answers)
    except InvalidInput as exc:
        locale = request.state.locale
        context = _take_context(session, quiz, attempt, course)
        context["errors"] = {k: translate(locale, v) for k, v in exc.fields.items()}
        context["form_error"] = translate(locale, exc.message, **exc.params)
        context["typed"] = answers
        return render(request, "quizzes/take.html", context, status=422)
    _after_submit(session, attempt, course.id, user.id)
    return redirect(request, f"/quiz/attempts/{attempt.id}")


# --- API ----------------------------------------------------------------------------------------------------------


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
    time_limit_minutes: int | None
    requires_start: bool
    questions: list[QuestionOut]


class AttemptIn(BaseModel):
    # Question id → chosen option positions (or a text answer). Keys are text in JSON: parsed, and bounded.
    answers: dict[Annotated[QueryInt, Field(ge=1)], list[Annotated[Int, Field(ge=0)]] | str]


class QuestionResultOut(BaseModel):
    id: int
    kind: str
    options: list[str]
    chosen: list[int] | str | None
    earned: int | None
    points: int
    is_correct: bool | None
    correct: list[int] | None  # shown positions; None while the policy hides them
    accepted: list[str] | None
    explanation: str | None


class AttemptOut(BaseModel):
    id: int
    number: int
    status: str
    score_percent: int
    passed: bool
    correct_count: int
    question_count: int
    attempts_left: int
    course_completed: bool
    questions: list[QuestionResultOut]


class RunningAttemptOut(BaseModel):
    """A started attempt: its questions in the shown order, options shuffled as shown; never the answers."""

    id: int
    number: int
    status: str
    started_at: datetime
    deadline: datetime | None  # including extensions granted so far
    seconds_left: int | None
    questions: list[QuestionOut]
    saved: dict[int, list[int] | str]


class ExtensionIn(BaseModel):
    user_id: Annotated[Int, Field(ge=1)]
    minutes: Int  # 1 to 1440, checked by the service with its own message
    reason: str = ""


class ExtensionOut(BaseModel):
    id: int
    user_id: int
    minutes: int
    total_minutes: int


@api.get("/courses/{course_id}/quiz", response_model=QuizOut)
def get_quiz(course_id: int, session: SessionDep, user: CurrentUser) -> QuizOut:
    course = learning.visible_course(session, user, course_id)
    learning.require_enrollment(session, user.id, course.id)
    quiz = _quiz_of(session, course.id)
    state = service.state_for(session, quiz, user.id)
    start = service.requires_start(quiz)
    return QuizOut(
        id=quiz.id,
        title=quiz.title,
        pass_mark=quiz.pass_mark,
        max_attempts=quiz.max_attempts,
        attempts_used=len(state.attempts),
        passed=state.passed,
        time_limit_minutes=quiz.time_limit_minutes,
        requires_start=start,
        # Quizzes taken through a start show their (drawn, shuffled) questions only in the started attempt.
        questions=[] if start else [
            QuestionOut(id=q.id, position=q.position, kind=q.kind, prompt=q.prompt, options=q.options)
            for q in quiz.questions
        ],
    )


def _attempt_out(session: SessionDep, quiz: Quiz, attempt: Attempt, user_id: int, course_id: int) -> AttemptOut:
    state = service.state_for(session, quiz, user_id)
    reveal = service.reveals_answers(quiz, attempt, state.passed)
    enrollment = learning.enrollment_for(session, user_id, course_id)
    return AttemptOut(
        id=attempt.id,
        number=attempt.number,
        status=attempt.status,
        score_percent=attempt.score_percent,
        passed=attempt.passed,
        correct_count=attempt.correct_count,
        question_count=attempt.question_count,
        attempts_left=state.attempts_left,
        course_completed=bool(enrollment and enrollment.completed_at is not None),
        questions=[
            QuestionResultOut(
                id=v.id, kind=v.kind, options=v.options, chosen=v.chosen, earned=v.earned, points=v.points,
                is_correct=v.is_correct, correct=v.correct, accepted=v.accepted, explanation=v.explanation,
            )
            for v in service.question_views(session, quiz, attempt, reveal=reveal)
        ],
    )


def _running_out(session: SessionDep, quiz: Quiz, attempt: Attempt) -> RunningAttemptOut:
    deadline = service.effective_deadline(session, attempt)
    views = service.question_views(session, quiz, attempt)
    return RunningAttemptOut(
        id=attempt.id,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        deadline=deadline,
        seconds_left=max(0, int((deadline - clock.now()).total_seconds())) if deadline else None,
        questions=[QuestionOut(id=v.id, position=v.number, kind=v.kind, prompt=v.prompt, options=v.options)
                   for v in views],
        saved={v.id: v.chosen for v in views if v.chosen is not None},
    )


@api.post("/courses/{course_id}/quiz/attempts", response_model=AttemptOut, status_code=201)
def submit_quiz(course_id: int, body: AttemptIn, session: SessionDep, user: CurrentUser) -> AttemptOut:
    course = learning.visible_course(session, user, course_id)
    attempt = _submit(session, user.id, course.id, body.answers)
    return _attempt_out(session, _quiz_of(session, course.id), attempt, user.id, course.id)


@api.post("/courses/{course_id}/quiz/start", response_model=RunningAttemptOut, status_code=201)
def start_quiz(course_id: int, session: SessionDep, user: CurrentUser) -> RunningAttemptOut:
    course = learning.visible_course(session, user, course_id)
    learning.require_enrollment(session, user.id, course.id)
    quiz = _quiz_of(session, course.id)
    return _running_out(session, quiz, service.start_attempt(session, quiz, user.id))


@api.get("/quiz/attempts/{attempt_id}", response_model=RunningAttemptOut | AttemptOut)
def get_attempt(attempt_id: int, session: SessionDep, user: CurrentUser) -> RunningAttemptOut | AttemptOut:
    attempt, quiz, course = _own_attempt(session, user, attempt_id)
    if attempt.status == "in_progress":
        return _running_out(session, quiz, attempt)
    return _attempt_out(session, quiz, attempt, user.id, course.id)


@api.put("/quiz/attempts/{attempt_id}/answers", response_model=RunningAttemptOut)
def save_answers(attempt_id: int, body: AttemptIn, session: SessionDep, user: CurrentUser) -> RunningAttemptOut:
    attempt, quiz, _course = _own_attempt(session, user, attempt_id, close=False)
    service.save_answers(session, quiz, attempt, body.answers)
    return _running_out(session, quiz, attempt)


@api.post("/quiz/attempts/{attempt_id}/submit", response_model=AttemptOut)
def submit_started(attempt_id: int, body: AttemptIn, session: SessionDep, user: CurrentUser) -> AttemptOut:
    attempt, quiz, course = _own_attempt(session, user, attempt_id, close=False)
    service.submit_started(session, quiz, attempt, body.answers)
    _after_submit(session, attempt, course.id, user.id)
    return _attempt_out(session, quiz, attempt, user.id, course.id)


@api.post("/courses/{course_id}/quiz/extensions", response_model=ExtensionOut, status_code=201)
def grant_extension(course_id: int, body: ExtensionIn, session: SessionDep, user: CurrentUser) -> ExtensionOut:
    """A trainer gives one teacher extra minutes; a running attempt's deadline moves at once."""
    course = access.editable_course(session, user, course_id)
    quiz = _quiz_of(session, course.id)
    if learning.enrollment_for(session, body.user_id, course.id) is None:
        raise NotFound(_("This teacher is not enrolled in the course."))
    extension = service.grant_extension(session, quiz, body.user_id, body.minutes, user.id, body.reason)
    return ExtensionOut(
        id=extension.id, user_id=body.user_id, minutes=extension.minutes,
        total_minutes=service.extension_minutes(session, quiz.id, body.user_id),
    )
