"""Mentoring pairs: period, goals, a meeting log, the mentor's sign-off crediting both through the ledger; and the
check that every trainee homeroom teacher has a mentor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.credits.models import LedgerEntry
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.organisation import mentoring
from backend.people.models import TeacherProfile
from backend.policies.service import load_policy, set_policy
from tests.api.helpers import login
from tests.organisation.helpers import district_admin, school_admin
from tests.people.helpers import make_teacher


def _trainee(session: Session, school: str = "S-A", name: str = "见习老师"):  # type: ignore[no-untyped-def]
    teacher = make_teacher(session, school, name=name)
    session.get(TeacherProfile, teacher.id).status = "trainee"
    return teacher


def test_a_mentor_logs_meetings_and_signs_off_and_both_get_the_hours(client: TestClient, session: Session) -> None:
    admin = school_admin(session)
    mentor = make_teacher(session, "S-A", name="带教老师")
    mentee = _trainee(session)
    assert [t.id for t in mentoring.trainees_without_mentor(session, admin, date(2026, 10, 1))] == [mentee.id]
    pair = mentoring.create_pair(session, admin, mentor.id, mentee.id, "2026-09-01", "2027-06-30", "带班常规")
    assert mentoring.trainees_without_mentor(session, admin, date(2026, 10, 1)) == []
    # The pair's period ends mid-year: from 1 July the trainee has no mentor again.
    assert [t.id for t in mentoring.trainees_without_mentor(session, admin, date(2027, 7, 1))] == [mentee.id]

    token = login(client, mentor.username)
    for day, minutes in (("2026-09-15", "90"), ("2026-10-20", "100")):
        r = client.post(f"/organisation/mentoring/{pair.id}/meetings",
                        data={"csrf_token": token, "day": day, "minutes": minutes, "notes": "听课评课"},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
    r = client.post(f"/organisation/mentoring/{pair.id}/meetings",
                    data={"csrf_token": token, "day": "2027-07-01", "minutes": "0"})  # fmt: skip
    assert r.status_code == 422  # outside the period, and no minutes
    r = client.post(f"/organisation/mentoring/{pair.id}/sign-off", data={"csrf_token": token, "note": "合格"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.source == "mentoring")).all()
    assert sorted(e.user_id for e in entries) == sorted([mentor.id, mentee.id])
    assert {(e.hours, e.category, e.level, e.status) for e in entries} == {
        (Decimal("3.1"), "practice", "school", "pending")
    }
    session.expire_all()  # the request signed off in its own session
    with pytest.raises(Conflict):
        mentoring.sign_off(session, admin, pair.id, "", load_policy(session))
    assert client.get(f"/organisation/mentoring/{pair.id}").status_code == 200
    api = client.get("/api/v1/organisation/mentoring").json()
    assert api["pairs"][0]["signed_off"] is True and api["pairs"][0]["minutes"] == 190


def test_the_mentee_cannot_sign_off_and_strangers_do_not_see_the_pair(session: Session) -> None:
    admin = school_admin(session)
    mentor, mentee = make_teacher(session, "S-A", name="甲"), _trainee(session)
    stranger = make_teacher(session, "S-A", name="乙")
    pair = mentoring.create_pair(session, admin, mentor.id, mentee.id, "2026-09-01", "2027-06-30")
    mentoring.log_meeting(session, mentor, pair.id, "2026-09-02", 60)
    with pytest.raises(Forbidden):
        mentoring.sign_off(session, mentee, pair.id, "", load_policy(session))
    with pytest.raises(Forbidden):
        mentoring.log_meeting(session, mentee, pair.id, "2026-09-03", 60)
    with pytest.raises(NotFound):
        mentoring.view(session, stranger, pair.id)
    with pytest.raises(NotFound):
        mentoring.view(session, school_admin(session, "S-B"), pair.id)


def test_pairs_are_checked_and_hours_are_capped_by_policy(session: Session) -> None:
    admin = school_admin(session)
    district = district_admin(session)
    mentor, mentee = make_teacher(session, "S-A"), _trainee(session)
    with pytest.raises(InvalidInput) as bad:
        mentoring.create_pair(session, admin, mentee.id, mentee.id, "2026-09-01", "2026-08-01")
    assert set(bad.value.fields) == {"mentor", "end"}
    with pytest.raises(NotFound):  # another school's teacher, for a school admin
        mentoring.create_pair(session, admin, make_teacher(session, "S-B").id, mentee.id, "2026-09-01", "2027-06-30")
    pair = mentoring.create_pair(session, admin, mentor.id, mentee.id, "2026-09-01", "2027-06-30")
    with pytest.raises(InvalidInput):  # nothing logged: nothing to credit
        mentoring.sign_off(session, mentor, pair.id, "", load_policy(session))
    for n in range(3):
        mentoring.log_meeting(session, mentor, pair.id, f"2026-1{n}-01", 600)
    set_policy(session, "mentoring_max_hours", "20", district.id)
    mentoring.sign_off(session, mentor, pair.id, "", load_policy(session))
    hours = set(session.scalars(select(LedgerEntry.hours).where(LedgerEntry.source == "mentoring")))
    assert hours == {Decimal("20.0")}  # 30 hours logged, 20 credited
