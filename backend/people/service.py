"""Districts and schools."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.people.models import District, School


def ensure_district(session: Session, code: str, name: str) -> District:
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code, name=name)
        session.add(district)
        session.flush()
    return district


def ensure_school(session: Session, district: District, code: str, name: str, stage: str) -> School:
    school = session.scalar(select(School).where(School.code == code))
    if school is None:
        school = School(district_id=district.id, code=code, name=name, stage=stage)
        session.add(school)
        session.flush()
    return school


def school_by_code(session: Session, code: str) -> School | None:
    return session.scalar(select(School).where(School.code == code))
