"""A school admin imports the staff list the way the school keeps it: Excel, or CSV saved by Chinese Excel.

Nothing is imported when any row is wrong, and the report names the row, the column and the problem; importing
the same list again updates by staff number and creates no duplicates.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit import clock as server_clock
from backend.people.models import ServicePeriod, TeacherProfile
from backend.people.roster import COLUMNS
from tests.api.helpers import login
from tests.factories import make_user
from tests.people.helpers import csrf, make_teacher, zh

HEADER = ["工号", "姓名", "学校代码", "从教日期", "任职状态", "培养阶段"]


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, Role.school_admin, school_code="S-A")


def upload(client: TestClient, content: bytes, filename: str) -> object:
    token = csrf(client.get("/admin/teachers/import").text)
    return client.post("/admin/teachers/import", data={"csrf_token": token}, files={"file": (filename, content)})


def profiles(session: Session) -> dict[str, tuple[str, date | None, str, str | None]]:
    rows = session.execute(
        select(
            TeacherProfile.staff_no,
            User.display_name,
            TeacherProfile.teaching_start,
            TeacherProfile.status,
            TeacherProfile.tier,
        )
        .join(User, User.id == TeacherProfile.user_id)
        .where(TeacherProfile.staff_no.is_not(None))
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}  # type: ignore[misc]


def test_admin_imports_an_excel_roster_and_reimports_without_duplicates(
    client: TestClient, session: Session, admin: User
) -> None:
    login(client, admin.username)
    rows: list[list[object]] = [
        ["1001", "陈晓燕", "S-A", datetime(1996, 9, 1), "班主任", "指南针"],
        [1002, "刘建国", "", "2001/9/1", "见习班主任", ""],  # a number cell, an empty school code, a slashed date
        ["1003", "周敏", None, "2010年9月1日", None, None],
    ]
    r = upload(client, xlsx(rows), "花名册.xlsx")
    assert r.status_code == 200, r.text
    assert (
        zh(
            "Imported %(rows)s rows from %(file)s: %(created)s new teachers, %(updated)s updated, %(unchanged)s "
            "unchanged.",
            rows=3,
            file="花名册.xlsx",
            created=3,
            updated=0,
            unchanged=0,
        )
        in r.text
    )
    # How the new accounts get their first password is said where they are created.
    assert zh(
        "To give a new teacher a password, open their account under Accounts and choose Reset password: the portal "
        "shows a temporary password once, to hand over in person; the teacher chooses their own at the first sign-in."
    ) in r.text
    assert profiles(session) == {
        "1001": ("陈晓燕", date(1996, 9, 1), "appointed", "compass"),
        "1002": ("刘建国", date(2001, 9, 1), "trainee", None),
        "1003": ("周敏", date(2010, 9, 1), "reserve", None),
    }
    teachers = session.scalars(select(User).where(User.username.in_(["1001", "1002", "1003"]))).all()
    assert {t.school_id for t in teachers} == {admin.school_id} and {t.role for t in teachers} == {"teacher"}

    # The same list again, with one name corrected and one status changed: updates, no duplicates.
    rows[0][1] = "陈晓艳"
    rows[2][4] = "班主任"
    r = upload(client, xlsx(rows), "花名册.xlsx")
    assert r.status_code == 200
    assert (
        zh(
            "Imported %(rows)s rows from %(file)s: %(created)s new teachers, %(updated)s updated, %(unchanged)s "
            "unchanged.",
            rows=3,
            file="花名册.xlsx",
            created=0,
            updated=2,
            unchanged=1,
        )
        in r.text
    )
    assert "Reset password" not in r.text and zh("Reset password") not in r.text  # nobody new: nothing to explain
    assert session.scalar(select(func.count()).select_from(TeacherProfile)) == 3
    assert profiles(session)["1001"][0] == "陈晓艳" and profiles(session)["1003"][2] == "appointed"
    # An empty optional cell keeps what is stored.
    assert profiles(session)["1001"][1] == date(1996, 9, 1)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_saved_by_excel_in_any_of_its_encodings_is_read(
    client: TestClient, session: Session, admin: User, encoding: str
) -> None:
    login(client, admin.username)
    content = csv_bytes([["2001", "欧阳娜娜", "", "1998-09-01", "班主任", "攀登者"]], encoding)
    r = upload(client, content, "名单.csv")
    assert r.status_code == 200, r.text
    assert profiles(session)["2001"] == ("欧阳娜娜", date(1998, 9, 1), "appointed", "climber")


def test_a_roster_with_any_wrong_row_imports_nothing_and_reports_every_problem(
    client: TestClient, session: Session, admin: User
) -> None:
    make_teacher(session, "S-B", name="外校老师", staff_no="9001")
    login(client, admin.username)
    rows: list[list[object]] = [
        ["3001", "正确的老师", "", "2000-09-01", "班主任", ""],
        ["", "没有工号", "", "", "", ""],
        ["3003", "", "", "2000-02-30", "", ""],
        ["3004", "状态错误", "", "", "校长", "北斗星"],
        ["3001", "重复工号", "", "", "", ""],
        ["3006", "别校代码", "S-B", "", "", ""],
        ["9001", "外校工号", "", "", "", ""],
    ]
    r = upload(client, xlsx(rows), "有误.xlsx")
    assert r.status_code == 422
    assert zh("Problems found (no teacher was imported)") in r.text
    assert "题目" not in r.text  # the roster holds teachers, not quiz questions
    # Each problem, with its spreadsheet row (the header is row 1) and column.
    expected = [
        (3, "工号", zh("The staff number is missing.")),
        (4, "姓名", zh("The name is missing.")),
        (4, "从教日期", zh('Write the date like 2026-09-01 (found "%(value)s").', value="2000-02-30")),
        (5, "任职状态", zh('Unknown status "%(value)s": use 储备池, 见习班主任 or 班主任.', value="校长")),
        (5, "培养阶段", zh('Unknown tier "%(value)s": use 地平线, 指南针, 攀登者 or 满天星.', value="北斗星")),
        (
            6,
            "工号",
            zh("Staff number %(value)s appears twice in this file (also in row %(other)s).", value="3001", other=2),
        ),
        (7, "学校代码", zh("You can import teachers of your own school only.")),
        (
            8,
            "工号",
            zh(
                "This staff number belongs to a teacher of another school. The district admin records moves "
                "between schools."
            ),
        ),
    ]
    table = r.text[r.text.index('id="import-errors"') :]
    for row, column, message in expected:
        assert f'<td class="num">{row}</td><td>{column}</td><td>{message}</td>' in table, (row, column, message)
    assert table.count('<td class="num">') == len(expected)
    assert set(profiles(session)) == {"9001"}  # nothing imported


def test_district_import_needs_a_known_school_code_and_moves_a_teacher(client: TestClient, session: Session) -> None:
    moving = make_teacher(session, "S-A", name="调动老师", staff_no="4001")
    school_a = moving.school_id
    school_b = make_user(session, Role.school_admin, school_code="S-B").school_id
    district = make_user(session, Role.district_admin, school_code=None)
    login(client, district.username)
    r = upload(client, xlsx([["4001", "调动老师", "", "", "", ""], ["4002", "新老师", "NOPE", "", "", ""]]), "d.xlsx")
    assert r.status_code == 422
    assert zh("The school code is missing.") in r.text
    assert zh('No school has the code "%(value)s".', value="NOPE") in r.text
    assert session.scalar(select(User.school_id).where(User.id == moving.id)) == school_a
    r = upload(client, xlsx([["4001", "调动老师", "S-B", "", "", ""]]), "d.xlsx")
    assert r.status_code == 200
    assert session.scalar(select(User.school_id).where(User.id == moving.id)) == school_b


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "empty.xlsx", "The file is empty."),
        (b"not a zip", "broken.xlsx", "This is not a readable Excel (.xlsx) file."),
        (b"x", "roster.pdf", "Upload the roster as an Excel (.xlsx) or CSV file."),
        ("姓名,学校代码\r\n王,\r\n".encode(), "no-staff-no.csv", None),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    client: TestClient, session: Session, admin: User, content: bytes, filename: str, message: str | None
) -> None:
    login(client, admin.username)
    r = upload(client, content, filename)
    assert r.status_code == 422
    if message:
        assert zh(message) in r.text
    else:
        assert (
            zh(
                "The first row must name the columns; missing: %(columns)s. Download the template to see the layout.",
                columns="工号",
            )
            in r.text
        )
    assert profiles(session) == {}


def test_the_template_downloads_with_the_columns_and_instructions(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    r = client.get("/admin/teachers/template.xlsx")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in book.worksheets[0][1]] == list(COLUMNS)
    assert book.sheetnames == ["教师名单", "填写说明"]


def test_a_district_roster_of_many_schools_imports_in_bulk_and_reimports_unchanged(
    session: Session,
) -> None:
    """More rows than one insert batch (1,000), across two schools, through the service as the route calls it."""
    from backend.people import roster

    for code in ("S-A", "S-B"):
        make_user(session, Role.school_admin, school_code=code)
    district = make_user(session, Role.district_admin, school_code=None)
    rows = [[f"B{n:05d}", f"教师{n}", "S-A" if n % 2 else "S-B", "2003-09-01", "班主任", ""] for n in range(1500)]
    first = roster.import_roster(session, district, csv_bytes(rows, "utf-8"), "district.csv")
    assert (first.ok, first.created, first.updated) == (True, 1500, 0)
    again = roster.import_roster(session, district, csv_bytes(rows, "utf-8"), "district.csv")
    assert (again.ok, again.created, again.updated, again.unchanged) == (True, 0, 0, 1500)
    assert session.scalar(select(func.count()).select_from(TeacherProfile)) == 1500
    assert profiles(session)["B00007"] == ("教师7", date(2003, 9, 1), "appointed", None)


def test_the_imported_status_opens_and_closes_the_matching_service_period(
    client: TestClient, session: Session, admin: User
) -> None:
    """Issue 13: 任职状态 = 班主任 is a current homeroom period (the title review then finds the teacher in post);
    见习班主任 closes it and opens a trainee period; 储备池 closes what is open; a re-import changes nothing."""
    login(client, admin.username)
    today = server_clock.now().astimezone(server_clock.SHANGHAI).date()

    def periods() -> list[tuple[str, date, date | None]]:
        user_id = session.scalar(select(TeacherProfile.user_id).where(TeacherProfile.staff_no == "2001"))
        return [
            (p.kind, p.start, p.end)
            for p in session.scalars(
                select(ServicePeriod).where(ServicePeriod.user_id == user_id).order_by(ServicePeriod.id)
            )
        ]

    for status, expected in (
        ("班主任", [("homeroom", today, None)]),
        ("班主任", [("homeroom", today, None)]),  # again: nothing new
        ("见习班主任", [("homeroom", today, today), ("trainee", today, None)]),
        ("储备池", [("homeroom", today, today), ("trainee", today, today)]),
    ):
        sheet = xlsx([["2001", "吴静", "S-A", "2000-09-01", status, ""]])
        assert upload(client, sheet, "花名册.xlsx").status_code == 200
        session.expire_all()
        assert periods() == expected, status
