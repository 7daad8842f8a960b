"""Quiz rules: attempts, time limits, scoring, pass marks. Answers are checked only here, on the server.

Two ways to take a quiz:
- all at once (`submit_attempt`): the form on /courses/{id}/quiz, for quizzes without a time limit, draws or
  shuffled options. The attempt is written when it is submitted.
- explicitly started (`start_attempt`, then `save_answers` / `submit_started`): the attempt is written at the start
  with its drawn questions and option order, and a deadline when the quiz is timed. The server checks the deadline
  at submission time as base deadline + extensions granted so far + GRACE_SECONDS; an attempt whose time ran out is
  closed with the answers saved before it (`close_expired`, run whenever a teacher's attempts are read).

Answers arrive by *shown* option position and are stored by original option index, so grading and analytics never
depend on the order a teacher saw. A passed quiz is closed; `Quiz.counting` picks which graded attempt is the one
on record (highest score or last), which also decides the pass.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.quizzes import events
from backend.quizzes.assignments import assignment_passed as assignment_passed  # learning's completion hook
from backend.quizzes.models import (
    CHOICE_KINDS,
    QUESTION_KINDS,
    Attempt,
    DrawRule,
    Question,
    QuestionBank,
    Quiz,
    QuizExtension,
)
from backend.quizzes.repository import load_fresh

TRUE_FALSE_OPTIONS = ["正确", "错误"]
# Issue 4 (time limits enforced by the server): a submission this long after the deadline still counts, so a
# teacher who pressed submit as the clock ran out on a slow phone connection does not lose the attempt.
GRACE_SECONDS = 30
COUNTING = ("highest", "last")
EXPLANATION_POLICIES = ("always", "after_passing", "never")
SHUFFLED_KINDS = ("single", "multiple")
MAX_OPTIONS = 6  # A–F, the Excel layout's columns

_random = random.SystemRandom()

Answer = list[int] | str


class QuestionLike(Protocol):
    kind: str
    prompt: str
    options: list[str]
    answer: list[int] | bool
    explanation: str


class QuizLike(Protocol):
    title: str
    pass_mark: int
    max_attempts: int
    questions: list  # list[QuestionLike]


# --- questions ------------------------------------------------------------------------------------------------


def normalize_blank(text: str) -> str:
    """How fill-in answers are compared: NFKC (full-width → half-width), trimmed, inner spaces collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def build_question(
    *,
    kind: str,
    prompt: str,
    options: Sequence[str] = (),
    answer: Sequence[int] | bool = (),
    accepted: Sequence[str] = (),
    explanation: str = "",
    points: int = 1,
    position: int = 0,
) -> Question:
    """A checked, unsaved question. Raises InvalidInput naming the field that is wrong."""
    errors: dict[str, str] = {}
    prompt = (prompt or "").strip()
    options = [o.strip() for o in options if o and o.strip()]
    if kind not in QUESTION_KINDS:
        errors["kind"] = _("Unknown question type.")
    if not prompt:
        errors["prompt"] = _("Please write the question.")
    if not 1 <= points <= 100:
        errors["points"] = _("Points must be a whole number from 1 to 100.")
    stored_options: list[str] = []
    stored_answer: list[int] = []
    stored_accepted: list[str] = []
    if kind == "truefalse":
        stored_options = list(TRUE_FALSE_OPTIONS)
        if isinstance(answer, bool):
            stored_answer = [0 if answer else 1]
        elif len(set(answer)) == 1 and set(answer) <= {0, 1}:
            stored_answer = [answer[0]]
        else:
            errors["answer"] = _("A true/false answer is either true or false.")
    elif kind in ("single", "multiple"):
        stored_options = options
        picked = sorted(set(answer)) if not isinstance(answer, bool) else []
        if not 2 <= len(options) <= MAX_OPTIONS:
            errors["options"] = _("A choice question needs 2 to 6 options.")
        elif not picked or any(not 0 <= i < len(options) for i in picked):
            errors["answer"] = _("The answer must name one or more of the options.")
        elif kind == "single" and len(picked) != 1:
            errors["answer"] = _("A single-choice question has exactly one answer.")
        stored_answer = picked
    elif kind == "fill":
        stored_accepted = [a.strip() for a in accepted if a and a.strip()]
        if not stored_accepted:
            errors["answer"] = _("A fill-in question needs at least one accepted answer.")
    elif kind == "essay":
        stored_accepted = [a.strip() for a in accepted if a and a.strip()]  # a reference answer for graders
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return Question(
        position=position,
        kind=kind,
        prompt=prompt,
        options=stored_options,
        answer=stored_answer,
        accepted=stored_accepted,
        explanation=(explanation or "").strip(),
        points=points,
    )


