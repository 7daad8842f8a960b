"""Small factories: build exactly what a test's story needs, through the services where rules apply."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from backend.accounts import service as accounts
from backend.accounts.models import Role, User
from backend.catalogue.models import Course, CourseTopic, Lesson
from backend.kit import clock
from backend.media import library
from backend.media.storage import Storage
from backend.people import schools as people
from backend.quizzes import service as quizzes
from backend.quizzes.models import Quiz

PASSWORD = "correct-horse-battery"  # noqa: S105 - test accounts only


def make_user(session: Session, role: Role = Role.teacher, school_code: str | None = "T-01", **kw: str) -> User:
    school_id = None
    if school_code:
        district = people.ensure_district(session, "test", "测试区")
        school_id = people.ensure_school(session, district, school_code, f"测试学校{school_code}", "primary").id
    name = kw.get("username") or f"{role}-{uuid.uuid4().hex[:8]}"
    return accounts.create_user(
        session, username=name, display_name=kw.get("display_name", name), password=PASSWORD, role=role,
        school_id=school_id,
    )


class _Q:
    def __init__(self, kind: str, prompt: str, options: list[str], answer: list[int] | bool) -> None:
        self.kind, self.prompt, self.options, self.answer, self.explanation = kind, prompt, options, answer, "解析"


class _Quiz:
    def __init__(self, questions: list[_Q], pass_mark: int = 60, max_attempts: int = 3) -> None:
        self.title, self.pass_mark, self.max_attempts, self.questions = "课程测验", pass_mark, max_attempts, questions


def standard_questions() -> list[_Q]:
    return [
        _Q("single", "班会课一般由谁主持？", ["班主任", "校长", "家长"], [0]),
        _Q("multiple", "家校沟通可以使用哪些方式？", ["家访", "家长会", "不沟通"], [0, 1]),
        _Q("truefalse", "班主任应当关注每一名学生。", [], True),
    ]


def make_course(
    session: Session,
    *,
    tier: str = "horizon",
    topics: tuple[str, ...] = ("norms",),
    hours: str = "4.0",
    video_ms: tuple[int, ...] = (60_000,),
    with_quiz: bool = True,
    status: str = "published",
    title: str = "测试课程",
) -> Course:
    """A course with video lessons of the given lengths (media keys only; no file needed for service tests)."""
    course = Course(
        code=f"T-{uuid.uuid4().hex[:6]}", version=1, title=title, summary="简介", description_md="说明",
        tier=tier, credit_hours=Decimal(hours), credit_category="knowledge_skills", status=status,
        created_at=clock.now(), published_at=clock.now() if status == "published" else None,
    )
    course.topics = [CourseTopic(topic=t) for t in topics]
    course.lessons = [
        Lesson(position=i, kind="video", title=f"第{i}讲", body_md="正文", media_key=f"videos/fake{i}.mp4",
               media_type="video/mp4", duration_ms=ms)
        for i, ms in enumerate(video_ms, start=1)
    ]
    session.add(course)
    session.flush()
    if with_quiz:
        quizzes.create_quiz(session, course.id, _Quiz(standard_questions()))
    return course


def correct_answers(quiz: Quiz) -> dict[int, list[int]]:
    return {q.id: list(q.answer) for q in quiz.questions}


def wrong_answers(quiz: Quiz) -> dict[int, list[int]]:
    return {q.id: [next(i for i in range(len(q.options)) if i not in q.answer)] for q in quiz.questions}


def store_demo_video(storage: Storage, tmp: Path, seconds: int = 4) -> library.StoredVideo:
    clip = tmp / "clip.mp4"
    library.generate_demo_clip(clip, title="测试视频", subtitle="测试", seconds=seconds)
    return library.store_video_file(storage, clip)
