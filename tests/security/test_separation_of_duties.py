"""Issue 13, separation of duties, decided in the services so every path (page, API, importer, CLI) goes through it:
nobody verifies, certifies, sends back or corrects their own ledger entries, nor issues themself a certificate; a
school admin marks attendance only for their own school's teachers. Each row of the matrix is an (actor, act) pair
tried on the service and, where a page does it, through the page."""

from __future__ import annotations

import uuid
from decimal import Decimal

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
from tests.api.helpers import login
from tests.factories import make_user


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
