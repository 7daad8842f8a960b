"""Who may do what with quizzes, banks, assignments and grades — the one place this domain decides it.

- Authoring a course's quiz and assignments, granting extensions, grading and analytics: whoever may edit the course
  (`catalogue.ownership`: its owners and co-owners, and district admins). Anyone else is refused (403).
- A bank tied to a course code: that course's editors. A district-wide bank: district admins edit it; every trainer
  may read it and draw from it.
- A teacher's attempt or submission: only that teacher sees it (404 for anyone else, so ids reveal nothing), apart
  from the course's editors, who grade it.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue import ownership
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course
from backend.kit.errors import Forbidden, NotFound
from backend.kit.i18n import _
from backend.quizzes.models import QuestionBank

AUTHOR_ROLES = (Role.trainer, Role.district_admin)


def require_author_role(user: User) -> None:
    """Trainers and district admins reach the studio pages at all; what they may change is checked per course."""
    if user.role not in AUTHOR_ROLES:
        raise Forbidden(_("Your role does not allow this."))


def editable_course(session: Session, user: User, course_id: int) -> Course:
    """The course, if `user` may author and grade it; 403 otherwise (404 if it does not exist)."""
    course = catalogue.get_course(session, course_id)
    ownership.require_editor(session, user, course)
    return course


def draft_course(session: Session, user: User, course_id: int) -> Course:
    """The course, if `user` may author it and it is a draft: a published course's quiz and assignments change
    only in a new version, reviewed like its lessons, so no teacher is assessed on an unreviewed question."""
    course = editable_course(session, user, course_id)
    catalogue.require_draft(course)
    return course


def can_edit_course(session: Session, user: User, course_id: int) -> bool:
    course = session.get(Course, course_id)
    return course is not None and ownership.can_edit(session, user, course)


def _course_of_code(session: Session, code: str) -> Course | None:
    return session.scalar(select(Course).where(Course.code == code).order_by(Course.version.desc()).limit(1))


def can_edit_code(session: Session, user: User, code: str | None) -> bool:
    """May edit things tied to a course code; `None` (district-wide) is for district admins only."""
    if user.role == Role.district_admin:
        return True
    if code is None:
        return False
    course = _course_of_code(session, code)
    return course is not None and ownership.can_edit(session, user, course)


def require_code_editor(session: Session, user: User, code: str | None) -> None:
    if not can_edit_code(session, user, code):
        raise Forbidden(_("Only the bank's course owners can change it."))


def require_bank_editor(session: Session, user: User, bank: QuestionBank) -> None:
    require_code_editor(session, user, bank.course_code)


def require_bank_reader(session: Session, user: User, bank: QuestionBank) -> None:
    require_author_role(user)
    if bank.course_code is not None and not can_edit_code(session, user, bank.course_code):
        raise Forbidden(_("Only the bank's course owners can change it."))


def visible_banks(session: Session, user: User) -> list[QuestionBank]:
    """District admins see every bank; a trainer the district-wide ones and those of courses they own."""
    require_author_role(user)
    stmt = select(QuestionBank).order_by(QuestionBank.topic, QuestionBank.title, QuestionBank.id)
    if user.role != Role.district_admin:
        codes = ownership.owned_codes(session, user.id)
        stmt = stmt.where(or_(QuestionBank.course_code.is_(None), QuestionBank.course_code.in_(codes)))
    return list(session.scalars(stmt))


def editable_course_ids(session: Session, user: User) -> list[int] | None:
    """Courses whose work the user grades: None means all (district admins)."""
    if user.role == Role.district_admin:
        return None
    if user.role != Role.trainer:
        raise Forbidden(_("Your role does not allow this."))
    codes = ownership.owned_codes(session, user.id)
    if not codes:
        return []
    return list(session.scalars(select(Course.id).where(Course.code.in_(codes))))


def own_or_grader(session: Session, user: User, owner_id: int, course_id: int) -> None:
    """A learner's record: its owner, or a grader of its course. Anyone else gets 'not found'."""
    if user.id == owner_id:
        return
    if can_edit_course(session, user, course_id):
        return
    raise NotFound(_("This page does not exist."))