def create_quiz(session: Session, course_id: int, spec: QuizLike) -> Quiz:
    """A quiz from a spec (course.toml, a factory, or a quiz being copied to a new course version). Settings beyond
    title, pass mark and attempts, and draw rules, are copied when the spec has them."""
    quiz = Quiz(course_id=course_id, title=spec.title, pass_mark=spec.pass_mark, max_attempts=spec.max_attempts)
    for setting in ("time_limit_minutes", "counting", "show_explanations", "shuffle_options"):
        value = getattr(spec, setting, None)
        if value is not None:
            setattr(quiz, setting, value)
    quiz.questions = []
    quiz.draw_rules = [DrawRule(bank_id=r.bank_id, count=r.count) for r in getattr(spec, "draw_rules", None) or []]
    for position, q in enumerate(spec.questions, start=1):
        answer = q.answer if q.kind != "truefalse" else bool(q.answer)
        quiz.questions.append(
            build_question(
                kind=q.kind,
                prompt=q.prompt,
                options=list(q.options or []),
                answer=answer if q.kind not in ("fill", "essay") else (),
                accepted=list(getattr(q, "accepted", None) or []),
                explanation=q.explanation,
                points=getattr(q, "points", None) or 1,
                position=position,
            )
        )
    session.add(quiz)
    session.flush()
    return quiz


def remove_quiz(session: Session, course_id: int) -> None:
    quiz_id = session.scalar(select(Quiz.id).where(Quiz.course_id == course_id))
    if quiz_id is not None:
        if session.scalar(select(func.count()).select_from(Attempt).where(Attempt.quiz_id == quiz_id)):
            raise Conflict(_("This quiz already has attempts and cannot be replaced."))
        session.execute(delete(Question).where(Question.quiz_id == quiz_id))
        session.execute(delete(DrawRule).where(DrawRule.quiz_id == quiz_id))
        session.execute(delete(Quiz).where(Quiz.id == quiz_id))


def quiz_for_course(session: Session, course_id: int) -> Quiz | None:
    return session.scalar(
        select(Quiz)
        .where(Quiz.course_id == course_id)
        .options(selectinload(Quiz.questions), selectinload(Quiz.draw_rules))
    )


def get_quiz(session: Session, quiz_id: int) -> Quiz:
    return load_fresh(session, Quiz, quiz_id, (Quiz.questions, Quiz.draw_rules), _("This quiz does not exist."))


def requires_start(quiz: Quiz) -> bool:
    """Whether the quiz is taken through an explicit start (timed, drawn from banks, or shuffled)."""
    return bool(quiz.time_limit_minutes or quiz.draw_rules or quiz.shuffle_options)


def question_count(session: Session, quiz: Quiz) -> int:
    """Questions an attempt shows: the quiz's own plus what its draw rules take (at most what each bank has)."""
    drawn = 0
    for rule in quiz.draw_rules:
        available = session.scalar(
            select(func.count()).select_from(Question).where(Question.bank_id == rule.bank_id)
        ) or 0
        drawn += min(rule.count, available)
    return len(quiz.questions) + drawn


# --- attempts: reading ------------------------------------------------------------------------------------------


def attempts_of(session: Session, quiz_id: int, user_id: int) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt).where(Attempt.quiz_id == quiz_id, Attempt.user_id == user_id).order_by(Attempt.number)
        )
    )


def counted_attempt(attempts: Sequence[Attempt], counting: str) -> Attempt | None:
    """The graded attempt on record: the highest score (the earlier on a tie), or the last one graded."""
    graded = [a for a in attempts if a.status == "graded"]
    if not graded:
        return None
    if counting == "last":
        return max(graded, key=lambda a: a.number)
    return max(graded, key=lambda a: (a.score_percent, -a.number))


