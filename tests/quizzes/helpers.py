"""Building blocks for the assessment stories: courses with a given quiz, owned by a trainer."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from backend.accounts.models import Role, User
from backend.catalogue import ownership
from backend.catalogue.models import Course
from backend.learning import service as learning
from backend.quizzes import banks
from backend.quizzes.banks import QuestionInput
from backend.quizzes.models import Quiz
from tests.factories import make_course, make_user


def single(prompt: str = "班会课一般由谁主持？", answer: int = 0, points: int = 1) -> QuestionInput:
    options = ["班主任", "校长", "家长", "学生"]
    return QuestionInput("single", prompt, options, [answer], [], "班会由班主任主持。", points)


def multiple(prompt: str = "家校沟通可以使用哪些方式？", answer: list[int] | None = None) -> QuestionInput:
    return QuestionInput("multiple", prompt, ["家访", "家长会", "不沟通", "电话"], answer or [0, 1, 3], [], "")


def truefalse(prompt: str = "班主任应当关注每一名学生。", answer: bool = True) -> QuestionInput:
    return QuestionInput("truefalse", prompt, [], answer, [], "")


def fill(prompt: str = "《中小学班主任工作规定》由____发布。", accepted: list[str] | None = None) -> QuestionInput:
    return QuestionInput("fill", prompt, [], [], accepted or ["教育部", "Ministry of Education"], "")


def essay(prompt: str = "请简述主题班会的设计要点。", points: int = 10) -> QuestionInput:
    return QuestionInput("essay", prompt, [], [], ["目标明确"], "要点：目标、主体、形式。", points)


def owned_course(session: Session, trainer: User | None = None, **kw: Any) -> tuple[Course, User]:
    trainer = trainer or make_user(session, Role.trainer)
    kw.setdefault("video_ms", ())
    kw.setdefault("with_quiz", False)
    course = make_course(session, **kw)
    ownership.add_owner(session, course.code, trainer.id)
    return course, trainer


def quiz_with(session: Session, course: Course, questions: list[QuestionInput], **settings: Any) -> Quiz:
    quiz = banks.ensure_quiz(session, course.id)
    for q in questions:
        banks.add_question(session, q, quiz=quiz)
    for name, value in settings.items():
        setattr(quiz, name, value)
    session.flush()
    return reload_quiz(session, course.id)


def reload_quiz(session: Session, course_id: int) -> Quiz:
    """The quiz as the database has it now, questions and draw rules included."""
    return session.scalars(
        select(Quiz).where(Quiz.course_id == course_id)
        .options(selectinload(Quiz.questions), selectinload(Quiz.draw_rules))
        .execution_options(populate_existing=True)
    ).one()


def enrolled_teacher(session: Session, course: Course, **kw: str) -> User:
    teacher = make_user(session, **kw)
    learning.enroll(session, teacher.id, course)
    return teacher


def pdf_bytes(size: int = 2000) -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    return body + b"%" * max(0, size - len(body) - 6) + b"\n%%EOF"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>班会设计方案</w:document>")
    return out.getvalue()


def zip_without_word() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def publish(session: Session, course: Course) -> None:
    """What the district admin's review does at the end, for tests that author a draft and then teach it."""
    course.status = "published"
    session.flush()


@contextmanager
def as_draft(course: Course) -> Iterator[None]:
    """The studio changes only drafts: a test that writes a published course's quiz or assignments in the studio
    does so as if on the draft that became it."""
    session = object_session(course)
    assert session is not None
    status, course.status = course.status, "draft"
    session.flush()
    try:
        yield
    finally:
        course.status = status
        session.flush()
