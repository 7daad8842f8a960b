"""Certified credit hours for integrations (district HR systems, title review), read-only, behind the
`credits:export` token scope. Only certified hours count (`backend.credits.hours.COUNTED`): hours a district admin
has signed off; the sums are `backend.credits.hours.totals`, as on every page."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.accounts.tokens import CreditsExporter
from backend.credits import hours
from backend.credits.models import LedgerEntry
from backend.db import SessionDep
from backend.kit.api_pages import ApiPage, PageNumber, PageSize, SchoolCode
from backend.people.integration import school_id_for
from backend.people.models import School, TeacherProfile

api = APIRouter(tags=["integrations"])


class CertifiedHoursOut(BaseModel):
    user_id: int
    staff_no: str | None
    name: str
    school: str | None
    year: int
    certified_hours: Decimal
    by_category: dict[str, Decimal]


def certified_hours(
    session: Session, *, year: int, school_code: str | None, page: int, size: int
) -> ApiPage[CertifiedHoursOut]:
    conditions = [LedgerEntry.year == year, LedgerEntry.status.in_(sorted(hours.COUNTED))]
    school_id = school_id_for(session, school_code)
    if school_id is not None:
        conditions.append(User.school_id == school_id)
    teachers = select(LedgerEntry.user_id).join(User, User.id == LedgerEntry.user_id).where(*conditions).distinct()
    total = session.scalar(select(func.count()).select_from(teachers.subquery())) or 0
    user_ids = list(session.scalars(teachers.order_by(LedgerEntry.user_id).limit(size).offset((page - 1) * size)))
    sums: dict[int, dict[str, Decimal]] = defaultdict(dict)
    found = hours.totals(session, by=("user", "category"), user=user_ids, year=year) if user_ids else {}
    for (user_id, category), counted in found.items():
        if counted.certified:
            sums[user_id][category] = counted.certified.quantize(Decimal("0.1"))
    people = session.execute(
        select(User, TeacherProfile.staff_no, School.code)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(School, School.id == User.school_id)
        .where(User.id.in_(user_ids))
        .order_by(User.id)
    ).all()
    items = [
        CertifiedHoursOut(
            user_id=user.id,
            staff_no=staff_no,
            name=user.display_name,
            school=code,
            year=year,
            certified_hours=sum(sums[user.id].values(), Decimal("0.0")),
            by_category=sums[user.id],
        )  # fmt: skip
        for user, staff_no, code in people
    ]
    return ApiPage.of(items, page, size, total)


@api.get("/credits/export", response_model=ApiPage[CertifiedHoursOut])
def export_certified_hours(
    session: SessionDep,
    caller: CreditsExporter,
    year: int = Query(ge=2000, le=2100, description="The year the hours count for"),
    school: SchoolCode = None,
    page: PageNumber = 1,
    size: PageSize = 100,
) -> ApiPage[CertifiedHoursOut]:
    """Certified hours per teacher for one year, by credit category. Needs the `credits:export` scope."""
    return certified_hours(session, year=year, school_code=school, page=page, size=size)