def has_passed(session: Session, quiz_id: int, user_id: int) -> bool:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        return False
    counted = counted_attempt(attempts_of(session, quiz_id, user_id), quiz.counting)
    return bool(counted and counted.passed)


@dataclass(frozen=True)
class QuizState:
    attempts: list[Attempt]
    passed: bool
    attempts_left: int
    counted: Attempt | None = None
    running: Attempt | None = None
    awaiting: Attempt | None = None

    @property
    def best_score(self) -> int | None:
        return max((a.score_percent for a in self.attempts if a.status == "graded"), default=None)

    @property
    def counted_score(self) -> int | None:
        return self.counted.score_percent if self.counted else None


def state_for(session: Session, quiz: Quiz, user_id: int) -> QuizState:
    """The teacher's standing on a quiz. Closes an attempt whose time ran out first (see `close_expired`)."""
    close_expired(session, quiz, user_id)
    attempts = attempts_of(session, quiz.id, user_id)
    counted = counted_attempt(attempts, quiz.counting)
    return QuizState(
        attempts=attempts,
        passed=bool(counted and counted.passed),
        attempts_left=max(0, quiz.max_attempts - len(attempts)),
        counted=counted,
        running=next((a for a in attempts if a.status == "in_progress"), None),
        awaiting=next((a for a in attempts if a.status == "awaiting_grading"), None),
    )


def get_attempt(session: Session, attempt_id: int, user_id: int) -> Attempt:
    """A teacher's own attempt; anyone else's is 'not found', so attempt ids reveal nothing."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        raise NotFound(_("This attempt does not exist."))
    return attempt


def questions_of(session: Session, attempt: Attempt, quiz: Quiz) -> list[Question]:
    """The questions the attempt showed, in the order shown (a question deleted since is left out)."""
    if attempt.question_ids is None:
        return list(quiz.questions)
    by_id = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))}
    return [by_id[i] for i in attempt.question_ids if i in by_id]


def shown_order(attempt: Attempt | None, question: Question) -> list[int]:
    """Original option indices in the order the attempt showed them."""
    if attempt is not None and attempt.option_orders and str(question.id) in attempt.option_orders:
        return list(attempt.option_orders[str(question.id)])
    return list(range(len(question.options)))


def reveals_answers(quiz: Quiz, attempt: Attempt, passed: bool) -> bool:
    """Correct answers and explanations, after submission only, as the quiz's policy says."""
    if attempt.status == "in_progress":
        return False
    if quiz.show_explanations == "never":
        return False
    if quiz.show_explanations == "after_passing":
        return passed
    return True


# --- time -------------------------------------------------------------------------------------------------------


def extension_minutes(session: Session, quiz_id: int, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(QuizExtension.minutes), 0)).where(
                QuizExtension.quiz_id == quiz_id, QuizExtension.user_id == user_id
            )
        )
        or 0
    )


def effective_deadline(session: Session, attempt: Attempt) -> datetime | None:
    """The deadline now: the one set at the start plus every extension granted so far (also mid-attempt)."""
    if attempt.deadline is None:
        return None
    return attempt.deadline + timedelta(minutes=extension_minutes(session, attempt.quiz_id, attempt.user_id))


def grant_extension(
    session: Session, quiz: Quiz, user_id: int, minutes: int, actor_id: int, reason: str = ""
) -> QuizExtension:
    """Extra minutes for one teacher on a timed quiz. The caller has checked that the actor may edit the course."""
    if not quiz.time_limit_minutes:
        raise Conflict(_("This quiz has no time limit to extend."))
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInput(_("Extra time must be 1 to 1440 minutes."), fields={"minutes": _("1 to 1440 minutes")})
    extension = QuizExtension(
        quiz_id=quiz.id, user_id=user_id, minutes=minutes, granted_by=actor_id, granted_at=clock.now(),
        reason=(reason or "").strip()[:200],
    )
    session.add(extension)
    session.flush()
    return extension


def _time_over(session: Session, attempt: Attempt, now: datetime) -> bool:
    deadline = effective_deadline(session, attempt)
    return deadline is not None and now > deadline + timedelta(seconds=GRACE_SECONDS)


