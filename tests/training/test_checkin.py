"""Teachers check in by scanning the rotating code shown at the session; admins can mark attendance by hand.

The session runs on 2 November 2026, 09:00–11:30 in Shanghai; the test clock starts at 10:00 (02:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from backend.credits.models import LedgerEntry
from backend.kit.errors import Conflict, Forbidden
from backend.training import checkin
from backend.training.models import Attendance
from tests.api.helpers import csrf_from, login
from tests.conftest import TEST_SECRET_KEY, ManualClock
from tests.factories import make_user
from tests.training.helpers import make_session

SECRET = TEST_SECRET_KEY  # the key the test app signs with
STEP = 30


def _now_code(clock: ManualClock, session_id: int) -> str:
    return checkin.code_for(SECRET, session_id, checkin.step_at(clock.now(), STEP))


def _entries(session: Session, user_id: int) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user_id)))


# --- the code itself ----------------------------------------------------------------------------------------------


def test_a_code_is_valid_in_its_step_and_the_next_then_expires() -> None:
    shown = datetime(2026, 11, 2, 2, 0, 5, tzinfo=UTC)
    step = checkin.step_at(shown, STEP)
    code = checkin.code_for(SECRET, 7, step)
    assert checkin.verify_code(SECRET, code, shown, STEP) == checkin.ScannedCode(7, step)
    next_step = datetime.fromtimestamp((step + 1) * STEP + 29, UTC)
    assert checkin.verify_code(SECRET, code, next_step, STEP).step == step  # the projector just rotated
    with pytest.raises(Conflict, match="expired"):
        checkin.verify_code(SECRET, code, datetime.fromtimestamp((step + 2) * STEP, UTC), STEP)


def test_forged_codes_are_refused() -> None:
    now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    step = checkin.step_at(now, STEP)
    genuine = checkin.code_for(SECRET, 7, step)
    forged = [
        checkin.code_for("another-secret", 7, step),  # minted without the key
        genuine.replace("7-", "8-", 1),  # the code of session 7 passed off for session 8
        f"7-{step + 1}-{genuine.split('-', 2)[2]}",  # a later step with the old signature
        checkin.code_for(SECRET, 7, step + 5),  # signed, but from the future: not a code any screen showed
        "7-abc-def",
        "nonsense",
    ]
    for code in forged:
        with pytest.raises(Forbidden):
            checkin.verify_code(SECRET, code, now, STEP)


def test_codes_need_no_state_any_replica_checks_another_replicas_code() -> None:
    now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    first = checkin.code_for(SECRET, 3, checkin.step_at(now, STEP))
    second = checkin.code_for(SECRET, 3, checkin.step_at(now, STEP))
    assert first == second


# --- the teacher's phone ------------------------------------------------------------------------------------------


def test_teacher_scans_logs_in_and_is_checked_in_once(client: TestClient, session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A", display_name="李老师")
    ts = make_session(session, admin)
    code = _now_code(clock, ts.id)

    # The phone opens the code's URL without a session: the code is checked, then the teacher logs in.
    scanned = client.get(f"/training/c/{code}", follow_redirects=False)
    assert scanned.status_code == 303
    assert scanned.headers["location"] == f"/training/sessions/{ts.id}/checkin"
    assert client.get(scanned.headers["location"], follow_redirects=False).headers["location"].startswith("/login")
    clock.advance(90)  # logging in took a while; the code on the screen rotated twice meanwhile
    login(client, teacher.username)
    page = client.get(f"/training/sessions/{ts.id}/checkin")
    assert "李老师" in page.text
    token = csrf_from(client, f"/training/sessions/{ts.id}/checkin")

    done = client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token})
    assert done.status_code == 200
    assert "checkin-result" in done.text
    entries = _entries(session, teacher.id)
    assert [(e.hours, e.status, e.source, e.level, e.year) for e in entries] == [
        (Decimal("3.0"), "pending", "offline_session", "school", 2026)
    ]

    # A second scan, and a second confirmation, say "already checked in" and change nothing.
    clock.advance(60)
    again = client.get(f"/training/c/{_now_code(clock, ts.id)}")
    assert again.status_code == 200 and "checkin-result" in again.text
    client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token})
    assert session.scalar(select(func.count()).select_from(Attendance).where(Attendance.user_id == teacher.id)) == 1
    assert len(_entries(session, teacher.id)) == 1


def test_the_english_page_says_already_checked_in(client: TestClient, session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    ts = make_session(session, admin)
    client.cookies.set("portal_lang", "en")
    token = login(client, teacher.username)
    client.get(f"/training/c/{_now_code(clock, ts.id)}")
    assert "You are checked in." in client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token}).text
    assert "You are already checked in" in client.get(f"/training/c/{_now_code(clock, ts.id)}").text


def test_expired_and_forged_codes_are_refused_with_a_message(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    ts = make_session(session, admin)
    old = _now_code(clock, ts.id)
    clock.advance(2 * STEP)
    token = login(client, teacher.username)
    client.cookies.set("portal_lang", "en")

    expired = client.get(f"/training/c/{old}", follow_redirects=False)
    assert expired.status_code == 409 and "expired" in expired.text
    forged = client.get(f"/training/c/{ts.id}-{checkin.step_at(clock.now(), STEP)}-AAAAAAAAAAAAAAAA")
    assert forged.status_code == 403 and "not valid" in forged.text

    # Without a scan, confirming is refused: the check-in page only ever follows a genuine code.
    refused = client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token})
    assert refused.status_code == 409
    assert _entries(session, teacher.id) == []


def test_a_scan_proof_lasts_only_a_few_minutes(client: TestClient, session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    ts = make_session(session, admin)
    token = login(client, teacher.username)
    client.get(f"/training/c/{_now_code(clock, ts.id)}")
    clock.advance(11 * 60)  # policy: 10 minutes to confirm
    assert client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token}).status_code == 409
    assert _entries(session, teacher.id) == []


@pytest.mark.parametrize(
    ("seconds", "opens"),
    [(-61 * 60, False), (-60 * 60, True), (119 * 60, True), (121 * 60, False)],
    ids=["a-minute-before-start", "at-the-start", "29-min-after-end", "31-min-after-end"],
)
def test_codes_work_only_around_the_session(
    client: TestClient, session: Session, clock: ManualClock, seconds: int, opens: bool
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    ts = make_session(session, admin)  # 09:00–11:30, check-in open 09:00–12:00 (from the start; 30 min grace after)
    clock.advance(seconds)  # from 10:00
    r = client.get(f"/training/c/{_now_code(clock, ts.id)}", follow_redirects=False)
    assert (r.status_code == 303) is opens
    if not opens:
        assert r.status_code == 409


def test_teacher_of_another_school_cannot_check_in_to_a_school_based_session(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    outsider = make_user(session, school_code="S-B")
    ts = make_session(session, admin)
    token = login(client, outsider.username)
    client.get(f"/training/c/{_now_code(clock, ts.id)}")
    assert client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token}).status_code == 403
    assert _entries(session, outsider.id) == []


def test_workshop_sessions_are_open_to_teachers_of_any_school(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    trainer = make_user(session, Role.trainer, school_code=None)
    teacher = make_user(session, school_code="S-B")
    ts = make_session(session, trainer, level="workshop", school_id=None, duration="full", category="knowledge_skills")
    token = login(client, teacher.username)
    client.get(f"/training/c/{_now_code(clock, ts.id)}")
    assert client.post(f"/training/sessions/{ts.id}/checkin", data={"csrf_token": token}).status_code == 200
    [entry] = _entries(session, teacher.id)
    assert (entry.hours, entry.level, entry.category) == (Decimal("6.0"), "workshop", "knowledge_skills")


# --- the projector ------------------------------------------------------------------------------------------------


def test_the_projector_page_shows_a_code_that_rotates(client: TestClient, session: Session, clock: ManualClock) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    ts = make_session(session, admin)
    login(client, admin.username)
    page = client.get(f"/training/sessions/{ts.id}/qr")
    assert page.status_code == 200
    assert "<svg" in page.text and 'class="qr"' in page.text
    assert "<script>" not in page.text  # htmx polling only
    # The picture encodes the check-in URL of this step: the same SVG as the code drawn for that URL.
    url = f"http://testserver/training/c/{_now_code(clock, ts.id)}"
    drawn = checkin.qr_svg(url, "label")
    assert drawn[drawn.index("<path") :] in page.text
    polled = client.get(f"/training/sessions/{ts.id}/qr", headers={"HX-Request": "true"})
    assert polled.text.lstrip().startswith('<section id="qr-code"')
    assert 'hx-trigger="load delay:' in polled.text
    before = polled.text
    clock.advance(STEP)
    after = client.get(f"/training/sessions/{ts.id}/qr", headers={"HX-Request": "true"}).text
    assert before != after  # a new step, a new code


def test_the_projector_page_waits_before_check_in_opens(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    ts = make_session(session, admin, day="2026-11-03")
    login(client, admin.username)
    page = client.get(f"/training/sessions/{ts.id}/qr")
    assert page.status_code == 200 and "<svg" not in page.text and "09:00" in page.text


# --- by hand ------------------------------------------------------------------------------------------------------


def test_admin_marks_attendance_by_hand_with_an_audit_record(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    ticked = make_user(session, school_code="S-A", display_name="王老师")
    typed = make_user(session, school_code="S-A", display_name="赵老师")
    ts = make_session(session, admin)
    token = login(client, admin.username)
    assert "王老师" in client.get(f"/training/sessions/{ts.id}").text  # offered to tick

    r = client.post(
        f"/training/sessions/{ts.id}/attendance",
        data={"user_id": [str(ticked.id)], "usernames": f"{typed.username}\n", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for teacher in (ticked, typed):
        [entry] = _entries(session, teacher.id)
        assert entry.status == "pending"
        event = session.scalar(select(AuditEvent).where(AuditEvent.on_behalf_of_id == teacher.id))
        assert event is not None
        assert (event.action, event.actor_id, event.school_id) == ("training.attendance_mark", admin.id, ts.school_id)
    # Marking again changes nothing.
    client.post(f"/training/sessions/{ts.id}/attendance", data={"user_id": [str(ticked.id)], "csrf_token": token})
    assert len(_entries(session, ticked.id)) == 1


def test_unknown_usernames_mark_nobody(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    known = make_user(session, school_code="S-A")
    ts = make_session(session, admin)
    token = login(client, admin.username)
    r = client.post(
        f"/training/sessions/{ts.id}/attendance",
        data={"usernames": f"{known.username}\nno-such-teacher", "csrf_token": token},
    )
    assert r.status_code == 422 and "no-such-teacher" in r.text and 'id="usernames-error"' in r.text
    assert _entries(session, known.id) == []


def test_school_admin_cannot_run_another_schools_session(client: TestClient, session: Session) -> None:
    admin_a = make_user(session, Role.school_admin, school_code="S-A")
    admin_b = make_user(session, Role.school_admin, school_code="S-B")
    teacher_b = make_user(session, school_code="S-B")
    ts_b = make_session(session, admin_b)
    token = login(client, admin_a.username)
    assert client.get(f"/training/sessions/{ts_b.id}").status_code == 404
    assert client.get(f"/training/sessions/{ts_b.id}/qr").status_code == 404
    r = client.post(
        f"/training/sessions/{ts_b.id}/attendance", data={"user_id": [str(teacher_b.id)], "csrf_token": token}
    )
    assert r.status_code == 404
    assert _entries(session, teacher_b.id) == []
    assert "班级危机干预案例研讨" not in client.get("/training?year=2026").text


def test_school_admin_cannot_mark_another_schools_teacher_at_their_own_session(
    client: TestClient, session: Session
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    outsider = make_user(session, school_code="S-B")
    ts = make_session(session, admin)
    token = login(client, admin.username)
    r = client.post(f"/training/sessions/{ts.id}/attendance", data={"user_id": [str(outsider.id)], "csrf_token": token})
    assert r.status_code == 403
    assert _entries(session, outsider.id) == []


def test_a_zero_rotation_policy_cannot_break_the_code() -> None:
    now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    code = checkin.code_for(SECRET, 7, checkin.step_at(now, 0))
    assert checkin.verify_code(SECRET, code, now, 0).session_id == 7
    assert 1 <= checkin.seconds_to_next_step(now, 0) <= checkin.MIN_STEP_SECONDS


# --- issue 13: attendance only once the session has started, and only for people in the marker's scope ------------


def test_attendance_cannot_be_marked_before_the_session_starts(
    client: TestClient, session: Session, clock: ManualClock
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    teacher = make_user(session, school_code="S-A")
    ts = make_session(session, admin, day="2026-11-02", start_time="10:20", end_time="12:00")  # clock: 10:00
    token = login(client, admin.username)
    form = {"user_id": [str(teacher.id)], "csrf_token": token}
    early = client.post(f"/training/sessions/{ts.id}/attendance", data=form)
    assert early.status_code == 409 and "10:20" in early.text
    assert _entries(session, teacher.id) == []
    clock.advance(20 * 60)  # 10:20: it has started (and the admin is still signed in: 30 minutes idle end a session)
    started = client.post(f"/training/sessions/{ts.id}/attendance", data=form, follow_redirects=False)
    assert started.status_code == 303 and len(_entries(session, teacher.id)) == 1


@pytest.mark.parametrize("who", ["self", "district_admin", "trainer", "other_school_teacher"])
def test_a_school_admin_marks_only_their_own_schools_teachers_and_the_refusal_names_nobody(
    client: TestClient, session: Session, who: str
) -> None:
    admin = make_user(session, Role.school_admin, school_code="S-A")
    ts = make_session(session, admin, level="workshop")  # open to any school: still only the admin's teachers
    target = {
        "self": admin,
        "district_admin": make_user(session, Role.district_admin, school_code=None, display_name="区管理员甲"),
        "trainer": make_user(session, Role.trainer, school_code="S-A", display_name="培训者乙"),
        "other_school_teacher": make_user(session, school_code="S-B", display_name="外校教师丙"),
    }[who]
    token = login(client, admin.username)
    r = client.post(f"/training/sessions/{ts.id}/attendance", data={"user_id": [str(target.id)], "csrf_token": token})
    assert r.status_code == 403
    if who != "self":
        assert target.display_name not in r.text
    assert _entries(session, target.id) == []
