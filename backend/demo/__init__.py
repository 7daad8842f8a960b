"""Demo data: a district, three schools, one account per role (and two more teachers), the course library with
generated videos, and the records of issue 5 so every page has something to show: teacher records (profiles,
service periods, evaluations), ledger entries in every status (an external record among them), two offline sessions
(one past with attendance, one coming) and one issued certificate. Everything goes through the domain services, so
the same rules and audit events apply as when a person does it.

Idempotent: running it again keeps everything that exists (accounts, progress) and only adds what is missing; each
part of the records is skipped when its first row is already there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import service as accounts
from backend.accounts.models import Role, User
from backend.catalogue import importer
from backend.config import Settings
from backend.demo import organisation as demo_organisation
from backend.demo import records as demo_records
from backend.media.storage import Storage
from backend.people import schools as people

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
    # Two more teachers, so queues, sessions and records have more than one name (same password).
    ("teacher_liu", "刘老师", Role.teacher, "SJ-SY"),
    ("teacher_zhou", "周老师", Role.teacher, "SJ-YX"),
)


@dataclass(frozen=True)
class DemoSummary:
    users_created: int
    courses: list[importer.ImportResult]


def load(session: Session, storage: Storage, settings: Settings) -> DemoSummary:
    if not settings.demo_mode:
        raise RuntimeError("demo data is only loaded in demo mode (DEMO_MODE=true)")
    created = load_accounts(session)
    results = importer.import_path(session, storage, settings.courses_dir, publish=True, demo_media=True)
    load_records(session, storage)
    demo_organisation.load_organisation(session, storage)  # issue 16: classes, 班主任, workshops, tiers, outputs
    demo_organisation.load_pool_and_assignments(session)  # issue 16: the reserve pool, assigned learning
    return DemoSummary(users_created=created, courses=results)


def load_accounts(session: Session) -> int:
    """The district, its schools and the demo accounts that are missing; returns how many accounts were made."""
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
    return created


def load_records(session: Session, storage: Storage) -> None:
    """The issue-5 records of the demo accounts (backend/demo/records.py), once the accounts exist."""
    names = [username for username, *_rest in ACCOUNTS]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    demo_records.load_records(session, storage, users)
