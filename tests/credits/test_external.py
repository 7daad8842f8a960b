"""External records keep nothing half-done: the evidence object lives exactly as long as its rows."""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.credits import external
from backend.credits.models import LedgerEntry
from backend.media.local import LocalStorage
from tests.factories import make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _record() -> external.RecordIn:
    return external.RecordIn(
        title="区级班主任基本功培训", hours="3.5", category="knowledge_skills", level="district", earned_on="2026-06-01"
    )


def test_a_record_becomes_a_pending_entry_for_the_year_it_was_earned(session: Session, storage: LocalStorage) -> None:
    teacher = make_user(session, Role.teacher)
    record = external.submit(session, storage, teacher, _record(), external.EvidenceFile("证书.png", io.BytesIO(PNG)))
    [view] = external.records_of(session, teacher.id)
    assert view.record.id == record.id and view.record.evidence_type == "image/png"
    assert (view.entry.status, view.entry.hours, view.entry.year, view.entry.source) == (
        "pending",
        Decimal("3.5"),
        2026,
        "external",
    )
    assert storage.exists(record.evidence_key)


def test_a_rolled_back_request_takes_its_evidence_file_with_it(session: Session, storage: LocalStorage) -> None:
    teacher = make_user(session, Role.teacher)
    session.commit()
    record = external.submit(session, storage, teacher, _record(), external.EvidenceFile("a.png", io.BytesIO(PNG)))
    key = record.evidence_key
    session.rollback()
    assert not storage.exists(key)
    assert session.query(LedgerEntry).filter(LedgerEntry.source == "external").count() == 0


def test_a_committed_record_keeps_its_file_through_later_rollbacks(session: Session, storage: LocalStorage) -> None:
    teacher = make_user(session, Role.teacher)
    record = external.submit(session, storage, teacher, _record(), external.EvidenceFile("a.png", io.BytesIO(PNG)))
    session.commit()
    session.rollback()
    assert storage.exists(record.evidence_key)
