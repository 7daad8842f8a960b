"""Schools with classes and homeroom teachers, built through the organisation's own services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.organisation import classes
from backend.organisation.models import SchoolClass
from backend.policies.service import load_policy
from tests.factories import make_user
from tests.people.helpers import make_teacher


def school_admin(session: Session, school_code: str = "S-A") -> User:
    return make_user(session, Role.school_admin, school_code=school_code)


def district_admin(session: Session) -> User:
    return make_user(session, Role.district_admin, school_code=None)


def make_classes(
    session: Session, admin: User, count: int, *, year: int = 2026, school_id: int | None = None,
    with_homeroom: bool = True, start: str = "2026-09-01",
) -> list[SchoolClass]:  # fmt: skip
    """`count` classes, each with its own 班主任 (a new teacher of the school) from `start` unless told otherwise."""
    school_id = school_id or admin.school_id
    made = []
    for n in range(1, count + 1):
        school_class = classes.add_class(session, admin, school_id, year, f"{n}班", "一年级")
        if with_homeroom:
            code = session.get(User, admin.id).school_id if school_id is None else school_id
            teacher = make_teacher(session, _code(session, code), name=f"班主任{n}")
            classes.appoint(session, admin, school_class.id, teacher.id, "homeroom", start, load_policy(session))
        made.append(school_class)
    return made


def _code(session: Session, school_id: int | None) -> str:
    from backend.people.models import School

    school = session.get(School, school_id)
    assert school is not None
    return school.code
