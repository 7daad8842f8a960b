"""Demo data: a district, three schools, one account per role, and the course library with generated videos.

Idempotent: running it again keeps everything that exists (accounts, progress) and only adds what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import service as accounts
from backend.accounts.models import Role, User
from backend.catalogue import importer
from backend.config import Settings
from backend.media.storage import Storage
from backend.people import service as people

DEMO_PASSWORD = "demo-password"  # noqa: S105  # nosec B105 - demo mode only; refused by `load` outside demo mode

SCHOOLS = (
    ("SJ-SY", "松江区第一实验小学", "primary"),
    ("SJ-YX", "松江区岳阳中学", "middle"),
    ("SJ-EZ", "松江二中", "high"),
)
ACCOUNTS = (
    ("teacher", "王老师", Role.teacher, "SJ-SY"),
    ("trainer", "李德研员", Role.trainer, None),
    ("school_admin", "张主任", Role.school_admin, "SJ-SY"),
    ("district_admin", "陈老师（区德育发展中心）", Role.district_admin, None),
)


@dataclass(frozen=True)
class DemoSummary:
    users_created: int
    courses: list[importer.ImportResult]


def load(session: Session, storage: Storage, settings: Settings) -> DemoSummary:
    if not settings.demo_mode:
        raise RuntimeError("demo data is only loaded in demo mode (DEMO_MODE=true)")
    district = people.ensure_district(session, "songjiang", "松江区")
    schools = {code: people.ensure_school(session, district, code, name, stage) for code, name, stage in SCHOOLS}
    created = 0
    for username, name, role, school_code in ACCOUNTS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            accounts.create_user(
                session,
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                role=role,
                school_id=schools[school_code].id if school_code else None,
            )
            created += 1
    results = importer.import_path(session, storage, settings.courses_dir, publish=True, demo_media=True)
    return DemoSummary(users_created=created, courses=results)
