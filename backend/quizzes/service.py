"""Quiz rules: attempt limits, scoring, pass marks. Answers are checked only here, on the server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.quizzes.models import Attempt, Question, Quiz

TRUE_FALSE_OPTIONS = ["正确", "错误"]


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


def create_quiz(session: Session, course_id: int, spec: QuizLike) -> Quiz:
    quiz = Quiz(course_id=course_id, title=spec.title, pass_mark=spec.pass_mark, max_attempts=spec.max_attempts)
    quiz.questions = []
    for position, q in enumerate(spec.questions, start=1):
        if q.kind == "truefalse":
            options, answer = TRUE_FALSE_OPTIONS, [0 if q.answer else 1]
        else:
            options, answer = list(q.options), sorted(set(q.answer))  # type: ignore[arg-type]
        quiz.questions.append(
            Question(
                position=position,
                kind=q.kind,
                prompt=q.prompt,
                options=options,
                answer=answer,
                explanation=q.explanation,
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
        session.execute(delete(Quiz).where(Quiz.id == quiz_id))


def quiz_for_course(session: Session, course_id: int) -> Quiz | None:
    return session.scalar(
        select(Quiz).where(Quiz.course_id == course_id).options(selectinload(Quiz.questions))
    )


def get_quiz(session: Session, quiz_id: int) -> Quiz:
    quiz = session.get(Quiz, quiz_id, options=[selectinload(Quiz.questions)])
    if quiz is None:
        raise NotFound(_("This quiz does not exist."))
    return quiz


def attempts_of(session: Session, quiz_id: int, user_id: int) -> list[Attempt]:
    return list(
        session.scalars(
            select(Attempt).where(Attempt.quiz_id == quiz_id, Attempt.user_id == user_id).order_by(Attempt.number)
        )
    )


def has_passed(session: Session, quiz_id: int, user_id: int) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.quiz_id == quiz_id, Attempt.user_id == user_id, Attempt.passed.is_(True))
        )
    )


@dataclass(frozen=True)
class QuizState:
    attempts: list[Attempt]
    passed: bool
    attempts_left: int

    @property
    def best_score(self) -> int | None:
        return max((a.score_percent for a in self.attempts), default=None)


def state_for(session: Session, quiz: Quiz, user_id: int) -> QuizState:
    attempts = attempts_of(session, quiz.id, user_id)
    return QuizState(
        attempts=attempts,
        passed=any(a.passed for a in attempts),
        attempts_left=max(0, quiz.max_attempts - len(attempts)),
    )


def submit_attempt(session: Session, quiz: Quiz, user_id: int, answers: Mapping[int, list[int]]) -> Attempt:
    """Scores a complete set of answers. Every question must be answered; a question is right only if exact."""
    state = state_for(session, quiz, user_id)
    if state.passed:
        raise Conflict(_("You have already passed this quiz."))
    if state.attempts_left <= 0:
        raise Conflict(_("You have used all attempts for this quiz."))
    missing: dict[str, str] = {}
    missing_numbers: list[str] = []
    chosen: dict[str, list[int]] = {}
    correct = 0
    for number, question in enumerate(quiz.questions, start=1):
        picked = sorted(set(answers.get(question.id, [])))
        if not picked:
            missing[f"q{question.id}"] = _("Please answer this question.")
            missing_numbers.append(str(number))
            continue
        if any(not 0 <= i < len(question.options) for i in picked) or (
            question.kind != "multiple" and len(picked) != 1
        ):
            missing[f"q{question.id}"] = _("This answer is not one of the options.")
            missing_numbers.append(str(number))
            continue
        chosen[str(question.id)] = picked
        correct += picked == sorted(question.answer)
    if missing:
        raise InvalidInput(
            _("Please answer every question before submitting. Still open: question %(numbers)s."),
            fields=missing,
            numbers=", ".join(missing_numbers),
        )
    total = len(quiz.questions)
    score = round(100 * correct / total) if total else 0
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user_id,
        number=len(state.attempts) + 1,
        submitted_at=clock.now(),
        answers=chosen,
        correct_count=correct,
        question_count=total,
        score_percent=score,
        passed=score >= quiz.pass_mark,
    )
    session.add(attempt)
    session.flush()
    return attempt


def get_attempt(session: Session, attempt_id: int, user_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        raise NotFound(_("This attempt does not exist."))
    return attempt
