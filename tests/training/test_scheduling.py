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


# --- issue 13: a session on an induction topic counts toward the induction ----------------------------------------


def test_a_session_on_an_induction_topic_counts_toward_that_topic_once_certified(
    client: TestClient, session: Session
) -> None:
    from backend.credits import hours, workflow
    from backend.credits import ledger as credits
    from backend.credits.models import LedgerEntry
    from backend.training import service as training

    admin = make_user(session, Role.school_admin, school_code="S-A")
    district = make_user(session, Role.district_admin, school_code=None)
    teacher = make_user(session, school_code="S-A")
    token = login(client, admin.username)
    assert 'name="topic"' in client.get("/training/new").text  # optional: "no induction topic" is the default
    bad = client.post("/training", data={**FORM, "topic": "astrology", "csrf_token": token})
    assert bad.status_code == 422 and 'id="topic-error"' in bad.text and _count(session) == 0
    r = client.post("/training", data={**FORM, "topic": "crisis", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    ts = session.scalar(select(TrainingSession).where(TrainingSession.title == FORM["title"]))
    assert ts is not None and ts.topic == "crisis"
    logged = session.scalar(select(AuditEvent).where(AuditEvent.action == "training.schedule"))
    assert logged is not None and logged.after["topic"] == "crisis"
    assert client.get(r.headers["location"]).status_code == 200
    plain = client.post("/training", data={**FORM, "title": "无专题", "csrf_token": token}, follow_redirects=False)
    assert plain.status_code == 303
    untagged = session.scalar(select(TrainingSession).where(TrainingSession.title == "无专题"))
    assert untagged is not None and untagged.topic is None

    training.mark_attendance(session, admin, ts, user_ids=[teacher.id])  # the session (20 November) has taken place
    training.mark_attendance(session, admin, untagged, user_ids=[teacher.id])
    entries = {e.source_ref.split(":")[1]: e for e in session.scalars(
        select(LedgerEntry).where(LedgerEntry.user_id == teacher.id))}  # fmt: skip
    tagged, other = entries[str(ts.id)], entries[str(untagged.id)]
    assert credits.topics_of(session, tagged.id) == ["crisis"] and credits.topics_of(session, other.id) == []
    progress = hours.induction(session, teacher.id)
    assert "crisis" in progress.awaiting_topics and "crisis" not in progress.covered  # pending hours do not cover
    assert progress.hours.awaiting == Decimal("3.0")  # only the tagged session counts toward the induction
    workflow.apply(session, admin, [tagged.id], "verify")
    workflow.apply(session, district, [tagged.id], "certify")
    progress = hours.induction(session, teacher.id)
    assert progress.covered == frozenset({"crisis"}) and progress.hours.certified == Decimal("3.0")
