"""Catalogue rules: which courses a user may see, search and filter by tier and topic."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from backend.catalogue.models import Course, CourseTopic, Lesson
from backend.kit.errors import Conflict, NotFound
from backend.kit.i18n import _


def current_courses(
    session: Session, *, tier: str | None = None, topic: str | None = None, query: str | None = None
) -> list[Course]:
    """Published courses teachers can start now: the newest published version of each code."""
    stmt = (
        select(Course)
        .where(Course.status == "published", Course.superseded_at.is_(None))
        .options(selectinload(Course.topics))
        .order_by(Course.tier, Course.code)
    )
    if tier:
        stmt = stmt.where(Course.tier == tier)
    if topic:
        stmt = stmt.where(Course.id.in_(select(CourseTopic.course_id).where(CourseTopic.topic == topic)))
    if query and query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Course.title.ilike(like), Course.summary.ilike(like), Course.code.ilike(like)))
    return list(session.scalars(stmt))


def get_course(session: Session, course_id: int, *, with_lessons: bool = True) -> Course:
    opts = [selectinload(Course.topics)]
    if with_lessons:
        opts.append(selectinload(Course.lessons))
    course = session.get(Course, course_id, options=opts)
    if course is None:
        raise NotFound(_("This course does not exist."))
    return course


def newest_version(session: Session, code: str) -> Course | None:
    """The newest version of a course code, whatever its status (None: no such code)."""
    return session.scalar(select(Course).where(Course.code == code).order_by(Course.version.desc()).limit(1))


def current_published(session: Session, code: str) -> Course | None:
    """The version of a course code teachers start now: the newest published one not superseded."""
    return session.scalar(
        select(Course)
        .where(Course.code == code, Course.status == "published", Course.superseded_at.is_(None))
        .options(selectinload(Course.lessons), selectinload(Course.topics))
        .order_by(Course.version.desc())
        .limit(1)
    )


def get_lesson(session: Session, lesson_id: int) -> Lesson:
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(_("This lesson does not exist."))
    return lesson


def is_open_to_learners(course: Course) -> bool:
    return course.status == "published"


def require_draft(course: Course) -> None:
    """Only drafts change: their lessons, quiz and assignments. A published course changes in a new version, which
    goes through review before teachers see it (backend/catalogue/authoring.py)."""
    if course.status == "submitted":
        raise Conflict(_("This course is under review and cannot be changed. Withdraw it first to edit it."))
    if course.status != "draft":
        raise Conflict(_("Only drafts can be changed. Start a new version to edit a published course."))
