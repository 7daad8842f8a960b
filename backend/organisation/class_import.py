"""Class import (班级与班主任导入): a school's classes of one school year and their appointments, from Excel.

Layout (first worksheet, headers in row 1 in any order; Chinese in every locale, as the file format):

    班级          the class name (required), e.g. 三年级（2）班
    年级          the grade (optional), e.g. 三年级
    班主任工号     the staff number of the class's 班主任 (one at most)
    副班主任工号   staff numbers of 副班主任, several separated by 、 or ,
    轮值班主任工号 staff numbers of 轮值班主任, the same way
    任职日期       the day the appointments start (optional: today, kept inside the school year)

All-or-nothing, like the roster import: every row goes through the same service functions a person's clicks go
through (`classes.add_class`, `classes.appoint`: the same checks, service periods and audit), inside a savepoint; any
problem rolls the savepoint back and the report names the row, the column and what is wrong. A row the database
already holds (the class, the same teacher in the same role) changes nothing, so importing the file twice is harmless.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.audit import service as audit
from backend.kit.errors import AppError
from backend.kit.i18n import _
from backend.kit.xlsx import Layout, columns, named_rows
from backend.organisation import classes, scope
from backend.organisation.models import Appointment
from backend.people import directory, records
from backend.people.roster import RowError
from backend.policies.service import Policy

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2_000
COL_CLASS, COL_GRADE, COL_HOMEROOM, COL_DEPUTY, COL_ROTATING, COL_START = (
    "班级", "年级", "班主任工号", "副班主任工号", "轮值班主任工号", "任职日期",
)  # fmt: skip
COLUMNS = (COL_CLASS, COL_GRADE, COL_HOMEROOM, COL_DEPUTY, COL_ROTATING, COL_START)
ROLE_COLUMNS = ((COL_HOMEROOM, "homeroom"), (COL_DEPUTY, "deputy"), (COL_ROTATING, "rotating"))
ALIASES = {"班级名称": COL_CLASS, "班主任": COL_HOMEROOM, "副班主任": COL_DEPUTY, "轮值班主任": COL_ROTATING,
           "开始日期": COL_START}  # fmt: skip
LAYOUT = Layout(
    columns=columns(COLUMNS, ALIASES, required=(COL_CLASS,)),
    unsupported=_("Upload the classes as an Excel (.xlsx) or CSV file."),
    max_bytes=MAX_IMPORT_BYTES,
    too_large=_("The file is larger than 5 MB."),
    max_rows=MAX_IMPORT_ROWS,
    too_many=_("A class list has at most 2,000 rows. Split the file."),
)
_SEPARATORS = re.compile(r"[、,，;；/\s]+")


@dataclass
class ClassImportReport:
    rows: int = 0
    classes_created: int = 0
    appointments_created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    name: str
    grade: str
    staff: dict[str, list[str]]  # role → staff numbers
    start: date | None


def _read(content: bytes, filename: str, report: ClassImportReport) -> list[_Row]:
    rows: list[_Row] = []
    for row in named_rows(content, filename, LAYOUT):
        start = None
        if row.text(COL_START):
            raw = row.raw(COL_START)
            try:
                start = records.parse_date(raw if not isinstance(raw, str) else raw.strip())
            except ValueError:
                report.errors.append(
                    RowError(row.number, COL_START, _('Write the date like 2026-09-01 (found "%(value)s").'),
                             {"value": row.text(COL_START)})
                )  # fmt: skip
        staff = {role: [s for s in _SEPARATORS.split(row.text(column)) if s] for column, role in ROLE_COLUMNS}
        rows.append(_Row(row.number, row.text(COL_CLASS), row.text(COL_GRADE), staff, start))
    report.rows = len(rows)
    return rows


def _message(exc: AppError) -> tuple[str, dict[str, object]]:
    """The most precise message an error carries: its first field message, else the message itself."""
    if exc.fields:
        return next(iter(exc.fields.values())), {}
    return exc.message, dict(exc.params)


def import_classes(
    session: Session, actor: User, school_id: int | None, year: int, content: bytes, filename: str, policy: Policy
) -> ClassImportReport:
    """Imports every row or none. Nothing stays written when the report has errors."""
    school = scope.school_for(session, actor, school_id)
    report = ClassImportReport()
    rows = _read(content, filename, report)
    default_start = scope.counting_day(year, policy)
    numbers = sorted({n for row in rows for ns in row.staff.values() for n in ns})
    teachers = directory.teachers_with_staff_nos(session, school.id, numbers)
    seen: dict[str, int] = {}
    savepoint = session.begin_nested()
    for row in rows:

        def error(column: str, message: str, row: _Row = row, **params: object) -> None:
            report.errors.append(RowError(row.number, column, message, params))

        if row.name in seen:
            error(COL_CLASS, _("The class %(value)s appears twice in this file (also in row %(other)s)."),
                  value=row.name, other=seen[row.name])  # fmt: skip
            continue
        seen[row.name] = row.number
        if len(row.staff["homeroom"]) > 1:
            error(COL_HOMEROOM, _("A class has exactly one homeroom teacher: write one staff number."))
            continue
        unknown = [(column, n) for column, role in ROLE_COLUMNS for n in row.staff[role] if n not in teachers]
        for column, number in unknown:
            error(column, _("No teacher of this school has the staff number %(value)s."), value=number)
        if unknown:
            continue
        try:
            school_class = classes.find_class(session, school.id, year, row.name)
            if school_class is None:
                school_class = classes.add_class(session, actor, school.id, year, row.name, row.grade)
                report.classes_created += 1
            for column, role in ROLE_COLUMNS:
                for number in row.staff[role]:
                    teacher = teachers[number]
                    held = session.scalar(
                        select(Appointment.id).where(
                            Appointment.class_id == school_class.id, Appointment.user_id == teacher.id,
                            Appointment.role == role, Appointment.end.is_(None),
                        )
                    )  # fmt: skip
                    if held is not None:
                        report.unchanged += 1
                        continue
                    try:
                        classes.appoint(
                            session, actor, school_class.id, teacher.id, role, row.start or default_start, policy
                        )
                    except AppError as exc:
                        message, params = _message(exc)
                        column_of = COL_START if exc.fields.keys() & {"start", "end"} else column
                        report.errors.append(RowError(row.number, column_of, message, params))
                        continue
                    report.appointments_created += 1
        except AppError as exc:
            message, params = _message(exc)
            report.errors.append(
                RowError(row.number, COL_GRADE if "grade" in exc.fields else COL_CLASS, message, params)
            )
    report.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    if report.errors:
        savepoint.rollback()
        report.classes_created = report.appointments_created = report.unchanged = 0
        return report
    savepoint.commit()
    audit.record(
        session, "organisation.class_import", actor_id=actor.id, subject_type="class_import",
        subject_id=filename[:64], school_id=school.id,
        after={"year": year, "rows": report.rows, "classes_created": report.classes_created,
               "appointments_created": report.appointments_created, "unchanged": report.unchanged},
    )  # fmt: skip
    return report


def template_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "班级与班主任"
    sheet.append(list(COLUMNS))
    sheet.append(["三年级（1）班", "三年级", "T0001", "T0002", "", "2026-09-01"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (16, 10, 14, 18, 18, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["列", "是否必填", "说明"])
    for line in (
        (COL_CLASS, "必填", "班级名称，同一学年内不重复，如 三年级（1）班"),
        (COL_GRADE, "选填", "年级，如 三年级"),
        (COL_HOMEROOM, "选填", "班主任的教工号，每班只能有一位班主任"),
        (COL_DEPUTY, "选填", "副班主任的教工号，多位用顿号（、）或逗号分隔"),
        (COL_ROTATING, "选填", "轮值班主任的教工号，多位用顿号（、）或逗号分隔"),
        (COL_START, "选填", "任职开始日期，须在所选学年内；留空为今天"),
        ("", "", "任何一行有误时整份文件都不会导入，请按报告逐行改正。已有的班级和相同的任职不会重复导入。"),
    ):
        notes.append(list(line))
    notes.column_dimensions["C"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
