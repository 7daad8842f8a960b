"""A teacher who declines appointment as 班主任 without good reason (the plan's 二(一)1:
暂缓当年度评优评先、职称及职务晋升): the school records it with reason, actor and year; that year's title review
(page and Excel export) shows it as a blocking note and defers the waiver and the honour; the next year's does not;
another school's admin is refused."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.evidence import title_review
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.people import declined, records
from tests.api.helpers import login
from tests.factories import make_user
from tests.organisation.helpers import school_admin
from tests.people.helpers import make_teacher

REASON = "学校安排担任三年级（2）班班主任，本人无正当理由拒绝"


def _veteran(session: Session):  # type: ignore[no-untyped-def]
    """A teacher who meets every condition of the waiver and the honour in 2026 and 2027."""
    return make_teacher(
        session, "S-A", name="拒任老师", staff_no="D001", teaching_start=date(1990, 9, 1),
        periods=(("homeroom", "2000-09-01", None),), evaluations=((2025, "excellent"),),
    )  # fmt: skip


def test_the_school_records_a_declined_appointment_and_the_years_title_review_defers(
    client: TestClient, session: Session, clock
) -> None:
    admin = school_admin(session, "S-A")
    teacher = _veteran(session)
    token = login(client, admin.username)
    before = title_review.teacher_review(session, admin, teacher.id, date(2026, 12, 1))
    assert before.review.waiver and before.honoured

    r = client.post(f"/admin/teachers/{teacher.id}/declined", data={"csrf_token": token, "year": "2026", "reason": ""})
    assert r.status_code == 422  # the reason is required
    r = client.post(f"/admin/teachers/{teacher.id}/declined",
                    data={"csrf_token": token, "year": "2026", "reason": REASON}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "people.declined_record"))
    assert event is not None and event.actor_id == admin.id and event.on_behalf_of_id == teacher.id

    page = client.get("/admin/title-review?as_of=2026-12-01")
    assert page.status_code == 200 and f'data-deferral="{teacher.id}"' in page.text and REASON in page.text
    detail = client.get(f"/admin/title-review/{teacher.id}?as_of=2026-12-01")
    assert 'data-deferral="2026"' in detail.text and REASON in detail.text
    review = title_review.teacher_review(session, admin, teacher.id, date(2026, 12, 1))
    assert review.review.deferral == REASON and not review.review.waiver and not review.honoured

    book = load_workbook(io.BytesIO(client.get("/admin/title-review/export.xlsx?as_of=2026-12-01").content))
    rows = list(book["职称评审"].iter_rows(values_only=True))
    line = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == "D001"), strict=False))
    assert REASON in line["暂缓（无正当理由拒绝担任班主任）"] and line["免论文"] == "否"
    assert line["荣誉证书（在岗≥20年）"] == "否"
    assert [r[0] for r in book["荣誉名单"].iter_rows(values_only=True)][1:] == []

    # The next year is not touched: page, detail and export.
    assert f'data-deferral="{teacher.id}"' not in client.get("/admin/title-review?as_of=2027-12-01").text
    assert title_review.teacher_review(session, admin, teacher.id, date(2027, 12, 1)).review.waiver
    book = load_workbook(io.BytesIO(client.get("/admin/title-review/export.xlsx?as_of=2027-12-01").content))
    rows = list(book["职称评审"].iter_rows(values_only=True))
    line = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == "D001"), strict=False))
    assert line["暂缓（无正当理由拒绝担任班主任）"] in ("", None) and line["免论文"] == "是"


def test_no_excellent_rating_in_the_deferred_year_and_a_withdrawal_lifts_it(session: Session) -> None:
    admin = school_admin(session, "S-A")
    teacher = _veteran(session)
    row = declined.record(session, admin, teacher.id, 2026, REASON)
    with pytest.raises(InvalidInput) as refused:
        records.save_evaluation(session, admin, teacher.id, {"year": "2026", "result": "excellent"})
    assert set(refused.value.fields) == {"result"}
    records.save_evaluation(session, admin, teacher.id, {"year": "2026", "result": "qualified"})
    with pytest.raises(Conflict):  # one standing record per year
        declined.record(session, admin, teacher.id, 2026, "再次")
    with pytest.raises(InvalidInput):
        declined.withdraw(session, admin, row.id, " ")
    declined.withdraw(session, admin, row.id, "经核实，因病有正当理由")
    assert declined.standing(session, [teacher.id], 2026) == {}
    records.save_evaluation(session, admin, teacher.id, {"year": "2026", "result": "excellent"})
    history = declined.of_teacher(session, admin, teacher.id)
    assert [(h.row.year, h.row.withdraw_reason) for h in history] == [(2026, "经核实，因病有正当理由")]
    with pytest.raises(Conflict):
        declined.withdraw(session, admin, row.id, "again")


def test_another_schools_admin_a_teacher_and_oneself_are_refused(client: TestClient, session: Session, clock) -> None:
    admin, other = school_admin(session, "S-A"), school_admin(session, "S-B")
    teacher = _veteran(session)
    with pytest.raises(NotFound):
        declined.record(session, other, teacher.id, 2026, REASON)
    with pytest.raises(Forbidden):
        declined.record(session, teacher, teacher.id, 2026, REASON)
    row = declined.record(session, admin, teacher.id, 2026, REASON)
    with pytest.raises(NotFound):
        declined.withdraw(session, other, row.id, "不是我校")

    token = login(client, other.username)
    r = client.post(f"/api/v1/people/teachers/{teacher.id}/declined-appointments",
                    json={"year": 2026, "reason": REASON}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 404 and r.json()["error"]
    r = client.post(f"/api/v1/people/declined-appointments/{row.id}/withdraw",
                    json={"reason": "x"}, headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 404
    trainer = make_user(session, Role.trainer, school_code="S-A")
    login(client, trainer.username)
    assert client.get(f"/api/v1/people/teachers/{teacher.id}/declined-appointments").status_code == 403


def test_the_api_records_lists_and_withdraws(client: TestClient, session: Session, clock) -> None:
    admin = school_admin(session, "S-A")
    teacher = _veteran(session)
    token = login(client, admin.username)
    headers = {"X-CSRF-Token": token}
    bad = client.post(f"/api/v1/people/teachers/{teacher.id}/declined-appointments",
                      json={"year": 2026, "reason": ""}, headers=headers)  # fmt: skip
    assert bad.status_code == 422 and "reason" in bad.text
    r = client.post(f"/api/v1/people/teachers/{teacher.id}/declined-appointments",
                    json={"year": 2026, "reason": REASON}, headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["year"], made["reason"], made["recorded_by"], made["withdrawn_at"]) == (
        2026, REASON, admin.display_name, None,
    )  # fmt: skip
    r = client.post(f"/api/v1/people/declined-appointments/{made['id']}/withdraw", json={"reason": "误录"},
                    headers=headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["withdraw_reason"] == "误录"
    listed = client.get(f"/api/v1/people/teachers/{teacher.id}/declined-appointments").json()
    assert [x["withdrawn_by"] for x in listed] == [admin.display_name]
    assert client.get(f"/admin/teachers/{teacher.id}").text.count('data-declined-year="2026"') == 1
