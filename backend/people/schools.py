"""Districts and schools."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import describe as audit_describe
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


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Schools as the audit log names them (issue 18)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    rows = session.execute(select(School.id, School.name).where(School.id.in_(numbers))).all()
    return {str(sid): audit_describe.Subject(name) for sid, name in rows}


audit_describe.register_subject("school", _audit_names)
