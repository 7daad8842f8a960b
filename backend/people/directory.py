"""Finding a teacher by the key other systems know them by: the staff number (工号) on the teacher record.

Used by single sign-on (backend/accounts/oidc.py) to link a provider's account to a portal teacher at first login.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.people.models import TeacherProfile


def user_with_staff_no(session: Session, staff_no: str) -> User | None:
    return session.scalar(
        select(User).join(TeacherProfile, TeacherProfile.user_id == User.id).where(TeacherProfile.staff_no == staff_no)
    )


def start_record(session: Session, user: User, staff_no: str | None) -> TeacherProfile:
    """The teacher record of a new account (status and tier at their defaults until the school fills them in)."""
    profile = TeacherProfile(user_id=user.id, staff_no=staff_no)
    session.add(profile)
    session.flush()
    return profile


def teachers_with_staff_nos(session: Session, school_id: int | None, staff_nos: list[str]) -> dict[str, User]:
    """The school's teachers among these staff numbers, by staff number (for imports that name teachers by 工号);
    `school_id` None: the whole district's (a district admin's list)."""
    found: dict[str, User] = {}
    for i in range(0, len(staff_nos), 900):
        stmt = (
            select(TeacherProfile.staff_no, User)
            .join(User, User.id == TeacherProfile.user_id)
            .where(TeacherProfile.staff_no.in_(staff_nos[i : i + 900]))
        )
        if school_id is not None:
            stmt = stmt.where(User.school_id == school_id)
        for staff_no, user in session.execute(stmt):
            if staff_no:
                found[staff_no] = user
    return found
