"""The district demo generator (`portal demo load --size district`), at a small size: its records are the kind the
rules must handle (gaps, overlaps after moves, deputies), it loads once, and the export agrees with the rules on
every teacher."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.credits.models import LedgerEntry
from backend.demo.district import load_district
from backend.evidence import title_review
from backend.kit import pagination
from backend.people import schools as people
from backend.people.models import ServicePeriod, TeacherProfile
from tests.api.helpers import login
from tests.factories import make_user

AS_OF = date(2026, 11, 29)


@pytest.fixture
def district(session: Session) -> int:
    place = people.ensure_district(session, "songjiang", "松江区")
    lines: list[str] = []
    summary = load_district(session, place, teachers=240, progress=lines.append)
    assert summary.teachers == 240 and summary.schools == 3 and not summary.skipped
    assert lines[-1].endswith("ledger entries")
    return summary.teachers


def test_the_generated_district_has_what_the_rules_must_handle(session: Session, district: int) -> None:
    assert session.scalar(select(func.count()).select_from(TeacherProfile)) == district
    kinds = set(session.scalars(select(ServicePeriod.kind).distinct()))
    assert {"homeroom", "deputy", "trainee"} <= kinds
    statuses = set(session.scalars(select(LedgerEntry.status).distinct()))
    assert statuses == {"pending", "verified", "certified", "rejected"}
    # Moves between schools with overlapping periods, and gaps.
    periods = session.execute(
        select(ServicePeriod.user_id, ServicePeriod.school_id, ServicePeriod.start, ServicePeriod.end).order_by(
            ServicePeriod.user_id, ServicePeriod.start
        )
    ).all()
    overlaps = gaps = 0
    for before, after in zip(periods, periods[1:], strict=False):
        if before[0] == after[0] and before[3] is not None:
            overlaps += after[2] <= before[3]
            gaps += (after[2] - before[3]).days > 1
    assert overlaps > 0 and gaps > 0
    # Loading again adds nothing.
    again = load_district(
        session, people.ensure_district(session, "songjiang", "松江区"), teachers=240, progress=lambda _line: None
    )
    assert again.skipped
    assert session.scalar(select(func.count()).select_from(TeacherProfile)) == district


def test_the_export_agrees_with_the_rules_for_every_teacher(
    client: TestClient, session: Session, district: int
) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    login(client, admin.username)
    r = client.get(f"/admin/title-review/export.xlsx?as_of={AS_OF}")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content), read_only=True)["职称评审"].iter_rows(values_only=True))
    header = rows[0]
    exported = {row[0]: dict(zip(header, row, strict=False)) for row in rows[1:]}
    assert len(exported) == district
    users = dict(session.execute(select(TeacherProfile.staff_no, TeacherProfile.user_id)).all())
    waived = 0
    for staff_no, line in exported.items():
        detail = title_review.teacher_review(session, admin, users[staff_no], AS_OF)
        assert line["免论文"] == ("是" if detail.review.waiver else "否"), staff_no
        assert line["荣誉证书（在岗≥20年）"] == ("是" if detail.honoured else "否"), staff_no
        assert line["班主任天数"] == detail.review.homeroom_days, staff_no
        for year in detail.years:
            assert line[f"{year} 合计"] == pytest.approx(float(detail.totals[year]["total"])), (staff_no, year)
        waived += detail.review.waiver
    assert waived > 0


def test_filtered_pages_are_judged_only_as_far_as_they_are_shown(
    client: TestClient, session: Session, district: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "PAGE_SIZE", 5)
    monkeypatch.setattr(title_review, "CANDIDATE_CHUNK", 7)
    admin = make_user(session, Role.district_admin, school_code=None)
    first = title_review.review_page(session, admin, as_of=AS_OF, only="honour", page=1)
    assert not first.exact and len(first.page.items) == 5 and first.page.has_next
    everyone: list[str] = []
    number = 1
    while True:
        result = title_review.review_page(session, admin, as_of=AS_OF, only="honour", page=number)
        everyone += [row.staff_no or "" for row in result.page.items]
        assert all(row.honoured for row in result.page.items)
        if result.exact:
            break
        number += 1
    # The pages together are the whole honour list, each teacher once.
    login(client, admin.username)
    r = client.get(f"/admin/title-review/export.xlsx?as_of={AS_OF}")
    honours = list(load_workbook(io.BytesIO(r.content), read_only=True)["荣誉名单"].iter_rows(values_only=True))
    assert sorted(everyone) == sorted(row[0] for row in honours[1:])
    assert len(everyone) == len(set(everyone))


def test_the_command_refuses_an_unknown_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DEMO_MODE": "true",
           "MEDIA_ROOT": str(tmp_path / "media")}  # fmt: skip
    portal = str(Path(sys.executable).parent / "portal")
    result = subprocess.run(
        [portal, "demo", "load", "--size", "huge"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and "--size is small or district" in result.stderr
