"""A school admin schedules school-based sessions for their own school; nobody schedules for another school."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.training.models import TrainingSession
from tests.api.helpers import login
from tests.factories import make_user

FORM = {
    "title": "家校沟通的艺术",
    "theme": "家校协同",
    "tier": "compass",
    "level": "school",
    "category": "practice",
    "day": "2026-11-20",
    "start_time": "13:30",
    "end_time": "16:30",
    "place": "报告厅",
    "duration": "half",
    "hours": "",
}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TrainingSession)) or 0


def test_school_admin_schedules_a_half_day_session_for_their_school(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    token = login(client, admin.username)

    form_page = client.get("/training/new")
    assert form_page.status_code == 200
    assert 'name="school_id"' not in form_page.text  # a school admin's sessions are always at their own school

    r = client.post("/training", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    session_id = int(re.search(r"/training/sessions/(\d+)", r.headers["location"]).group(1))
    ts = session.get(TrainingSession, session_id)
    assert ts is not None
    assert (ts.school_id, ts.level, ts.tier, ts.hours) == (admin.school_id, "school", "compass", Decimal("3.0"))
    page = client.get(r.headers["location"])
    assert "家校沟通的艺术" in page.text and "报告厅" in page.text
    assert "家校沟通的艺术" in client.get("/training?year=2026").text
    logged = session.scalar(select(AuditEvent).where(AuditEvent.action == "training.schedule"))
    assert logged is not None and logged.actor_id == admin.id and logged.school_id == admin.school_id


def test_full_day_and_other_hours(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    token = login(client, admin.username)
    client.post("/training", data={**FORM, "title": "全天", "duration": "full", "csrf_token": token})
    client.post("/training", data={**FORM, "title": "两小时", "duration": "other", "hours": "2.5", "csrf_token": token})
    hours = dict(session.execute(select(TrainingSession.title, TrainingSession.hours)).all())
    assert hours == {"全天": Decimal("6.0"), "两小时": Decimal("2.5")}


def test_bad_input_is_marked_field_by_field_and_nothing_is_written(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    token = login(client, admin.username)
    r = client.post(
        "/training",
        data={
            **FORM,
            "title": "",
            "day": "2026-13-40",
            "start_time": "16:00",
            "end_time": "15:00",
            "duration": "other",
            "hours": "2.55",
            "tier": "gold",
            "csrf_token": token,
        },
    )
    assert r.status_code == 422
    for field in ("title-error", "day-error", "end_time-error", "hours-error", "tier-error"):
        assert f'id="{field}"' in r.text
    assert _count(session) == 0


def test_school_admin_cannot_schedule_for_another_school(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    other = make_user(session, Role.school_admin, school_code="S-B")
    token = login(client, admin.username)
    r = client.post("/training", data={**FORM, "school_id": str(other.school_id), "csrf_token": token})
    assert r.status_code == 403
    assert _count(session) == 0


def test_school_admin_cannot_schedule_a_district_session(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    token = login(client, admin.username)
    r = client.post("/training", data={**FORM, "level": "district", "csrf_token": token})
    assert r.status_code == 422 and 'id="level-error"' in r.text
    assert _count(session) == 0


def test_trainer_schedules_workshop_sessions_only(client: TestClient, session: Session) -> None:
    trainer = make_user(session, Role.trainer, school_code=None)
    token = login(client, trainer.username)
    r = client.post("/training", data={**FORM, "level": "school", "csrf_token": token})
    assert r.status_code == 422
    r = client.post(
        "/training",
        data={**FORM, "level": "workshop", "title": "工作室研修", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    ts = session.scalar(select(TrainingSession))
    assert ts is not None and (ts.level, ts.school_id) == ("workshop", None)


def test_teachers_are_refused(client: TestClient, session: Session) -> None:
    teacher = make_user(session, school_code="S-A")
    token = login(client, teacher.username)
    assert client.get("/training").status_code == 403
    assert client.post("/training", data={**FORM, "csrf_token": token}).status_code == 403
    assert _count(session) == 0


def test_scheduling_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    login(client, admin.username)
    assert client.post("/training", data=FORM).status_code == 403
    assert _count(session) == 0
