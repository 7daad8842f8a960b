"""A school admin calls off a session that nobody has attended yet: it stays in the list marked cancelled, with the
reason, and takes no check-in. Once teachers have attended, it can no longer be cancelled (their hours are in the
append-only ledger)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit.models import AuditEvent
from backend.training import checkin, service
from backend.training.models import TrainingSession
from tests.api.helpers import csrf_from, login
from tests.conftest import TEST_SECRET_KEY, ManualClock
from tests.factories import make_user
from tests.training.helpers import make_session

SECRET = TEST_SECRET_KEY  # the key the test app signs with


@dataclass
class Scheduled:
    admin: User
    teacher: User
    ts: TrainingSession
    page: str
    token: str


def _scheduled_and_open(client: TestClient, session: Session, *, attended: bool = False) -> Scheduled:
    """A school admin's session for 2 November, its page open in the admin's browser."""
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    ts = make_session(session, admin)
    if attended:
        service.mark_attendance(session, admin, ts, user_ids=[teacher.id])
    login(client, admin.username)
    page = f"/training/sessions/{ts.id}"
    return Scheduled(admin, teacher, ts, page, csrf_from(client, page))


def test_an_admin_cancels_a_session_and_nobody_can_check_in_to_it(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    s = _scheduled_and_open(client, session)
    admin, teacher, ts, page, token = s.admin, s.teacher, s.ts, s.page, s.token
    assert "取消本次研修" in client.get(page).text

    no_reason = client.post(f"{page}/cancel", data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 422 and "请填写取消的原因。" in no_reason.text
    assert 'aria-invalid="true"' in no_reason.text
    assert ts.cancelled_at is None

    done = client.post(f"{page}/cancel", data={"csrf_token": token, "reason": "场地临时不可用"}, follow_redirects=False)
    assert done.status_code == 303
    detail = client.get(done.headers["location"]).text
    assert "已取消" in detail and "场地临时不可用" in detail and "取消本次研修" not in detail
    assert "已取消" in client.get(f"/training?year={ts.day.year}").text
    assert client.get(f"{page}/qr").status_code == 409
    marked = client.post(f"{page}/attendance", data={"csrf_token": token, "usernames": teacher.username})
    assert marked.status_code == 422 and "本次研修已取消。" in marked.text
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "training.cancelled"))
    assert event is not None and event.actor_id == admin.id and event.subject_id == str(ts.id)

    # A teacher who scans a code that was on the screen before the session was called off is told so.
    code = checkin.code_for(SECRET, ts.id, checkin.step_at(clock.now(), 30))
    client.cookies.clear()
    scanned = client.get(f"/training/c/{code}")
    assert scanned.status_code == 409 and "本次研修已取消。" in scanned.text
    assert service.attendee_count(session, ts) == 0


def test_a_session_teachers_attended_can_no_longer_be_cancelled(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    s = _scheduled_and_open(client, session, attended=True)
    ts, page, token = s.ts, s.page, s.token
    assert "取消本次研修" not in client.get(page).text  # the form is not offered

    refused = client.post(f"{page}/cancel", data={"csrf_token": token, "reason": "下雨"})
    assert refused.status_code == 409 and "已有教师签到参加本次研修，不能再取消。" in refused.text
    session.refresh(ts)
    assert ts.cancelled_at is None
