"""阅卷: the grading queue across a trainer's courses (district admins: all), graded inline with htmx — each item's
form posts and swaps in the graded row — and as plain forms without JavaScript. Each item also has its own page,
where a grade can be changed later; every change lands in the grade history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from backend.accounts.deps import CurrentUser
from backend.accounts.models import User
from backend.catalogue import service as catalogue
from backend.db import SessionDep
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import is_htmx, redirect, render
from backend.quizzes import access, grading, service
from backend.quizzes import assignments as assignment_rules
from backend.quizzes.models import Attempt, GradeChange
from backend.quizzes.studio_routes import checked, number, text

pages = APIRouter(include_in_schema=False)


@pages.get("/grading")
def grading_queue(request: Request, session: SessionDep, user: CurrentUser, page: int = 1) -> Response:
    course_ids = access.editable_course_ids(session, user)
    queue = grading.queue(session, course_ids, page=page)
    essays = {
        item.id: grading.essay_questions(session, item.attempt, item.quiz)
        for item in queue.items if item.kind == "essay" and item.attempt and item.quiz
    }
    answers = {
        item.id: item.attempt.answers for item in queue.items if item.kind == "essay" and item.attempt
    }
    return render(
        request, "grading/queue.html",
        {"queue": queue, "essays": essays, "answers": answers, "errors": {}, "error_key": None},
        block="queue",
    )


def _history_names(session: SessionDep, rows: list[GradeChange]) -> dict[int, str]:
    ids = {r.actor_id for r in rows}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids or {0})))}


def _attempt_context(session: SessionDep, attempt: Attempt) -> dict[str, Any]:
    quiz = service.get_quiz(session, attempt.quiz_id)
    history = grading.history(session, "essay", attempt.id)
    return {
        "kind": "essay",
        "attempt": attempt,
        "quiz": quiz,
        "course": catalogue.get_course(session, quiz.course_id),
        "learner": session.get(User, attempt.user_id),
        "essays": grading.essay_questions(session, attempt, quiz),
        "answers": attempt.answers,
        "history": history,
        "names": _history_names(session, history),
    }


def _submission_context(session: SessionDep, submission_id: int) -> dict[str, Any]:
    submission = assignment_rules.get_submission(session, submission_id)
    assignment = assignment_rules.get_assignment(session, submission.assignment_id)
    history = grading.history(session, "submission", submission.id)
    return {
        "kind": "submission",
        "submission": submission,
        "assignment": assignment,
        "course": catalogue.get_course(session, assignment.course_id),
        "learner": session.get(User, submission.user_id),
        "history": history,
        "names": _history_names(session, history),
    }


def _errors(request: Request, exc: InvalidInput) -> dict[str, Any]:
    locale = request.state.locale
    return {"errors": {k: translate(locale, v) for k, v in exc.fields.items()},
            "form_error": translate(locale, exc.message, **exc.params)}


def _form_again(request: Request, context: dict[str, Any]) -> Response:
    """A grade that cannot be taken: the form again with its errors. htmx swaps only 2xx answers, so the inline
    form comes back as 200; the plain form page as 422."""
    if is_htmx(request):
        return render(request, "grading/item_form.html", context)
    return render(request, "grading/item.html", context, status=422)


def _graded(request: Request, context: dict[str, Any]) -> Response:
    """htmx: the graded row in place of the form; a plain form: back to the queue."""
    if is_htmx(request):
        return render(request, "grading/graded_row.html", context)
    return redirect(request, "/grading")


def _attempt_or_404(session: SessionDep, attempt_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_("This page does not exist."))
    return attempt


@pages.get("/grading/attempts/{attempt_id}")
def grade_attempt_page(request: Request, attempt_id: int, session: SessionDep, user: CurrentUser) -> Response:
    attempt = _attempt_or_404(session, attempt_id)
    context = _attempt_context(session, attempt)
    access.editable_course(session, user, context["course"].id)
    return render(request, "grading/item.html", context | {"errors": {}})


@pages.post("/grading/attempts/{attempt_id}")
def grade_attempt(
    request: Request, attempt_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    attempt = _attempt_or_404(session, attempt_id)
    context = _attempt_context(session, attempt)
    access.editable_course(session, user, context["course"].id)
    field_errors: dict[str, str] = {}
    scores = {q.id: number(form, f"q{q.id}", field_errors) for q in context["essays"]}
    try:
        if field_errors:
            raise InvalidInput(_("Please give every essay a score within its points."), fields=field_errors)
        grading.grade_essays(session, user, attempt, context["quiz"], scores, text(form, "comment"))
    except InvalidInput as exc:
        status_context = context | _errors(request, exc) | {"values": dict(form)}
        return _form_again(request, status_context)
    return _graded(request, _attempt_context(session, attempt))


@pages.get("/grading/submissions/{submission_id}")
def grade_submission_page(
    request: Request, submission_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    context = _submission_context(session, submission_id)
    access.editable_course(session, user, context["course"].id)
    return render(request, "grading/item.html", context | {"errors": {}})


@pages.post("/grading/submissions/{submission_id}")
def grade_submission(
    request: Request, submission_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    context = _submission_context(session, submission_id)
    access.editable_course(session, user, context["course"].id)
    assignment = context["assignment"]
    field_errors: dict[str, str] = {}
    resubmit = checked(form, "resubmit") or text(form, "action") == "resubmit"
    rubric_scores = {} if resubmit else {
        i.id: number(form, f"r{i.id}", field_errors) for i in assignment.rubric
    }
    score = None if resubmit or assignment.rubric else number(form, "score", field_errors)
    try:
        if field_errors:
            raise InvalidInput(_("Please score every rubric item within its points."), fields=field_errors)
        grading.grade_submission(
            session, user, context["submission"], assignment, rubric_scores=rubric_scores, score=score,
            feedback=text(form, "feedback"), resubmit=resubmit,
        )
    except InvalidInput as exc:
        status_context = context | _errors(request, exc) | {"values": dict(form)}
        return _form_again(request, status_context)
    return _graded(request, _submission_context(session, submission_id))
