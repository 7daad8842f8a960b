"""Issue 13, separation of duties, decided in the services so every path (page, API, importer, CLI) goes through it:
nobody verifies, certifies, sends back or corrects their own ledger entries, nor issues themself a certificate; a
school admin marks attendance only for their own school's teachers, a trainer only for the people registered for
their session (its workshop's members on the day). Each row of the matrix is an (actor, act) pair
tried on the service and, where a page does it, through the page."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits import certificates, workflow
from backend.credits.certificate_models import Certificate
from backend.credits.models import LedgerEntry
from backend.kit import clock
from backend.kit.errors import Forbidden, InvalidInput
from backend.organisation import workshops
from backend.policies.service import load_policy
from backend.training import service as training
from tests.api.helpers import login
from tests.factories import make_user
from tests.training.helpers import make_session


def _own_entry(session: Session, holder: User, status: str) -> LedgerEntry:
    entry = LedgerEntry(
        user_id=holder.id,
        hours=Decimal("200"),
        category="practice",
        level="city",
        source="external",
        source_ref=uuid.uuid4().hex,
        year=2026,
        status=status,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


# (the actor's role, the act, the status their own entry is in)
OWN_ENTRY_MATRIX = [
    (Role.school_admin, "verify", "pending"),
    (Role.school_admin, "reject", "pending"),
    (Role.district_admin, "certify", "verified"),
    (Role.district_admin, "reject", "verified"),
]


@pytest.mark.parametrize(("role", "action", "status"), OWN_ENTRY_MATRIX)
def test_nobody_moves_their_own_entry(session: Session, role: Role, action: str, status: str) -> None:
    actor = make_user(session, role, school_code="T-01" if role == Role.school_admin else None)
    entry = _own_entry(session, actor, status)
    with pytest.raises(Forbidden):
        workflow.apply(session, actor, [entry.id], action, "理由")
    assert entry.status == status
    # The same act on a colleague's entry is the actor's job.
    colleague = make_user(session, school_code="T-01")
    other = _own_entry(session, colleague, status)
    assert workflow.apply(session, actor, [other.id], action, "理由") == 1


def test_a_bulk_action_including_an_own_entry_moves_nothing(session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="T-01")
    teacher = make_user(session, school_code="T-01")
    theirs, mine = _own_entry(session, teacher, "pending"), _own_entry(session, admin, "pending")
    with pytest.raises(Forbidden):
        workflow.apply(session, admin, [theirs.id, mine.id], "verify")
    assert (theirs.status, mine.status) == ("pending", "pending")


def test_a_district_admin_does_not_correct_their_own_entry(session: Session) -> None:
    admin = make_user(session, Role.district_admin, school_code=None)
    entry = _own_entry(session, admin, "certified")
    with pytest.raises(Forbidden):
        workflow.reverse(session, admin, entry.id, "更正")
    assert workflow.correction_of(session, entry.id) is None


@pytest.mark.parametrize("role", [Role.school_admin, Role.district_admin])
def test_an_admin_cannot_issue_themself_a_year_certificate(session: Session, role: Role) -> None:
    admin = make_user(session, role, school_code="T-01" if role == Role.school_admin else None)
    _own_entry(session, admin, "certified")
    with pytest.raises(InvalidInput) as refused:
        certificates.issue_year_certificate(session, admin, admin.username, "2026")
    assert "username" in refused.value.fields
    assert session.scalar(select(Certificate).where(Certificate.user_id == admin.id)) is None


def test_the_queue_page_refuses_an_own_entry(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.school_admin, school_code="T-01")
    entry = _own_entry(session, admin, "pending")
    token = login(client, admin.username)
    r = client.post("/credits/queue", data={"csrf_token": token, "entry": [str(entry.id)], "action": "verify"})
    assert r.status_code == 403
    session.refresh(entry)
    assert entry.status == "pending"


# --- attendance: only people in the marker's scope (school admins: their school; trainers: the people registered
# for their session, i.e. its workshop's members; district admins: anyone), and a refusal names nobody ------------


def _workshop_session(session: Session) -> dict[str, Any]:
    """A district workshop hosted by a trainer, with one member (T-01), and its activity of 2 November 2026."""
    district = make_user(session, Role.district_admin, school_code=None)
    trainer = make_user(session, Role.trainer, school_code="T-01", display_name="主持人甲")
    workshop = workshops.create_workshop(
        session, district, name="区班主任工作室", level="district", stage="all", host_id=trainer.id
    )
    member = make_user(session, school_code="T-01", display_name="成员乙")
    workshops.add_member(session, district, workshop.id, member.id, "member", "2026-09-01")
    form = {"title": "工作室研讨", "theme": "", "tier": "", "category": "practice", "day": "2026-11-02",
            "start_time": "09:00", "end_time": "11:30", "place": "", "duration": "half", "kind": "session"}  # fmt: skip
    activity = workshops.add_activity(session, trainer, workshop.id, form, load_policy(session))
    return {"district": district, "trainer": trainer, "member": member,
            "ts": training.get_training_session(session, activity.session_id)}  # fmt: skip


def _marked(session: Session, user: User) -> int:
    return len(list(session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user.id))))


# (the outsider a trainer tries to mark at their workshop's session)
TRAINER_OUTSIDERS = ["colleague_not_member", "other_school_teacher", "former_member", "school_admin", "self"]


@pytest.mark.parametrize("who", TRAINER_OUTSIDERS)
def test_a_trainer_marks_only_the_members_registered_for_their_workshop_session(
    session: Session, who: str
) -> None:
    world = _workshop_session(session)
    trainer, ts = world["trainer"], world["ts"]
    if who == "former_member":
        target = make_user(session, school_code="T-01", display_name="前成员丙")
        workshops.add_member(session, world["district"], ts_workshop(session, ts), target.id, "member",
                             "2026-09-01", "2026-10-31")  # fmt: skip
    else:
        target = {
            "colleague_not_member": lambda: make_user(session, school_code="T-01", display_name="同校教师丁"),
            "other_school_teacher": lambda: make_user(session, school_code="T-02", display_name="外校教师戊"),
            "school_admin": lambda: make_user(session, Role.school_admin, school_code="T-01", display_name="校管己"),
            "self": lambda: trainer,
        }[who]()
    with pytest.raises(Forbidden) as refused:
        training.mark_attendance(session, trainer, ts, user_ids=[target.id])
    assert target.display_name not in str(refused.value) and str(target.id) not in str(refused.value)
    assert _marked(session, target) == 0
    assert training.mark_attendance(session, trainer, ts, user_ids=[world["member"].id]) == 1  # the member: yes


def ts_workshop(session: Session, ts: Any) -> int:
    found = workshops.workshop_of_session(session, ts.id)
    assert found is not None
    return found[0].id


def test_a_trainers_session_of_no_workshop_has_nobody_registered_to_hand_mark(session: Session) -> None:
    trainer = make_user(session, Role.trainer, school_code=None)
    teacher = make_user(session, school_code="T-01")
    ts = make_session(session, trainer, level="workshop", school_id=None)
    with pytest.raises(Forbidden):
        training.mark_attendance(session, trainer, ts, user_ids=[teacher.id])
    assert _marked(session, teacher) == 0


def test_a_district_admin_marks_anyone_at_a_workshop_session_and_a_school_admin_only_their_school(
    session: Session,
) -> None:
    world = _workshop_session(session)
    ts = world["ts"]
    elsewhere = make_user(session, school_code="T-02", display_name="外校教师庚")  # not a member, another school
    assert training.mark_attendance(session, world["district"], ts, user_ids=[elsewhere.id]) == 1
    school_admin = make_user(session, Role.school_admin, school_code="T-01")
    ts_school = _school_session(session, school_admin)
    own, other = make_user(session, school_code="T-01"), make_user(session, school_code="T-02", display_name="外校辛")
    with pytest.raises(Forbidden) as refused:
        training.mark_attendance(session, school_admin, ts_school, user_ids=[other.id])
    assert "外校辛" not in str(refused.value)
    assert training.mark_attendance(session, school_admin, ts_school, user_ids=[own.id]) == 1


def _school_session(session: Session, admin: User) -> Any:
    return make_session(session, admin, level="workshop")  # open to every school: still only the admin's teachers


def test_the_attendance_page_refuses_a_trainer_marking_a_non_member_and_names_nobody(
    client: TestClient, session: Session
) -> None:
    world = _workshop_session(session)
    outsider = make_user(session, school_code="T-02", display_name="非成员壬")
    token = login(client, world["trainer"].username)
    page = client.get(f"/training/sessions/{world['ts'].id}")
    assert page.status_code == 200 and "成员乙" in page.text  # the registered member is listed to tick
    r = client.post(f"/training/sessions/{world['ts'].id}/attendance",
                    data={"csrf_token": token, "user_id": [str(outsider.id)]})  # fmt: skip
    assert r.status_code == 403 and "非成员壬" not in r.text
    assert _marked(session, outsider) == 0
