"""Roster import (花名册导入): the staff list a school keeps in Excel, as .xlsx or .csv, one teacher per row.

Layout (first worksheet, headers in row 1 in any order, empty rows skipped). The column names are part of the file
format, so they are Chinese in every locale:

    工号       the school's staff number (required): the key a re-import matches on, and the new account's username
    姓名       the teacher's name (required)
    学校代码    the school's code; required in a district admin's import, and must be the admin's own school in a
               school admin's (who may leave it empty)
    从教日期    teaching start date: 2026-09-01, 2026/9/1, 2026年9月1日 or an Excel date (optional)
    任职状态    储备池 | 见习班主任 | 班主任 (optional; a new teacher starts in the reserve pool)
    培养阶段    地平线 | 指南针 | 攀登者 | 满天星 (optional)

Every row is checked before anything is written; any error rejects the whole file with a report naming the row (as
the spreadsheet numbers it), the column and what is wrong. A re-import updates the teachers it finds by staff
number and creates the others, so importing the same sheet twice changes nothing; an empty optional cell leaves
the stored value as it is. CSV is read as UTF-8 (with or without the BOM Excel writes) or, failing that, as GB18030,
which is what Chinese Excel's "CSV" saves.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.kit import clock
from backend.kit.errors import Forbidden
from backend.kit.i18n import _
from backend.kit.xlsx import Layout, NamedRow, columns, named_rows
from backend.people.models import School, ServicePeriod, TeacherProfile
from backend.people.records import parse_date

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
COL_STAFF_NO, COL_NAME, COL_SCHOOL, COL_START, COL_STATUS, COL_TIER = (
    "工号",
    "姓名",
    "学校代码",
    "从教日期",
    "任职状态",
    "培养阶段",
)
COLUMNS = (COL_STAFF_NO, COL_NAME, COL_SCHOOL, COL_START, COL_STATUS, COL_TIER)
ALIASES = {
    "教工号": COL_STAFF_NO,
    "职工号": COL_STAFF_NO,
    "教师姓名": COL_NAME,
    "学校编码": COL_SCHOOL,
    "参加工作时间": COL_START,
    "从教时间": COL_START,
    "状态": COL_STATUS,
    "阶段": COL_TIER,
}
LAYOUT = Layout(
    columns=columns(COLUMNS, ALIASES, required=(COL_STAFF_NO, COL_NAME)),
    unsupported=_("Upload the roster as an Excel (.xlsx) or CSV file."),
    max_bytes=MAX_IMPORT_BYTES,
    too_large=_("The file is larger than 10 MB. Split the roster into several files."),
    max_rows=MAX_IMPORT_ROWS,
    too_many=_("A roster has at most 20,000 rows. Split the file."),
)
STATUS_WORDS = {
    "储备池": "reserve",
    "储备": "reserve",
    "reserve": "reserve",
    "见习班主任": "trainee",
    "见习": "trainee",
    "trainee": "trainee",
    "班主任": "appointed",
    "已聘任": "appointed",
    "appointed": "appointed",
}
TIER_WORDS = {
    "地平线": "horizon",
    "指南针": "compass",
    "攀登者": "climber",
    "满天星": "starry",
    "horizon": "horizon",
    "compass": "compass",
    "climber": "climber",
    "starry": "starry",
}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str  # a gettext msgid
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    staff_no: str
    name: str
    school_code: str
    start: date | None
    status: str | None
    tier: str | None


# ---------------------------------------------------------------------------------------------------------------
# Reading the file


def read_rows(content: bytes, filename: str, report: ImportReport) -> list[_Row]:
    """The file's data rows, each cell parsed; problems go to the report."""
    parsed = [_parse_row(row, report) for row in named_rows(content, filename, LAYOUT)]
    report.rows = len(parsed)
    return parsed


def _parse_row(row: NamedRow, report: ImportReport) -> _Row:
    cell, number = row.text, row.number

    def error(column: str, message: str, **params: Any) -> None:
        report.errors.append(RowError(number, column, message, params))

    staff_no, name = cell(COL_STAFF_NO), cell(COL_NAME)
    if not staff_no:
        error(COL_STAFF_NO, _("The staff number is missing."))
    elif len(staff_no) > 32:
        error(COL_STAFF_NO, _("The staff number has at most 32 characters."))
    if not name:
        error(COL_NAME, _("The name is missing."))
    elif len(name) > 64:
        error(COL_NAME, _("The name has at most 64 characters."))
    start = None
    if row.has(COL_START):
        raw = row.raw(COL_START)
        try:
            start = parse_date(raw if not isinstance(raw, str) else raw.strip())
            if start is not None and not 1950 <= start.year <= clock.now().year:
                error(COL_START, _("The teaching start date must lie between 1950 and today."))
        except ValueError:
            error(COL_START, _('Write the date like 2026-09-01 (found "%(value)s").'), value=cell(COL_START))
    status = tier = None
    if cell(COL_STATUS):
        status = STATUS_WORDS.get(cell(COL_STATUS).lower())
        if status is None:
            error(
                COL_STATUS, _('Unknown status "%(value)s": use 储备池, 见习班主任 or 班主任.'), value=cell(COL_STATUS)
            )
    if cell(COL_TIER):
        tier = TIER_WORDS.get(cell(COL_TIER).lower())
        if tier is None:
            error(COL_TIER, _('Unknown tier "%(value)s": use 地平线, 指南针, 攀登者 or 满天星.'), value=cell(COL_TIER))
    return _Row(number, staff_no, name, cell(COL_SCHOOL), start, status, tier)


