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
