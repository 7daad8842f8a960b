"""Classes and their homeroom teachers come from Excel: every row or none, with a row-by-row report."""

from __future__ import annotations

import io
from datetime import date

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.organisation.models import Appointment, SchoolClass
from backend.people.models import ServicePeriod
from tests.api.helpers import login
from tests.organisation.helpers import school_admin
from tests.people.helpers import make_teacher, zh

HEADER = ["班级", "年级", "班主任工号", "副班主任工号", "轮值班主任工号", "任职日期"]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client: TestClient, token: str, content: bytes, name: str = "classes.xlsx"):  # type: ignore[no-untyped-def]
    return client.post(
        "/organisation/classes/import",
        data={"csrf_token": token, "year": "2026"},
        files={"file": (name, content, "application/octet-stream")},
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_class_list_imports_classes_and_appointments_and_a_second_import_changes_nothing(
    client: TestClient, session: Session, clock
) -> None:
    admin = school_admin(session)
    for n, name in ((1, "甲"), (2, "乙"), (3, "丙"), (4, "丁")):
        make_teacher(session, "S-A", name=f"{name}老师", staff_no=f"A{n}")
    token = login(client, admin.username)
    content = _xlsx(
        [["一（1）班", "一年级", "A1", "A2、A3", "", "2026-09-01"], ["一（2）班", "一年级", "A4", "", "A3", ""]]
    )

    r = _upload(client, token, content)
    assert r.status_code == 200, r.text
    msgid = "Imported %(rows)s rows from %(file)s: %(classes)s new classes, %(appointments)s new appointments, %(unchanged)s unchanged."  # noqa: E501
    assert zh(msgid, rows=2, file="classes.xlsx", classes=2, appointments=5, unchanged=0) in r.text
    assert _count(session, SchoolClass) == 2 and _count(session, Appointment) == 5
    kinds = sorted(session.scalars(select(ServicePeriod.kind)))
    assert kinds == ["deputy", "deputy", "homeroom", "homeroom", "rotating"]
    # The second class had no date: today (2 November 2026, inside the school year).
    assert date(2026, 11, 2) in set(session.scalars(select(ServicePeriod.start)))

    again = _upload(client, token, content)
    assert again.status_code == 200
    assert _count(session, Appointment) == 5 and _count(session, ServicePeriod) == 5


def test_one_bad_row_rejects_the_whole_file_with_a_report(client: TestClient, session: Session, clock) -> None:
    admin = school_admin(session)
    make_teacher(session, "S-A", name="甲老师", staff_no="A1")
    make_teacher(session, "S-B", name="外校老师", staff_no="B1")
    token = login(client, admin.username)
    content = _xlsx(
        [
            ["一（1）班", "一年级", "A1", "", "", "2026-09-01"],  # fine on its own
            ["一（2）班", "一年级", "B1", "", "", ""],  # another school's teacher
            ["一（3）班", "一年级", "A1、A1", "", "", ""],  # two 班主任
            ["一（1）班", "", "", "", "", ""],  # twice in the file
            ["一（4）班", "", "", "", "", "2026-08-31"],  # before the school year (no appointment, so no check)
            ["一（5）班", "", "A1", "", "", "2027-09-01"],  # after it
            ["", "", "", "", "", "昨天"],
        ]
    )
    r = _upload(client, token, content)
    assert r.status_code == 422
    assert zh("No teacher of this school has the staff number %(value)s.", value="B1") in r.text
    assert zh("A class has exactly one homeroom teacher: write one staff number.") in r.text
    assert (
        zh("The class %(value)s appears twice in this file (also in row %(other)s).", value="一（1）班", other=2)
        in r.text
    )
    assert zh("The date must lie in the class's school year.") in r.text
    assert zh("Enter the class name, e.g. 三年级（2）班.") in r.text
    assert zh('Write the date like 2026-09-01 (found "%(value)s").', value="昨天") in r.text
    # Nothing stays: not even the first, correct row.
    assert (
        _count(session, SchoolClass) == 0 and _count(session, Appointment) == 0 and _count(session, ServicePeriod) == 0
    )


def test_files_that_are_not_class_lists_are_refused(client: TestClient, session: Session) -> None:
    admin = school_admin(session)
    token = login(client, admin.username)
    assert zh("This is not a readable Excel (.xlsx) file.") in _upload(client, token, b"not a zip").text
    assert zh("Upload the classes as an Excel (.xlsx) or CSV file.") in _upload(client, token, b"x", "a.pdf").text
    csv = "班级,班主任工号\n二（1）班,\n".encode("gb18030")
    r = _upload(client, token, csv, "classes.csv")
    assert r.status_code == 200 and _count(session, SchoolClass) == 1
    assert client.get("/organisation/classes/template.xlsx").content[:2] == b"PK"