# ---------------------------------------------------------------------------------------------------------------
# Checking against the database, then writing


T = TypeVar("T")


def _chunks(items: list[T], size: int = 900) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def import_roster(session: Session, actor: User, content: bytes, filename: str) -> ImportReport:
    """Checks every row; writes only when every row is right. Nothing is written when the report has errors."""
    if actor.role not in (Role.school_admin, Role.district_admin):
        raise Forbidden(_("Your role does not allow this."))
    if actor.role == Role.school_admin and actor.school_id is None:
        raise Forbidden(_("Your account is not attached to a school."))
    report = ImportReport()
    rows = read_rows(content, filename, report)
    schools = {code: sid for sid, code in session.execute(select(School.id, School.code))}
    numbers = sorted({r.staff_no for r in rows if r.staff_no})
    profiles: dict[str, tuple[int, int | None]] = {}
    accounts: dict[str, tuple[int, str, int | None]] = {}
    for chunk in _chunks(numbers):
        for staff_no, found_id, found_school in session.execute(
            select(TeacherProfile.staff_no, User.id, User.school_id)
            .join(User, User.id == TeacherProfile.user_id)
            .where(TeacherProfile.staff_no.in_(chunk))
        ):
            profiles[staff_no] = (found_id, found_school)  # type: ignore[index]
        for username, found_id, role, found_school in session.execute(
            select(User.username, User.id, User.role, User.school_id).where(User.username.in_(chunk))
        ):
            accounts[username] = (found_id, role, found_school)
    linked = set(session.scalars(select(TeacherProfile.user_id).where(TeacherProfile.staff_no.is_not(None))))

    seen: dict[str, int] = {}
    plan: list[tuple[_Row, int | None, int | None]] = []  # row, existing user id, school id
    for row in rows:

        def error(column: str, message: str, row: _Row = row, **params: Any) -> None:
            report.errors.append(RowError(row.number, column, message, params))

        if row.staff_no in seen:
            error(
                COL_STAFF_NO,
                _("Staff number %(value)s appears twice in this file (also in row %(other)s)."),
                value=row.staff_no,
                other=seen[row.staff_no],
            )
            continue
        if row.staff_no:
            seen[row.staff_no] = row.number
        school_id: int | None
        if actor.role == Role.district_admin:
            if not row.school_code:
                error(COL_SCHOOL, _("The school code is missing."))
                continue
            school_id = schools.get(row.school_code)
            if school_id is None:
                error(COL_SCHOOL, _('No school has the code "%(value)s".'), value=row.school_code)
                continue
        else:
            school_id = actor.school_id
            if row.school_code and schools.get(row.school_code) != actor.school_id:
                error(COL_SCHOOL, _("You can import teachers of your own school only."))
                continue
        existing = profiles.get(row.staff_no)
        user_id: int | None = None
        if existing is not None:
            user_id, current_school = existing
            if actor.role == Role.school_admin and current_school != actor.school_id:
                error(
                    COL_STAFF_NO,
                    _(
                        "This staff number belongs to a teacher of another school. The district "
                        "admin records moves between schools."
                    ),
                )
                continue
        elif row.staff_no in accounts:
            other_id, role, other_school = accounts[row.staff_no]
            in_scope = actor.role == Role.district_admin or other_school == actor.school_id
            if role != Role.teacher or other_id in linked or not in_scope:
                error(
                    COL_STAFF_NO,
                    _("An account named %(value)s already exists and is not this teacher's."),
                    value=row.staff_no,
                )
                continue
            user_id = other_id
        plan.append((row, user_id, school_id))
    report.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    if report.errors:
        return report
    _write(session, report, plan)
    audit.record(
        session,
        "people.roster_import",
        actor_id=actor.id,
        subject_type="roster",
        subject_id=filename[:64],
        school_id=actor.school_id,
        after={
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )
    return report


def _write(session: Session, report: ImportReport, plan: list[tuple[_Row, int | None, int | None]]) -> None:
    now = clock.now()
    ids = [uid for _row, uid, _s in plan if uid is not None]
    users = {u.id: u for chunk in _chunks(ids) for u in session.scalars(select(User).where(User.id.in_(chunk)))}
    profiles = {
        p.user_id: p
        for chunk in _chunks(ids)
        for p in session.scalars(select(TeacherProfile).where(TeacherProfile.user_id.in_(chunk)))
    }
    created: list[tuple[_Row, int | None]] = []
    for row, user_id, school_id in plan:
        if user_id is None:
            created.append((row, school_id))
            continue
        user = users[user_id]
        profile = profiles.get(user_id)
        if profile is None:
            profile = TeacherProfile(user_id=user_id, staff_no=row.staff_no, status="reserve")
            session.add(profile)
            changed = True
        else:
            changed = False
        wanted: dict[str, Any] = {"teaching_start": row.start, "status": row.status, "tier": row.tier}
        for key, value in wanted.items():
            if value is not None and getattr(profile, key) != value:
                setattr(profile, key, value)
                changed = True
        if user.display_name != row.name or user.school_id != school_id:
            user.display_name, user.school_id = row.name, school_id
            changed = True
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    # New accounts in bulk (batched INSERT … RETURNING): a district roster has 15,000 rows.
    for chunk in (created[i : i + 1000] for i in range(0, len(created), 1000)):
        accounts = [
            {"username": row.staff_no, "display_name": row.name, "role": Role.teacher.value,
             "password_hash": None,  # nosec B105 - no password at all: imported teachers sign in through SSO
             "school_id": school_id, "is_active": True, "created_at": now}
            for row, school_id in chunk
        ]  # fmt: skip
        new_ids = dict(session.execute(insert(User).returning(User.username, User.id), accounts).all())
        session.execute(
            insert(TeacherProfile),
            [
                {"user_id": new_ids[row.staff_no], "staff_no": row.staff_no, "teaching_start": row.start,
                 "tier": row.tier, "status": row.status or "reserve"}
                for row, _school in chunk
            ],
        )  # fmt: skip
    report.created = len(created)
    session.flush()
    staff = [row.staff_no for row, _uid, _school in plan if row.status is not None]
    by_staff = {
        staff_no: user_id
        for chunk in _chunks(staff)
        for staff_no, user_id in session.execute(
            select(TeacherProfile.staff_no, TeacherProfile.user_id).where(TeacherProfile.staff_no.in_(chunk))
        )
    }
    today = clock.now().astimezone(clock.SHANGHAI).date()
    sync_status_periods(
        session,
        [(by_staff[row.staff_no], row.status, school_id) for row, _uid, school_id in plan if row.status is not None],
        today,
    )


# What a status (任职状态) means for the service periods: the kind of period it holds open (DOMAIN.md, People:
# reserve pool → trainee → appointed; leaving the role ends a service period).
STATUS_PERIOD_KINDS = {"reserve": None, "trainee": "trainee", "appointed": "homeroom"}
ROLE_KINDS = ("trainee", "homeroom", "rotating", "deputy")


def sync_status_periods(session: Session, changes: list[tuple[int, str, int | None]], on: date) -> int:
    """Opens or closes service periods so they say what the imported 任职状态 says, from `on` (issue 13): 班主任
    opens a homeroom period at the teacher's school (closing an open trainee period the day before); 见习班主任 opens
    a trainee period; 储备池 closes the open ones. A status the open periods already say changes nothing, so a
    re-import writes nothing. Returns how many periods were opened or closed. Reads the open periods in chunks."""
    user_ids = [user_id for user_id, _status, _school in changes]
    open_periods: dict[int, list[ServicePeriod]] = {}
    for chunk in _chunks([str(u) for u in user_ids]):
        for period in session.scalars(
            select(ServicePeriod).where(
                ServicePeriod.user_id.in_([int(u) for u in chunk]),
                ServicePeriod.end.is_(None),
                ServicePeriod.kind.in_(ROLE_KINDS),
            )
        ):
            open_periods.setdefault(period.user_id, []).append(period)
    moved = 0
    for user_id, status, school_id in changes:
        wanted = STATUS_PERIOD_KINDS.get(status)
        current = open_periods.get(user_id, [])
        if wanted == "homeroom" and any(p.kind in ("homeroom", "rotating") for p in current):
            continue
        if wanted is not None and wanted != "homeroom" and any(p.kind == wanted for p in current):
            continue
        for period in current:
            if wanted == "homeroom" and period.kind == "deputy":
                continue  # an appointed homeroom teacher may still be deputy elsewhere: not the import's business
            period.end = max(period.start, on - timedelta(days=1))
            moved += 1
        if wanted is not None:
            session.add(ServicePeriod(user_id=user_id, kind=wanted, school_id=school_id, start=on))
            moved += 1
    session.flush()
    return moved


# ---------------------------------------------------------------------------------------------------------------
# The template


def template_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "教师名单"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (14, 12, 14, 14, 14, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["列", "是否必填", "说明"])
    for line in (
        (COL_STAFF_NO, "必填", "学校的教工号；再次导入时按工号更新，不会重复建档；也是新账号的用户名"),
        (COL_NAME, "必填", "教师姓名"),
        (COL_SCHOOL, "区管理员必填", "学校代码；学校管理员可不填，只能导入本校教师"),
        (COL_START, "选填", "从教起始日期，如 2001-09-01"),
        (COL_STATUS, "选填", "储备池、见习班主任 或 班主任；新教师默认为储备池"),
        (COL_TIER, "选填", "地平线、指南针、攀登者 或 满天星"),
        ("", "", "留空的选填项在再次导入时保留原有数据。任何一行有误时整份名单都不会导入，请按报告逐行改正。"),
    ):
        notes.append(list(line))
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 14
    notes.column_dimensions["C"].width = 80
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
