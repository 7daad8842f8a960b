"""Authoring: question banks, a course quiz's settings and questions, and the rules that draw from banks.

Callers have checked the actor with `backend.quizzes.access` (the one place for those decisions); these functions
check the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state as state_of

from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.policies.taxonomy import TOPIC_CODES
from backend.quizzes import service
from backend.quizzes.models import DrawRule, Question, QuestionBank, Quiz
from backend.quizzes.repository import load_fresh


def create_bank(session: Session, *, title: str, topic: str, course_code: str | None, actor_id: int) -> QuestionBank:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Please give the bank a title (up to 200 characters).")
    if topic not in TOPIC_CODES:
        errors["topic"] = _("Please choose a topic.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    bank = QuestionBank(
        title=title, topic=topic, course_code=course_code or None, created_by=actor_id, created_at=clock.now()
    )
    bank.questions = []
    session.add(bank)
    session.flush()
    return bank


def get_bank(session: Session, bank_id: int) -> QuestionBank:
    missing = _("This question bank does not exist.")
    return load_fresh(session, QuestionBank, bank_id, (QuestionBank.questions,), missing)


def question_counts(session: Session, bank_ids: Sequence[int]) -> dict[int, int]:
    if not bank_ids:
        return {}
    rows = session.execute(
        select(Question.bank_id, func.count()).where(Question.bank_id.in_(bank_ids)).group_by(Question.bank_id)
    )
    return {bank_id: count for bank_id, count in rows if bank_id is not None}


def _next_position(session: Session, *, quiz_id: int | None = None, bank_id: int | None = None) -> int:
    column = Question.quiz_id if quiz_id is not None else Question.bank_id
    owner = quiz_id if quiz_id is not None else bank_id
    return int(session.scalar(select(func.coalesce(func.max(Question.position), 0)).where(column == owner)) or 0) + 1


@dataclass(frozen=True)
class QuestionInput:
    kind: str
    prompt: str
    options: list[str]
    answer: list[int] | bool
    accepted: list[str]
    explanation: str = ""
    points: int = 1


def add_question(
    session: Session, data: QuestionInput, *, quiz: Quiz | None = None, bank: QuestionBank | None = None
) -> Question:
    question = service.build_question(
        kind=data.kind, prompt=data.prompt, options=data.options, answer=data.answer, accepted=data.accepted,
        explanation=data.explanation, points=data.points,
    )
    owner: Quiz | QuestionBank
    if quiz is not None:
        owner, question.quiz_id = quiz, quiz.id
        question.position = _next_position(session, quiz_id=quiz.id)
    elif bank is not None:
        owner, question.bank_id = bank, bank.id
        question.position = _next_position(session, bank_id=bank.id)
    else:  # pragma: no cover - a programming error
        raise ValueError("a question belongs to a quiz or a bank")
    session.add(question)
    if "questions" not in state_of(owner).unloaded:  # keep a loaded collection true to the database
        owner.questions.append(question)
    session.flush()
    return question


def update_question(session: Session, question: Question, data: QuestionInput) -> Question:
    """A question corrected in place (issue 18), checked by the same rules as a new one. Only a draft's questions
    are edited (the caller checks), so no attempt has answered this wording yet."""
    checked = service.build_question(
        kind=data.kind, prompt=data.prompt, options=data.options, answer=data.answer, accepted=data.accepted,
        explanation=data.explanation, points=data.points,
    )
    for name in ("kind", "prompt", "options", "answer", "accepted", "explanation", "points"):
        setattr(question, name, getattr(checked, name))
    session.flush()
    return question


def as_form_values(question: Question) -> dict[str, str]:
    """A stored question in the studio form's notation (the Excel sheet's): the inverse of question_from_form."""
    if question.kind in ("single", "multiple"):
        answer = "".join("ABCDEF"[i] for i in question.answer)
    elif question.kind == "truefalse":
        answer = "正确" if question.answer == [0] else "错误"
    else:
        answer = "|".join(question.accepted)
    options = "\n".join(question.options) if question.kind in ("single", "multiple") else ""
    return {"kind": question.kind, "prompt": question.prompt, "options": options, "answer": answer,
            "explanation": question.explanation or "", "points": str(question.points)}  # fmt: skip


def get_question(session: Session, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound(_("This question does not exist."))
    return question


def delete_question(session: Session, question: Question) -> None:
    """Attempts keep their scores; a deleted question is left out when an old attempt is shown again."""
    for owner in (session.get(Quiz, question.quiz_id) if question.quiz_id else None,
                  session.get(QuestionBank, question.bank_id) if question.bank_id else None):
        if owner is not None and "questions" not in state_of(owner).unloaded and question in owner.questions:
            owner.questions.remove(question)
    session.delete(question)
    session.flush()


def ensure_quiz(session: Session, course_id: int) -> Quiz:
    quiz = service.quiz_for_course(session, course_id)
    if quiz is not None:
        return quiz
    quiz = Quiz(course_id=course_id, title="课程测验", pass_mark=60, max_attempts=3)
    quiz.questions = []
    quiz.draw_rules = []
    session.add(quiz)
    session.flush()
    return quiz


@dataclass(frozen=True)
class QuizSettings:
    title: str
    pass_mark: int
    max_attempts: int
    time_limit_minutes: int | None
    counting: str
    show_explanations: str
    shuffle_options: bool


def update_settings(session: Session, quiz: Quiz, settings: QuizSettings) -> Quiz:
    errors: dict[str, str] = {}
    if not settings.title.strip() or len(settings.title) > 200:
        errors["title"] = _("Please give the quiz a title (up to 200 characters).")
    if not 1 <= settings.pass_mark <= 100:
        errors["pass_mark"] = _("The pass mark is a percentage from 1 to 100.")
    if not 1 <= settings.max_attempts <= 100:
        errors["max_attempts"] = _("Attempts must be 1 to 100.")
    if settings.time_limit_minutes is not None and not 1 <= settings.time_limit_minutes <= 600:
        errors["time_limit_minutes"] = _("The time limit is 1 to 600 minutes, or empty for none.")
    if settings.counting not in service.COUNTING:
        errors["counting"] = _("Please choose which attempt counts.")
    if settings.show_explanations not in service.EXPLANATION_POLICIES:
        errors["show_explanations"] = _("Please choose when explanations are shown.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    quiz.title = settings.title.strip()
    quiz.pass_mark = settings.pass_mark
    quiz.max_attempts = settings.max_attempts
    quiz.time_limit_minutes = settings.time_limit_minutes
    quiz.counting = settings.counting
    quiz.show_explanations = settings.show_explanations
    quiz.shuffle_options = settings.shuffle_options
    session.flush()
    return quiz


def add_draw_rule(session: Session, quiz: Quiz, bank: QuestionBank, count: int) -> DrawRule:
    if not 1 <= count <= 200:
        raise InvalidInput(_("Draw 1 to 200 questions from a bank."), fields={"count": _("1 to 200")})
    if any(rule.bank_id == bank.id for rule in quiz.draw_rules):
        raise Conflict(_("This quiz already draws from that bank."))
    rule = DrawRule(quiz_id=quiz.id, bank_id=bank.id, count=count)
    quiz.draw_rules.append(rule)
    session.flush()
    return rule


def remove_draw_rule(session: Session, quiz: Quiz, rule_id: int) -> None:
    rule = next((r for r in quiz.draw_rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound(_("This draw rule does not exist."))
    quiz.draw_rules.remove(rule)
    session.flush()
