"""Someone trying `make run` logs in as each demo role and finds the new features working: records of the demo
teachers, entries in every status (one sent back with its reason), an external record, a past and a coming offline
session, and a certificate. A second `portal demo load` changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import demo
from backend.audit.models import AuditEvent
from backend.credits.certificate_models import Certificate
from backend.credits.external import ExternalRecord
from backend.credits.models import LedgerEntry
from backend.demo.records import COMING_SESSION, PAST_SESSION, REJECT_REASON
from backend.media.local import LocalStorage
from backend.people.models import AnnualEvaluation, ServicePeriod, TeacherProfile
from backend.training.models import Attendance, TrainingSession
from tests.api.helpers import login

COUNTED = (LedgerEntry, ExternalRecord, TeacherProfile, ServicePeriod, AnnualEvaluation, TrainingSession, Attendance,
           Certificate, AuditEvent)  # fmt: skip


def _counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}


def _load(session: Session, storage: LocalStorage) -> None:
    """What `portal demo load` does, without the course library (its import is tested on its own)."""
    demo.load_accounts(session)
    demo.load_records(session, storage)


def test_demo_records_cover_every_status_and_a_second_load_changes_nothing(
    session: Session, storage: LocalStorage
) -> None:
    _load(session, storage)
    assert set(session.scalars(select(LedgerEntry.status))) == {"pending", "verified", "certified", "rejected"}
    rejected = session.scalars(select(LedgerEntry).where(LedgerEntry.status == "rejected")).one()
    assert rejected.reason == REJECT_REASON
    assert set(session.scalars(select(LedgerEntry.source))) == {"external", "offline_session"}
    first = _counts(session)
    assert (first["TeacherProfile"], first["TrainingSession"], first["Attendance"], first["Certificate"]) == (
        3,
        2,
        2,
        1,
    )
    for record in session.scalars(select(ExternalRecord)):
        assert b"".join(storage.read_range(record.evidence_key, 0, 4)) == b"%PDF-"

    _load(session, storage)
    assert _counts(session) == first


def test_each_demo_role_logs_in_with_the_demo_password_and_finds_the_records(
    client: TestClient, session: Session, storage: LocalStorage
) -> None:
    _load(session, storage)

    login(client, "teacher", demo.DEMO_PASSWORD)
    assert "长三角班主任论坛（线上）" in client.get("/credits/mine").text
    assert "2025年度班主任培训学时" in client.get("/certificates").text
    client.cookies.clear()

    login(client, "teacher_liu", demo.DEMO_PASSWORD)
    assert REJECT_REASON in client.get("/credits/mine").text
    client.cookies.clear()

    login(client, "school_admin", demo.DEMO_PASSWORD)  # no second factor asked in demo mode
    queue = client.get("/credits/queue").text
    assert "刘老师" in queue and "周老师" not in queue  # own school only
    assert "SY2015012" in client.get("/admin/teachers").text
    assert PAST_SESSION in client.get("/training").text
    client.cookies.clear()

    login(client, "district_admin", demo.DEMO_PASSWORD)
    assert "王老师" in client.get("/credits/queue").text  # the verified attendance waits for certification
    assert "王老师" in client.get("/admin/certificates").text
    assert COMING_SESSION in client.get("/training").text


def test_the_demo_names_an_induction_assessment_so_the_induction_can_be_completed(
    session: Session, storage: LocalStorage
) -> None:
    """Issue 13: with the assessment blank nobody could ever complete the induction in the demo."""
    from backend.credits import programs
    from backend.demo.records import DEMO_ASSESSMENT_COURSE
    from backend.policies.service import DEFAULT_POLICY, load_policy

    assert programs.assessment_problem(session, DEFAULT_POLICY) is not None  # blank: the district admin is told
    _load(session, storage)
    assert load_policy(session).induction.induction_assessment_course == DEMO_ASSESSMENT_COURSE == "HZ-08"
