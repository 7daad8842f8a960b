"""The district admin prepares title review (职称评审): who has the paper waived, who is on the honour list, and the
Excel export with certified hours per year and category, every figure traced to a record or a ledger entry."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits.models import LedgerEntry
from tests.api.helpers import login
from tests.factories import make_user
from tests.people.helpers import make_teacher, zh

REVIEW_DAY = "2026-09-01"


def entry(
    session: Session,
    teacher: User,
    hours: str,
    year: int,
    category: str,
    status: str = "certified",
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    row = LedgerEntry(
        user_id=teacher.id,
        hours=Decimal(hours),
        category=category,
        level="district",
        source="external",
        source_ref=f"test:{uuid.uuid4().hex[:12]}",
        year=year,
        status=status,
        reverses_id=reverses.id if reverses else None,
        created_at=datetime(year, 6, 1, 2, 0, tzinfo=UTC),
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def district(session: Session):  # type: ignore[no-untyped-def]
    veteran = make_teacher(
        session,
        "S-A",
        name="资深班主任",
        staff_no="V001",
        teaching_start=datetime(1996, 9, 1).date(),
        periods=(("homeroom", "2006-09-01", "2016-08-31"), ("homeroom", "2016-03-01", None)),  # overlap after a move
        evaluations=((2021, "excellent"), (2023, "qualified")),
    )
    junior = make_teacher(
        session,
        "S-B",
        name="年轻班主任",
        staff_no="J001",
        teaching_start=datetime(2015, 9, 1).date(),
        periods=(("trainee", "2015-09-01", "2016-08-31"), ("homeroom", "2016-09-01", None)),
        evaluations=((2025, "excellent"),),
    )
    # 26 years of homeroom service but left the role: neither waiver nor honour.
    retired = make_teacher(
        session,
        "S-B",
        name="已卸任老师",
        staff_no="R001",
        teaching_start=datetime(1990, 9, 1).date(),
        periods=(("homeroom", "1995-09-01", "2021-08-31"),),
        evaluations=((2024, "excellent"),),
    )
    certified = entry(session, veteran, "12.0", 2026, "ethics")
    entry(session, veteran, "6.5", 2025, "practice")
    entry(session, veteran, "3.0", 2026, "ethics", status="pending")  # not certified: not counted
    entry(session, veteran, "-2.0", 2026, "ethics", reverses=certified)  # a certified correction nets out
    entry(session, junior, "4.0", 2024, "self_study")
    return veteran, junior, retired


def test_the_report_shows_each_condition_and_the_waiver(client: TestClient, session: Session, district) -> None:
    veteran, junior, retired = district
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    page = client.get(f"/admin/title-review?as_of={REVIEW_DAY}")
    assert page.status_code == 200
    assert "资深班主任" in page.text and "年轻班主任" in page.text and "已卸任老师" in page.text

    waived = client.get(f"/admin/title-review?as_of={REVIEW_DAY}&only=waiver").text
    assert "资深班主任" in waived and "年轻班主任" not in waived and "已卸任老师" not in waived
    # A day earlier the veteran has 29 years of teaching and 7,304 days of homeroom service.
    assert "资深班主任" not in client.get("/admin/title-review?as_of=2026-08-31&only=waiver").text

    honours = client.get(f"/admin/title-review?as_of={REVIEW_DAY}&only=honour").text
    assert "资深班主任" in honours and "已卸任老师" not in honours and "年轻班主任" not in honours

    # htmx asks for the results block only.
    block = client.get(f"/admin/title-review?as_of={REVIEW_DAY}", headers={"HX-Request": "true"}).text
    assert block.lstrip().startswith('<section id="results"')


def test_the_teacher_page_shows_the_records_behind_every_figure(client: TestClient, session: Session, district) -> None:
    veteran, _junior, retired = district
    admin = make_user(session, Role.school_admin, school_code="S-A")
    login(client, admin.username)
    page = client.get(f"/admin/title-review/{veteran.id}?as_of={REVIEW_DAY}")
    assert page.status_code == 200
    text = page.text
    # Dates as the rest of the portal writes them (issue 18), never ISO in the text.
    day = "2026年9月1日"
    assert zh("Paper requirement waived: all four conditions hold on %(date)s.", date=day) in text
    assert (
        zh("Teaching since %(start)s: %(n)s completed years on %(date)s.", start="1996年9月1日", n=30, date=day)
        in text
    )
    # 7,305 days although the two periods add up to 7,489: the overlap counts once.
    assert "7305" in text and "2016年3月1日" in text and "2016年8月31日" in text
    # "The last 5 years" said the same way here and on the list: which years they are.
    window = zh("“The last %(n)s years”: evaluations of %(first)s to %(last)s.", n=5, first=2021, last=2026)
    assert window in text
    assert window in client.get(f"/admin/title-review?as_of={REVIEW_DAY}").text
    # Certified hours: 12 − 2 in 2026 (the pending 3 h is not counted), 6.5 in 2025; each entry linked.
    assert ">10.0<" in text and ">6.5<" in text
    assert (
        zh(
            "Sums of ledger entries with status “certified”; %(n)s entries of these years in other statuses are "
            "not counted.",
            n=1,
        )
        in text
    )
    assert text.count('href="/admin/hours/') == 3
    # Another school's teacher is not found for this school admin.
    assert client.get(f"/admin/title-review/{retired.id}").status_code == 404


def _export(client: TestClient, query: str = f"as_of={REVIEW_DAY}"):  # type: ignore[no-untyped-def]
    r = client.get(f"/admin/title-review/export.xlsx?{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in r.headers["content-disposition"]
    return load_workbook(io.BytesIO(r.content), read_only=True)


def test_the_export_opens_in_excel_with_the_right_answers_and_hours(
    client: TestClient, session: Session, district
) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    book = _export(client)
    assert book.sheetnames == ["职称评审", "荣誉名单", "说明"]
    rows = list(book["职称评审"].iter_rows(values_only=True))
    header = list(rows[0])
    by_staff = {r[0]: dict(zip(header, r, strict=False)) for r in rows[1:]}
    assert set(by_staff) == {"V001", "J001", "R001"}
    veteran = by_staff["V001"]
    assert veteran["从教年限（年）"] == 30 and veteran["条件1 从教≥30年"] == "是"
    assert veteran["班主任天数"] == 7305 and veteran["条件2 班主任≥20年"] == "是"
    assert veteran["条件3 现任班主任"] == "是" and veteran["窗口内优秀年份"] == "2021"
    assert veteran["免论文"] == "是" and veteran["荣誉证书（在岗≥20年）"] == "是"
    assert "#" in veteran["计入的任职记录"] and "2016-03-01" in veteran["计入的任职记录"]
    assert veteran["2026 师德素养"] == 10 and veteran["2026 合计"] == 10
    assert veteran["2025 实践体验"] == 6.5 and veteran["五年合计（已认定）"] == 16.5
    assert by_staff["J001"]["2024 自主研修"] == 4 and by_staff["J001"]["免论文"] == "否"
    retired = by_staff["R001"]
    assert retired["条件2 班主任≥20年"] == "是" and retired["条件3 现任班主任"] == "否"
    assert retired["荣誉证书（在岗≥20年）"] == "否"
    honours = list(book["荣誉名单"].iter_rows(values_only=True))
    assert [r[0] for r in honours[1:]] == ["V001"]
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert notes["评审基准日"] == REVIEW_DAY and "已认定" in notes["学时"]


def test_a_school_admin_exports_their_own_school_only(client: TestClient, session: Session, district) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-B")
    login(client, admin.username)
    rows = list(_export(client)["职称评审"].iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["J001", "R001"]


def test_nineteen_years_364_days_read_19_and_service_before_the_teaching_start_is_explained(
    client: TestClient, session: Session
) -> None:
    """Issue 13: never "20.0" beside ✗ on the page or in the export; a period recorded before the teaching start
    is flagged on the teacher's record, on the review page and in the export (with its 说明 line)."""
    from datetime import date

    teacher = make_teacher(
        session, "S-Y", name="差一天老师", staff_no="Y001", teaching_start=date(1996, 6, 1),
        periods=(("homeroom", "2006-09-02", None), ("homeroom", "1996-03-01", "1996-05-31")),
    )  # fmt: skip
    admin = make_user(session, Role.school_admin, school_code="S-Y")
    login(client, admin.username)
    page = client.get(f"/admin/title-review/{teacher.id}?as_of={REVIEW_DAY}").text
    assert 'id="before-teaching"' in page and "92" in page
    assert 'id="homeroom-years"' in page and "20.0" not in page
    assert 'id="period-' in client.get(f"/admin/teachers/{teacher.id}").text
    assert "before-teaching" in client.get(f"/admin/teachers/{teacher.id}").text
    rows = list(_export(client)["职称评审"].iter_rows(values_only=True))
    line = dict(zip(rows[0], next(r for r in rows if r[0] == "Y001"), strict=False))
    assert line["班主任年限（整年，不进位）"] == 19 and line["班主任天数"] == 7304
    assert line["条件2 班主任≥20年"] == "否" and line["早于从教日期未计入的班主任天数"] == 92
    notes = {r[0]: r[1] for r in _export(client)["说明"].iter_rows(values_only=True)}
    assert "早于从教日期" in notes and "不进位" in notes["条件2"]
