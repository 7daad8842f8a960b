"""Grading by a person: essays in quiz attempts and assignment submissions, the queue of what waits, and the grade
history (append-only: every grade given or changed, with who, when, the old and the new value).

After a grade, the quizzes announce it (quizzes.events.result_changed) and learning evaluates course completion
again, so a teacher whose last step was a graded essay or assignment completes the course at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from backend.accounts.models import User
from backend.catalogue.models import Course
from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput
from backend.kit.i18n import _
from backend.kit.pagination import Page, clamp_page, page_size
from backend.quizzes import events, service
from backend.quizzes.models import Assignment, Attempt, GradeChange, Question, Quiz, Submission

RESUBMIT = "resubmit"


def _record(
    session: Session, *, item_type: str, item_id: int, question_id: int | None, course_id: int, learner_id: int,
    actor_id: int, old: str | None, new: str, comment: str,
) -> None:
    session.add(
        GradeChange(
            item_type=item_type, item_id=item_id, question_id=question_id, course_id=course_id,
            learner_id=learner_id, actor_id=actor_id, changed_at=clock.now(), old_value=old, new_value=new,
            comment=comment,
        )
    )


def essay_questions(session: Session, attempt: Attempt, quiz: Quiz) -> list[Question]:
    return [q for q in service.questions_of(session, attempt, quiz) if q.kind == "essay"]


def grade_essays(
    session: Session, actor: User, attempt: Attempt, quiz: Quiz, scores: Mapping[int, int | None], comment: str
) -> Attempt:
    """Points for each essay of the attempt (0..the question's points). The caller checked that `actor` may grade
    the course. Regrading a graded attempt is allowed and recorded like the first grade."""
    if attempt.status == "in_progress":
        raise Conflict(_("This attempt has not been submitted yet."))
    essays = essay_questions(session, attempt, quiz)
    if not essays:
        raise Conflict(_("This attempt has nothing to grade by hand."))
    errors: dict[str, str] = {}
    for q in essays:
        value = scores.get(q.id)
        if value is None or not 0 <= value <= q.points:
            errors[f"q{q.id}"] = _("The score must be between 0 and the points shown.")
    if errors:
        raise InvalidInput(_("Please give every essay a score within its points."), fields=errors)
    comment = (comment or "").strip()
    results = {k: dict(v) for k, v in (attempt.results or {}).items()}
    for q in essays:
        old = results.get(str(q.id), {}).get("earned")
        new = scores[q.id]
        if old != new or comment != attempt.feedback:
            _record(
                session, item_type="essay", item_id=attempt.id, question_id=q.id, course_id=quiz.course_id,
                learner_id=attempt.user_id, actor_id=actor.id, old=None if old is None else str(old), new=str(new),
                comment=comment,
            )
        results[str(q.id)] = {"earned": new, "max": q.points}
    attempt.results = results
    attempt.feedback = comment
    attempt.graded_by = actor.id
    attempt.graded_at = clock.now()
    service.recompute(quiz, attempt)
    session.flush()
    if attempt.passed:
        events.result_changed.announce(session, quiz.course_id, attempt.user_id)
    return attempt


def grade_submission(
    session: Session,
    actor: User,
    submission: Submission,
    assignment: Assignment,
    *,
    rubric_scores: Mapping[int, int | None],
    score: int | None,
    feedback: str,
    resubmit: bool,
) -> Submission:
    """A score per rubric item (or one score when the assignment has no rubric) with written feedback; or, with
    `resubmit`, a request for another version (feedback required). Only the teacher's latest submission is graded."""
    latest = session.scalar(
        select(func.max(Submission.number)).where(
            Submission.assignment_id == assignment.id, Submission.user_id == submission.user_id
        )
    )
    if submission.number != latest:
        raise Conflict(_("A newer version of this submission exists; grade that one."))
    feedback = (feedback or "").strip()
    old = RESUBMIT if submission.status == RESUBMIT else (None if submission.score is None else str(submission.score))
    if resubmit:
        if not feedback:
            raise InvalidInput(
                _("Tell the teacher what to change."), fields={"feedback": _("Tell the teacher what to change.")}
            )
        submission.status = RESUBMIT
        submission.score = None
        submission.rubric_scores = None
        new = RESUBMIT
    else:
        errors: dict[str, str] = {}
        if assignment.rubric:
            for item in assignment.rubric:
                value = rubric_scores.get(item.id)
                if value is None or not 0 <= value <= item.points:
                    errors[f"r{item.id}"] = _("The score must be between 0 and the points shown.")
            total = sum(rubric_scores.get(i.id) or 0 for i in assignment.rubric)
        else:
            total = score if score is not None else -1
            if not 0 <= total <= assignment.max_score:
                errors["score"] = _("The score must be between 0 and the points shown.")
        if errors:
            raise InvalidInput(_("Please score every rubric item within its points."), fields=errors)
        submission.status = "graded"
        submission.score = total
        submission.rubric_scores = {str(i.id): rubric_scores.get(i.id) or 0 for i in assignment.rubric} or None
        new = str(total)
    submission.feedback = feedback
    submission.graded_by = actor.id
    submission.graded_at = clock.now()
    _record(
        session, item_type="submission", item_id=submission.id, question_id=None, course_id=assignment.course_id,
        learner_id=submission.user_id, actor_id=actor.id, old=old, new=new, comment=feedback,
    )
    session.flush()
    if not resubmit:
        events.result_changed.announce(session, assignment.course_id, submission.user_id)
    return submission


def history(session: Session, item_type: str, item_id: int) -> list[GradeChange]:
    return list(
        session.scalars(
            select(GradeChange).where(GradeChange.item_type == item_type, GradeChange.item_id == item_id)
            .order_by(GradeChange.changed_at, GradeChange.id)
        )
    )


# --- the queue ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    kind: str  # essay | submission
    id: int  # attempt id | submission id
    waiting_since: datetime
    course: Course
    learner: User
    attempt: Attempt | None = None
    quiz: Quiz | None = None
    submission: Submission | None = None
    assignment: Assignment | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"


def _essay_stmt(course_ids: list[int] | None):  # type: ignore[no-untyped-def]
    stmt = select(Attempt, Quiz).join(Quiz, Quiz.id == Attempt.quiz_id).where(Attempt.status == "awaiting_grading")
    return stmt if course_ids is None else stmt.where(Quiz.course_id.in_(course_ids))


def _submission_stmt(course_ids: list[int] | None):  # type: ignore[no-untyped-def]
    stmt = (
        select(Submission, Assignment)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Submission.status == "submitted")
    )
    return stmt if course_ids is None else stmt.where(Assignment.course_id.in_(course_ids))


