"""Who may edit a course: its owner and co-owners (by course code, so every version), and district admins.

The one place that answers "may this actor author this course?" — studio, quizzes and grading all ask here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue.models import Course, CourseOwner
from backend.kit.errors import Forbidden
from backend.kit.i18n import _


def add_owner(session: Session, code: str, user_id: int, role: str = "owner") -> None:
    if session.get(CourseOwner, (code, user_id)) is None:
        session.add(CourseOwner(code=code, user_id=user_id, role=role))
        session.flush()


def owner_ids(session: Session, code: str) -> list[int]:
    return list(session.scalars(select(CourseOwner.user_id).where(CourseOwner.code == code)))


def owned_codes(session: Session, user_id: int) -> list[str]:
    return list(session.scalars(select(CourseOwner.code).where(CourseOwner.user_id == user_id)))


def can_edit(session: Session, user: User, course: Course) -> bool:
    if user.role == Role.district_admin:
        return True
    if user.role != Role.trainer:
        return False
    return session.get(CourseOwner, (course.code, user.id)) is not None


def require_editor(session: Session, user: User, course: Course) -> None:
    if not can_edit(session, user, course):
        raise Forbidden(_("Only the course's owners can change it."))
