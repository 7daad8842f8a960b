"""阅卷: the grading queue across a trainer's courses (district admins: all), graded inline with htmx — each item's
form posts and swaps in the graded row — and as plain forms without JavaScript. Each item also has its own page,
where a grade can be changed later; every change lands in the grade history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from backend.accounts.deps import CurrentUser
from backend.accounts.models import User
from backend.catalogue import service as catalogue
from backend.db import SessionDep
from backend.kit import lists
from backend.kit.errors import NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _
from backend.kit.web import is_htmx, redirect, render
from backend.quizzes import access, grading, service
from backend.quizzes import assignments as assignment_rules
from backend.quizzes.forms import apply_form, checked, number, require_valid, text
from backend.quizzes.models import Attempt, GradeChange

pages = APIRouter(include_in_schema=False)


@pages.get("/grading")
def grading_queue(request: Request, session: SessionDep, user: CurrentUser, page: str | None = None) -> Response:
    course_ids = access.editable_course_ids(session, user)
    queue = grading.queue(session, course_ids, page=lists.page_number(page))
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
        block="results",
    )


def _history_names(session: SessionDep, rows: list[GradeChange]) -> dict[int, str]:
    ids = {r.actor_id for r in rows}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids or {0})))}


def _item_context(session: SessionDep, kind: str, item_id: int, course_id: int, learner_id: int,
                  **item: Any) -> dict[str, Any]:
    """What the grading templates need of any item: its course, the teacher, and its grade history with names."""
    history = grading.history(session, kind, item_id)
    return {
        "kind": kind,
        "course": catalogue.get_course(session, course_id),
        "learner": session.get(User, learner_id),
        "history": history,
        "names": _history_names(session, history),
    } | item


def _attempt_context(session: SessionDep, attempt: Attempt) -> dict[str, Any]:
    quiz = service.get_quiz(session, attempt.quiz_id)
    return _item_context(
        session, "essay", attempt.id, quiz.course_id, attempt.user_id, attempt=attempt, quiz=quiz,
        essays=grading.essay_questions(session, attempt, quiz), answers=attempt.answers,
    )


def _submission_context(session: SessionDep, submission_id: int) -> dict[str, Any]:
    submission = assignment_rules.get_submission(session, submission_id)
    assignment = assignment_rules.get_assignment(session, submission.assignment_id)
    return _item_context(session, "submission", submission.id, assignment.course_id, submission.user_id,
                         submission=submission, assignment=assignment)


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


def _item_page(request: Request, session: SessionDep, user: User, context: dict[str, Any]) -> Response:
    """An essay or a submission on its own page, for whoever may grade the course it belongs to."""
    access.editable_course(session, user, context["course"].id)
    return render(request, "grading/item.html", context | {"errors": {}})


def _grade(request: Request, session: SessionDep, user: User, form: FormData, context: dict[str, Any],
           change: Callable[[], object], graded: Callable[[], dict[str, Any]]) -> Response:
    """Takes one grade for the item in `context`: refused, nothing is kept and the form comes back with the
    reasons; taken, the graded row (htmx) or the queue."""
    access.editable_course(session, user, context["course"].id)
    return apply_form(
        request, session, change,
        refused=lambda errors: _form_again(request, context | errors | {"values": dict(form)}),
        done=lambda: _graded(request, graded() | {"waiting": _waiting(session, user)}),
    )


def _waiting(session: SessionDep, user: User) -> int:
    """How many items still wait for this person: the queue's count, sent with each graded row (issue 18)."""
    return grading.queue(session, access.editable_course_ids(session, user), size=1).total


@pages.get("/grading/attempts/{attempt_id}")
def grade_attempt_page(request: Request, attempt_id: int, session: SessionDep, user: CurrentUser) -> Response:
    return _item_page(request, session, user, _attempt_context(session, _attempt_or_404(session, attempt_id)))


@pages.post("/grading/attempts/{attempt_id}")
def grade_attempt(
    request: Request, attempt_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    attempt = _attempt_or_404(session, attempt_id)
    context = _attempt_context(session, attempt)

    def change() -> None:
        field_errors: dict[str, str] = {}
        scores = {q.id: number(form, f"q{q.id}", field_errors) for q in context["essays"]}
        require_valid(field_errors, _("Please give every essay a score within its points."))
        grading.grade_essays(session, user, attempt, context["quiz"], scores, text(form, "comment"))

    return _grade(request, session, user, form, context, change, lambda: _attempt_context(session, attempt))


@pages.get("/grading/submissions/{submission_id}")
def grade_submission_page(
    request: Request, submission_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    return _item_page(request, session, user, _submission_context(session, submission_id))


@pages.post("/grading/submissions/{submission_id}")
def grade_submission(
    request: Request, submission_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    context = _submission_context(session, submission_id)
    assignment = context["assignment"]

    def change() -> None:
        field_errors: dict[str, str] = {}
        resubmit = checked(form, "resubmit") or text(form, "action") == "resubmit"
        rubric_scores = {} if resubmit else {
            i.id: number(form, f"r{i.id}", field_errors) for i in assignment.rubric
        }
        score = None if resubmit or assignment.rubric else number(form, "score", field_errors)
        require_valid(field_errors, _("Please score every rubric item within its points."))
        grading.grade_submission(
            session, user, context["submission"], assignment, rubric_scores=rubric_scores, score=score,
            feedback=text(form, "feedback"), resubmit=resubmit,
        )

    return _grade(request, session, user, form, context, change, lambda: _submission_context(session, submission_id))
