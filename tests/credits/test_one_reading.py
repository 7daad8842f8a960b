"""Issue 13: hours mean one thing everywhere. For the same teachers, every page, certificate, export and API reports
the same totals, because every one of them reads `backend.credits.hours`: certified hours are the figure that counts,
pending and verified hours are awaiting certification, rejected hours count nowhere, corrections are netted."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import tokens
from backend.accounts.models import Role, User
from backend.credits import hours, programs, workflow
from backend.credits.certificate_models import Certificate
from backend.credits.models import LedgerEntry
from backend.kit import clock as server_clock
from backend.policies.service import DEFAULT_POLICY
from tests.api.helpers import login
from tests.factories import make_user

LINE = re.compile(r'id="hours-this-year-line"[^>]*data-certified="([-\d.]+)" data-awaiting="([-\d.]+)"')


def _entry(
    session: Session, teacher: User, amount: str, status: str, year: int, category: str = "ethics"
) -> LedgerEntry:
    entry = LedgerEntry(
        user_id=teacher.id,
        hours=Decimal(amount),
        category=category,
        level="district",
        source="external",
        source_ref=uuid.uuid4().hex,
        year=year,
        status=status,
        created_at=server_clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


@pytest.fixture
def ledger(session: Session):  # type: ignore[no-untyped-def]
    """Two teachers of one school; A has hours in every status, a corrected entry and last year's hours."""
    year = server_clock.local_year(server_clock.now())
    school = f"ONE-{uuid.uuid4().hex[:6]}"
    a = make_user(session, school_code=school, display_name="甲老师")
    b = make_user(session, school_code=school, display_name="乙老师")
    admin = make_user(session, Role.district_admin, school_code=None)
    _entry(session, a, "6.0", "certified", year)
    wrong = _entry(session, a, "2.0", "certified", year, "practice")
    workflow.reverse(session, admin, wrong.id, "录入错误")
    _entry(session, a, "3.0", "verified", year, "practice")
    _entry(session, a, "1.5", "pending", year)
    _entry(session, a, "4.0", "rejected", year)
    _entry(session, a, "5.0", "certified", year - 1, "self_study")
    _entry(session, b, "2.5", "certified", year, "knowledge_skills")
    _entry(session, b, "0.5", "pending", year)
    return year, a, b, admin


def test_every_page_certificate_export_and_api_reports_the_same_totals(
    client: TestClient, session: Session, ledger
) -> None:
    year, a, b, admin = ledger
    certified, awaiting = Decimal("6.0"), Decimal("4.5")

    # The one reading.
    assert hours.teacher_total(session, a.id, year=year) == hours.Hours(
        certified=certified, verified=Decimal("3.0"), pending=Decimal("1.5"), rejected=Decimal("4.0")
    )

    # The teacher's pages and API.
    login(client, a.username)
    for path in ("/learning", "/credits/mine"):
        found = LINE.search(client.get(path).text)
        assert found, path
        assert (Decimal(found[1]), Decimal(found[2])) == (certified, awaiting), path
    me = client.get("/api/v1/me/learning").json()
    assert (Decimal(me["hours_this_year"]), Decimal(me["hours_this_year_awaiting"])) == (certified, awaiting)

    # The programmes (annual rule).
    annual = programs.annual_program(session, a.id, DEFAULT_POLICY, year)
    assert (annual.checks[0].have, annual.checks[0].awaiting) == ("6.0", awaiting)

    # The administrator's pages: the teacher's hours and the title review.
    token = login(client, admin.username)
    found = LINE.search(client.get(f"/credits/teachers/{a.id}").text)
    assert found and (Decimal(found[1]), Decimal(found[2])) == (certified, awaiting)
    today = hours.today().isoformat()
    review = client.get(f"/admin/title-review/{a.id}?as_of={today}").text
    row = re.search(rf"<tr><td>{year}</td>.*?<strong>([-\d.]+)</strong>", review)
    assert row and Decimal(row[1]) == certified

    # The title-review export.
    export = client.get(f"/admin/title-review/export.xlsx?as_of={today}")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content), read_only=True)["职称评审"].iter_rows(values_only=True))
    by_name = {r[1]: dict(zip(rows[0], r, strict=False)) for r in rows[1:]}
    assert Decimal(str(by_name["甲老师"][f"{year} 合计"])) == certified
    assert Decimal(str(by_name["甲老师"]["五年合计（已认定）"])) == certified + Decimal("5.0")
    assert Decimal(str(by_name["乙老师"][f"{year} 合计"])) == Decimal("2.5")

    # The year certificate.
    r = client.post(
        "/admin/certificates/year",
        data={"csrf_token": token, "username": a.username, "year": str(year)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    issued = session.scalars(select(Certificate).where(Certificate.user_id == a.id)).one()
    assert issued.hours == certified

    # The integration API.
    value = tokens.create_integration_token(session, admin, name="人事", scopes=("credits:export",), days=30).value
    api = client.get(f"/api/v1/credits/export?year={year}", headers={"Authorization": f"Bearer {value}"}).json()
    by_user = {item["user_id"]: Decimal(item["certified_hours"]) for item in api["items"]}
    assert by_user[a.id] == certified and by_user[b.id] == Decimal("2.5")

    # The aggregate a district dashboard reads: the school's sum is the sum of its teachers'.
    school = hours.by_school(session, year=year, school_ids=[a.school_id])
    assert school[a.school_id] == hours.teacher_total(session, a.id, year=year) + hours.teacher_total(
        session, b.id, year=year
    )
    assert hours.teachers_reaching(session, year=year, target=Decimal("6"), school_ids=[a.school_id]) == {
        a.school_id: (2, 1)
    }


def test_hours_as_of_an_earlier_day_use_the_status_of_that_day(session: Session, clock) -> None:
    """Certified yesterday? As of the day before, the same entry was still verified."""
    teacher = make_user(session)
    school_admin = make_user(session, Role.school_admin, school_code="T-01")
    district = make_user(session, Role.district_admin, school_code=None)
    def clock_at(moment: str) -> None:
        clock.current = datetime.fromisoformat(moment)

    clock_at("2026-03-01T02:00:00+00:00")
    entry = _entry(session, teacher, "4.0", "pending", 2026)
    clock_at("2026-03-02T02:00:00+00:00")
    workflow.apply(session, school_admin, [entry.id], "verify")
    clock_at("2026-03-05T02:00:00+00:00")
    workflow.apply(session, district, [entry.id], "certify")
    clock_at("2026-04-01T02:00:00+00:00")

    def as_of(day: str) -> hours.Hours:
        return hours.teacher_total(session, teacher.id, year=2026, as_of=date.fromisoformat(day))

    assert as_of("2026-02-28") == hours.NONE  # not yet recorded
    assert as_of("2026-03-01") == hours.Hours(pending=Decimal("4.0"))
    assert as_of("2026-03-04") == hours.Hours(verified=Decimal("4.0"))
    assert as_of("2026-03-05") == hours.Hours(certified=Decimal("4.0"))


def test_dimensions_and_programmes_are_the_ones_defined_once(session: Session) -> None:
    with pytest.raises(ValueError):
        hours.totals(session, by=("colour",))
    with pytest.raises(ValueError):
        hours.totals(session, programme="nonsense")
    assert set(workflow.STATUSES) == {s.value for s in hours.Status}
    assert hours.COUNTED == {hours.Status.certified} and hours.Status.rejected not in hours.LIVE