def queue(session: Session, course_ids: list[int] | None, *, page: int = 1, size: int | None = None) -> Page[QueueItem]:
    """What waits for a person, oldest first, across the given courses (None: all courses), a page at a time."""
    size = page_size(size)
    if course_ids == []:
        return Page([], 1, size, 0)
    essays_total = session.scalar(select(func.count()).select_from(_essay_stmt(course_ids).subquery())) or 0
    subs_total = session.scalar(select(func.count()).select_from(_submission_stmt(course_ids).subquery())) or 0
    total = essays_total + subs_total
    page = clamp_page(page, total, size)
    upto = page * size
    # The first `upto` of each list, merged by time, hold the page: a page never needs more than that from either.
    essays = session.execute(
        _essay_stmt(course_ids).order_by(Attempt.submitted_at, Attempt.id).limit(upto)
    ).all()
    subs = session.execute(
        _submission_stmt(course_ids).options(selectinload(Assignment.rubric))
        .order_by(Submission.submitted_at, Submission.id).limit(upto)
    ).all()
    rows: list[tuple[datetime, str, int, object, object]] = [
        (a.submitted_at, "essay", a.id, a, q) for a, q in essays
    ] + [(s.submitted_at, "submission", s.id, s, asg) for s, asg in subs]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    window = rows[(page - 1) * size : upto]
    course_ids_needed = {r[4].course_id for r in window}  # type: ignore[attr-defined]
    learner_ids = {r[3].user_id for r in window}  # type: ignore[attr-defined]
    courses = {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(course_ids_needed)))}
    learners = {u.id: u for u in session.scalars(select(User).where(User.id.in_(learner_ids)))}
    items = []
    for when, kind, item_id, record, parent in window:
        course = courses[parent.course_id]  # type: ignore[attr-defined]
        learner = learners[record.user_id]  # type: ignore[attr-defined]
        if kind == "essay":
            items.append(QueueItem(kind, item_id, when, course, learner, attempt=record, quiz=parent))  # type: ignore[arg-type]
        else:
            items.append(
                QueueItem(kind, item_id, when, course, learner, submission=record, assignment=parent)  # type: ignore[arg-type]
            )
    return Page(items, page, size, total)