def close_expired(session: Session, quiz: Quiz, user_id: int) -> list[Attempt]:
    """Submits, with the answers saved in time, any running attempt whose deadline (plus grace) has passed."""
    now = clock.now()
    closed = []
    for attempt in session.scalars(
        select(Attempt).where(
            Attempt.quiz_id == quiz.id, Attempt.user_id == user_id, Attempt.status == "in_progress",
            Attempt.deadline.is_not(None),
        )
    ):
        if _time_over(session, attempt, now):
            deadline = effective_deadline(session, attempt)
            _finalize(session, quiz, attempt, questions_of(session, attempt, quiz), dict(attempt.answers), deadline)
            closed.append(attempt)
    if any(a.passed for a in closed):
        events.result_changed.announce(session, quiz.course_id, user_id)
    return closed


# --- attempts: writing ------------------------------------------------------------------------------------------


def _check_may_attempt(state: QuizState) -> None:
    if state.passed:
        raise Conflict(_("You have already passed this quiz."))
    if state.awaiting is not None:
        raise Conflict(_("Your last attempt is waiting for a trainer to grade it."))
    if state.attempts_left <= 0:
        raise Conflict(_("You have used all attempts for this quiz."))


def _draw(session: Session, quiz: Quiz) -> list[Question]:
    own = list(quiz.questions)
    drawn: list[Question] = []
    taken = {q.id for q in own}
    for rule in quiz.draw_rules:
        bank = session.scalars(select(Question).where(Question.bank_id == rule.bank_id))
        pool = [q for q in bank if q.id not in taken]
        picked = _random.sample(pool, min(rule.count, len(pool)))
        taken.update(q.id for q in picked)
        drawn.extend(picked)
    _random.shuffle(drawn)
    return own + drawn


def start_attempt(session: Session, quiz: Quiz, user_id: int) -> Attempt:
    """Creates the attempt with its questions and option order; a running attempt is returned as it is."""
    state = state_for(session, quiz, user_id)
    if state.running is not None:
        return state.running
    _check_may_attempt(state)
    questions = _draw(session, quiz)
    if not questions:
        raise Conflict(_("This quiz has no questions yet."))
    orders: dict[str, list[int]] = {}
    if quiz.shuffle_options:
        for q in questions:
            if q.kind in SHUFFLED_KINDS:
                order = list(range(len(q.options)))
                _random.shuffle(order)
                orders[str(q.id)] = order
    now = clock.now()
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user_id,
        number=len(state.attempts) + 1,
        started_at=now,
        deadline=now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None,
        status="in_progress",
        question_ids=[q.id for q in questions],
        option_orders=orders or None,
        answers={},
        correct_count=0,
        question_count=len(questions),
        points=0,
        max_points=sum(q.points for q in questions),
        score_percent=0,
        passed=False,
    )
    session.add(attempt)
    session.flush()
    return attempt


def _read_answers(
    questions: Sequence[Question], attempt: Attempt | None, given: Mapping[int, Answer], *, require_all: bool
) -> dict[str, Any]:
    """Given answers (by shown position) → stored answers (by original index). Raises InvalidInput naming the
    questions that are open or impossible when `require_all`; otherwise drops what cannot be read."""
    stored: dict[str, Any] = {}
    errors: dict[str, str] = {}
    open_numbers: list[str] = []
    for number, question in enumerate(questions, start=1):
        field = f"q{question.id}"
        raw = given.get(question.id)
        if question.kind in CHOICE_KINDS:
            positions = sorted(set(raw)) if isinstance(raw, list) else []
            order = shown_order(attempt, question)
            if not positions:
                if require_all:
                    errors[field] = _("Please answer this question.")
                    open_numbers.append(str(number))
                continue
            if any(not 0 <= p < len(order) for p in positions) or (question.kind != "multiple" and len(positions) != 1):
                if require_all:
                    errors[field] = _("This answer is not one of the options.")
                    open_numbers.append(str(number))
                continue
            stored[str(question.id)] = sorted(order[p] for p in positions)
        else:
            text = raw.strip() if isinstance(raw, str) else ""
            if not text:
                if require_all:
                    errors[field] = _("Please answer this question.")
                    open_numbers.append(str(number))
                continue
            stored[str(question.id)] = text[:20_000]
    if errors:
        raise InvalidInput(
            _("Please answer every question before submitting. Still open: question %(numbers)s."),
            fields=errors,
            numbers=", ".join(open_numbers),
        )
    return stored


