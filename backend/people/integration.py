"""Teacher records for integrations (district HR systems), read-only, behind the `records:read` token scope.

Only what HR matches and needs: staff number, name, school, tier, status, teaching start. No ID numbers, no
contact details (个人信息保护法: the minimum the rules need, DOMAIN.md).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.accounts.tokens import RecordsReader
from backend.db import SessionDep
from backend.kit.api_pages import ApiPage, PageNumber, PageSize, SchoolCode
from backend.kit.errors import NotFound
from backend.kit.i18n import _
from backend.people.models import School, TeacherProfile

api = APIRouter(tags=["integrations"])


class TeacherRecordOut(BaseModel):
    id: int
    staff_no: str | None
    name: str
    school: str | None
    school_name: str | None
    tier: str | None
    status: str | None
    teaching_start: date | None
    active: bool


def school_id_for(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    school_id = session.scalar(select(School.id).where(School.code == code))
    if school_id is None:
        raise NotFound(_("No school has the code %(code)s."), code=code)
    return school_id


def teacher_records(session: Session, *, school_code: str | None, page: int, size: int) -> ApiPage[TeacherRecordOut]:
    conditions = [User.role == Role.teacher]
    school_id = school_id_for(session, school_code)
    if school_id is not None:
        conditions.append(User.school_id == school_id)
    total = session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    rows = session.execute(
        select(User, TeacherProfile, School)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(School, School.id == User.school_id)
        .where(*conditions)
        .order_by(User.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    items = [
        TeacherRecordOut(
            id=user.id,
            staff_no=profile.staff_no if profile else None,
            name=user.display_name,
            school=school.code if school else None,
            school_name=school.name if school else None,
            tier=profile.tier if profile else None,
            status=profile.status if profile else None,
            teaching_start=profile.teaching_start if profile else None,
            active=user.is_active,
        )  # fmt: skip
        for user, profile, school in rows
    ]
    return ApiPage.of(items, page, size, total)


@api.get("/records/teachers", response_model=ApiPage[TeacherRecordOut])
def list_teacher_records(
    session: SessionDep, caller: RecordsReader, school: SchoolCode = None, page: PageNumber = 1, size: PageSize = 100
) -> ApiPage[TeacherRecordOut]:
    """Teachers' records, by account id. Needs an integration token with the `records:read` scope."""
    return teacher_records(session, school_code=school, page=page, size=size)
