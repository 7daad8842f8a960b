"""Quizzes, question banks, attempts, assignments and the grade history. Correct answers never leave the server
before submission.

A question belongs either to a quiz directly or to a bank; a quiz may also draw N random questions from banks
(`DrawRule`). An attempt remembers exactly what it showed: the question ids in order and, per choice question, the
original option indices in the order shown, so answers given by shown position map back to the stored options.
Answers are stored by original option index (choice), or as text (fill in the blank, essay).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.kit import clock
from backend.kit.models import Base

CHOICE_KINDS = ("single", "multiple", "truefalse")
QUESTION_KINDS = (*CHOICE_KINDS, "fill", "essay")


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int] = mapped_column(Integer)  # percent
    max_attempts: Mapped[int] = mapped_column(Integer)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)  # None: untimed
    counting: Mapped[str] = mapped_column(String(8), default="highest", server_default="highest")  # highest | last
    # always | after_passing | never: when correct answers and explanations are shown after submission.
    show_explanations: Mapped[str] = mapped_column(String(16), default="always", server_default="always")
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    questions: Mapped[list[Question]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Question.position"
    )
    draw_rules: Mapped[list[DrawRule]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="DrawRule.id"
    )


class QuestionBank(Base):
    """Questions on one topic, kept for reuse. `course_code` None: a district-wide bank (district admins edit it)."""

    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(32), index=True)
    course_code: Mapped[str | None] = mapped_column(String(32), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    questions: Mapped[list[Question]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Question.position"
    )


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        UniqueConstraint("bank_id", "position"),
        CheckConstraint("quiz_id IS NOT NULL OR bank_id IS NOT NULL", name="owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # single | multiple | truefalse | fill | essay
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[list[int]] = mapped_column(JSON)  # indices into options; true/false is options [正确, 错误]
    # fill: the accepted answers (compared after NFKC, trimming and case folding); essay: a reference answer for
    # graders. Never shown to a teacher before submission.
    accepted: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    points: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    explanation: Mapped[str] = mapped_column(Text, default="")


class DrawRule(Base):
    """Each attempt of the quiz draws `count` random questions from `bank_id` (besides the quiz's own questions)."""

    __tablename__ = "quiz_draw_rules"
    __table_args__ = (UniqueConstraint("quiz_id", "bank_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    count: Mapped[int] = mapped_column(Integer)


class QuizExtension(Base):
    """Extra minutes a trainer granted a teacher on a timed quiz; they add up and count for a running attempt."""

    __tablename__ = "quiz_extensions"
    __table_args__ = (Index("ix_quiz_extensions_quiz_user", "quiz_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")


def _started_default(context: Any) -> datetime:
    # An attempt written in one go (submitted without an explicit start) started when it was submitted.
    submitted = context.get_current_parameters().get("submitted_at")
    return submitted if submitted is not None else clock.now()


class Attempt(Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=_started_default)
    # started_at + the time limit when it started; extensions granted later are added at check time.
    deadline: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    # in_progress | awaiting_grading (an essay waits for a person) | graded
    status: Mapped[str] = mapped_column(String(20), default="graded", server_default="graded", index=True)
    question_ids: Mapped[list[int] | None] = mapped_column(JSON)
    option_orders: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)  # {question id: original indices}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {question id: {"earned": int | None, "max": int}}; earned None: an essay not graded yet.
    results: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(JSON)
    correct_count: Mapped[int] = mapped_column(Integer)
    question_count: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score_percent: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    feedback: Mapped[str] = mapped_column(Text, default="", server_default="")
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    graded_at: Mapped[datetime | None]


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions_md: Mapped[str] = mapped_column(Text, default="")
    max_score: Mapped[int] = mapped_column(Integer)
    pass_score: Mapped[int] = mapped_column(Integer)
    allow_resubmission: Mapped[bool] = mapped_column(Boolean, default=False)
    # The course setting: when True, the course completes only after a graded submission reaches pass_score.
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    rubric: Mapped[list[RubricItem]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="RubricItem.position"
    )


class RubricItem(Base):
    __tablename__ = "assignment_rubric_items"
    __table_args__ = (UniqueConstraint("assignment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)


class Submission(Base):
    __tablename__ = "assignment_submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    file_key: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), index=True)  # submitted | graded | resubmit
    score: Mapped[int | None] = mapped_column(Integer)
    rubric_scores: Mapped[dict[str, int] | None] = mapped_column(JSON)  # {rubric item id: points}
    feedback: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    graded_at: Mapped[datetime | None]


class GradeChange(Base):
    """Append-only: every grade a person gives or changes, with who, when, the old and the new value."""

    __tablename__ = "grade_history"
    __table_args__ = (Index("ix_grade_history_item", "item_type", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(16))  # essay | submission
    item_id: Mapped[int] = mapped_column(Integer)  # attempt id | submission id
    question_id: Mapped[int | None] = mapped_column(Integer)  # the essay question (item_type essay)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime]
    old_value: Mapped[str | None] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))  # points, or "resubmit" when a resubmission was asked
    comment: Mapped[str] = mapped_column(Text, default="")