def score_question(question: Question, stored: Any) -> int | None:
    """Points earned for a stored answer; None for an essay a person must grade (an essay left empty when the
    time ran out scores nothing, with nothing to grade)."""
    if stored is None:
        return 0
    if question.kind == "essay":
        return None
    if question.kind == "fill":
        accepted = {normalize_blank(a) for a in question.accepted}
        return question.points if isinstance(stored, str) and normalize_blank(stored) in accepted else 0
    return question.points if isinstance(stored, list) and sorted(stored) == sorted(question.answer) else 0


def recompute(quiz: Quiz, attempt: Attempt) -> None:
    """Totals, status and pass from `attempt.results` (after scoring or a person's grading)."""
    results = attempt.results or {}
    attempt.points = sum(r["earned"] or 0 for r in results.values())
    attempt.max_points = sum(r["max"] for r in results.values())
    attempt.correct_count = sum(1 for r in results.values() if r["earned"] is not None and r["earned"] == r["max"])
    attempt.question_count = len(results)
    attempt.score_percent = round(100 * attempt.points / attempt.max_points) if attempt.max_points else 0
    waiting = any(r["earned"] is None for r in results.values())
    attempt.status = "awaiting_grading" if waiting else "graded"
    attempt.passed = not waiting and attempt.score_percent >= quiz.pass_mark


def _finalize(
    session: Session,
    quiz: Quiz,
    attempt: Attempt,
    questions: Sequence[Question],
    stored: dict[str, Any],
    submitted_at: datetime | None = None,
) -> Attempt:
    attempt.answers = stored
    attempt.results = {
        str(q.id): {"earned": score_question(q, stored.get(str(q.id))), "max": q.points} for q in questions
    }
    attempt.submitted_at = submitted_at or clock.now()
    recompute(quiz, attempt)
    session.flush()
    return attempt


def submit_attempt(session: Session, quiz: Quiz, user_id: int, answers: Mapping[int, Answer]) -> Attempt:
    """All at once: scores a complete set of answers for the quiz's own questions (no start, no clock)."""
    state = state_for(session, quiz, user_id)
    if state.running is not None or requires_start(quiz):
        raise Conflict(_("Start the quiz first; it is taken one attempt at a time."))
    _check_may_attempt(state)
    questions = list(quiz.questions)
    stored = _read_answers(questions, None, answers, require_all=True)
    now = clock.now()
    attempt = Attempt(
        quiz_id=quiz.id, user_id=user_id, number=len(state.attempts) + 1, started_at=now, deadline=None,
        status="in_progress", question_ids=[q.id for q in questions], option_orders=None, answers={},
        correct_count=0, question_count=len(questions), score_percent=0, passed=False,
    )
    session.add(attempt)
    return _finalize(session, quiz, attempt, questions, stored, now)


def _running(session: Session, quiz: Quiz, attempt: Attempt) -> None:
    if attempt.status != "in_progress":
        raise Conflict(_("This attempt has already been submitted."))
    if _time_over(session, attempt, clock.now()):
        raise Conflict(
            _("The time for this attempt is over. It was submitted with the answers saved before the deadline.")
        )


def save_answers(session: Session, quiz: Quiz, attempt: Attempt, answers: Mapping[int, Answer]) -> Attempt:
    """Keeps what the teacher has answered so far (merged over earlier saves); refused once the time is over."""
    _running(session, quiz, attempt)
    questions = questions_of(session, attempt, quiz)
    asked = {q.id for q in questions}
    stored = dict(attempt.answers)
    for qid in [k for k in answers if k in asked]:
        stored.pop(str(qid), None)
    stored.update(_read_answers(questions, attempt, answers, require_all=False))
    attempt.answers = stored
    session.flush()
    return attempt


def submit_started(session: Session, quiz: Quiz, attempt: Attempt, answers: Mapping[int, Answer]) -> Attempt:
    """Submits a started attempt. Before the deadline every question must be answered; after it (within the grace
    period) open questions score nothing. Later than that the submission is refused."""
    _running(session, quiz, attempt)
    questions = questions_of(session, attempt, quiz)
    deadline = effective_deadline(session, attempt)
    time_up = deadline is not None and clock.now() >= deadline
    saved = {int(k): v for k, v in _shown_answers(questions, attempt).items()}
    merged: dict[int, Answer] = {**saved, **{k: v for k, v in answers.items() if v not in ([], "")}}
    stored = _read_answers(questions, attempt, merged, require_all=not time_up)
    return _finalize(session, quiz, attempt, questions, stored)


def _shown_answers(questions: Sequence[Question], attempt: Attempt) -> dict[int, Answer]:
    """Saved answers expressed by shown position again (the inverse of `_read_answers`)."""
    shown: dict[int, Answer] = {}
    for q in questions:
        value = attempt.answers.get(str(q.id))
        if value is None:
            continue
        if q.kind in CHOICE_KINDS:
            order = shown_order(attempt, q)
            shown[q.id] = sorted(order.index(i) for i in value if i in order)
        else:
            shown[q.id] = value
    return shown


def quiz_bank_titles(session: Session, quiz: Quiz) -> dict[int, str]:
    ids = [r.bank_id for r in quiz.draw_rules]
    if not ids:
        return {}
    return {b.id: b.title for b in session.scalars(select(QuestionBank).where(QuestionBank.id.in_(ids)))}


def draw_banks(session: Session, quiz: Quiz) -> list[tuple[QuestionBank, int]]:
    """The banks the quiz draws from, each with how many questions an attempt draws, in rule order."""
    if not quiz.draw_rules:
        return []
    ids = [r.bank_id for r in quiz.draw_rules]
    found = {b.id: b for b in session.scalars(select(QuestionBank).where(QuestionBank.id.in_(ids)))}
    return [(found[r.bank_id], r.count) for r in quiz.draw_rules if r.bank_id in found]


# --- what a teacher is shown --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionView:
    """One question as the attempt shows it: options in the shown order, answers by shown position. `correct`,
    `accepted` and `explanation` are filled only when the answers may be revealed (after submission, by policy)."""

    id: int
    number: int
    kind: str
    prompt: str
    options: list[str]
    points: int
    chosen: list[int] | str | None = None
    earned: int | None = None
    is_correct: bool | None = None
    correct: list[int] | None = None
    accepted: list[str] | None = None
    explanation: str | None = None


def question_views(
    session: Session, quiz: Quiz, attempt: Attempt | None, *, reveal: bool = False, questions: Sequence[Question] = ()
) -> list[QuestionView]:
    """What the teacher sees. Before submission (`reveal` False) nothing about the right answer is included."""
    shown = list(questions) if attempt is None else questions_of(session, attempt, quiz)
    saved = _shown_answers(shown, attempt) if attempt is not None else {}
    results = (attempt.results or {}) if attempt is not None else {}
    submitted = attempt is not None and attempt.status != "in_progress"
    views = []
    for number, q in enumerate(shown, start=1):
        order = shown_order(attempt, q)
        result = results.get(str(q.id)) if submitted else None
        if submitted and result is None and attempt is not None:  # attempts from before results were stored
            earned = score_question(q, attempt.answers.get(str(q.id)))
            result = {"earned": earned, "max": q.points}
        earned = result.get("earned") if result else None
        views.append(
            QuestionView(
                id=q.id,
                number=number,
                kind=q.kind,
                prompt=q.prompt,
                options=[q.options[i] for i in order],
                points=q.points,
                chosen=saved.get(q.id),
                earned=earned,
                is_correct=(earned == q.points) if submitted and q.kind != "essay" else None,
                correct=sorted(order.index(i) for i in q.answer if i in order) if reveal and q.kind in CHOICE_KINDS
                else None,
                accepted=list(q.accepted) if reveal and q.kind == "fill" else None,  # essays: graders only
                explanation=q.explanation if reveal else None,
            )
        )
    return views
