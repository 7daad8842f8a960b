"""External records: hours a teacher earned elsewhere (a city course, a training day), with an evidence file.

A record is one `ExternalRecord` row (what the teacher said, and the stored evidence) and one pending ledger entry
(source "external"), which then goes through the same verification and certification as every other entry.

All or nothing: every field is checked before anything is written; the evidence is stored only after the rows are
flushed, deleted again if anything after it fails, and deleted if the request's transaction rolls back later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit import service as audit
from backend.credits import ledger as credits
from backend.credits import workflow
from backend.credits.hours import CATEGORIES, LEVELS
from backend.credits.models import ExternalRecord, LedgerEntry
from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.media.storage import Storage
from backend.policies.taxonomy import TOPIC_CODES

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_HOURS = Decimal("200")  # one record; a longer programme is entered as several records
PDF, PNG, JPEG = ("pdf", "application/pdf"), ("png", "image/png"), ("jpg", "image/jpeg")


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class RecordIn:
    title: str = ""
    hours: str = ""
    category: str = ""
    level: str = ""
    earned_on: str = ""
    topic: str = ""  # an induction topic the training covered; empty: none


def _sniff(stream: BinaryIO) -> tuple[str, str] | None:
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def _size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


@dataclass(frozen=True)
class _Checked:
    title: str
    hours: Decimal
    category: str
    level: str
    earned_on: date
    kind: tuple[str, str]
    size: int
    topic: str | None = None


def _check(data: RecordIn, upload: EvidenceFile | None, kept: ExternalRecord | None = None) -> _Checked:
    """The form's values, or field errors. `kept`: a record whose evidence stands when no new file is attached."""
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title:
        errors["title"] = _("Give the name of the course or training.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    hours = Decimal("0")
    try:
        hours = Decimal(data.hours.strip())
        if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS or hours != hours.quantize(Decimal("0.1")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["hours"] = _("Hours between 0.1 and 200, with at most one decimal.")
    if data.category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    if data.level not in LEVELS:
        errors["level"] = _("Choose a level.")
    topic = data.topic.strip() or None
    if topic is not None and topic not in TOPIC_CODES:
        errors["topic"] = _("Choose one of the eight induction topics, or none.")
    earned = None
    try:
        earned = date.fromisoformat(data.earned_on.strip())
        if earned > clock.now().astimezone(clock.SHANGHAI).date():
            errors["earned_on"] = _("The date cannot be in the future.")
    except ValueError:
        errors["earned_on"] = _("Give the date as YYYY-MM-DD.")
    kind, size = None, 0
    if upload is None and kept is not None:
        kind, size = (kept.evidence_key.rsplit(".", 1)[-1], kept.evidence_type), kept.evidence_size
    elif upload is None:
        errors["file"] = _("Attach the certificate or attendance proof (PDF or image).")
    else:
        size = _size(upload.stream)
        kind = _sniff(upload.stream)
        if size == 0:
            errors["file"] = _("The file is empty.")
        elif size > MAX_FILE_BYTES:
            errors["file"] = _("At most 20 MB.")
        elif kind is None:
            errors["file"] = _("Only PDF, PNG or JPEG files.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert earned is not None and kind is not None
    return _Checked(title, hours, data.category, data.level, earned, kind, size, topic)


def _delete_on_rollback(session: Session, storage: Storage, key: str) -> None:
    """If the request's transaction rolls back after the evidence was stored, the evidence goes too."""

    def rolled_back(_session: Session) -> None:
        storage.delete(key)
        event.remove(session, "after_commit", committed)

    def committed(_session: Session) -> None:
        event.remove(session, "after_rollback", rolled_back)

    event.listen(session, "after_rollback", rolled_back, once=True)
    event.listen(session, "after_commit", committed, once=True)


def submit(
    session: Session, storage: Storage, teacher: User, data: RecordIn, upload: EvidenceFile | None
) -> ExternalRecord:
    return _create(session, storage, teacher, _check(data, upload), upload, None)


def sent_back(session: Session, teacher: User, record_id: int) -> tuple[ExternalRecord, LedgerEntry]:
    """The teacher's own record whose entry was sent back and not yet corrected: the only kind that can be edited."""
    record = session.get(ExternalRecord, record_id)
    if record is None or record.user_id != teacher.id:
        raise NotFound(_("This record does not exist."))
    entry = session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.source == "external", LedgerEntry.source_ref == f"{workflow.EXTERNAL_PREFIX}{record.id}"
        )
    )
    if entry is None or entry.status != "rejected":
        raise Conflict(_("Only a record that was sent back can be changed and submitted again."))
    if session.scalar(select(ExternalRecord.id).where(ExternalRecord.resubmits_id == record.id)) is not None:
        raise Conflict(_("This record was already corrected and submitted again."))
    return record, entry


def resubmit(
    session: Session, storage: Storage, teacher: User, record_id: int, data: RecordIn, upload: EvidenceFile | None
) -> ExternalRecord:
    """A sent-back record, corrected: a new record and a new pending entry; the old evidence stands unless a new file
    is attached. The sent-back entry keeps its status and reason (append-only ledger)."""
    old, _entry = sent_back(session, teacher, record_id)
    return _create(session, storage, teacher, _check(data, upload, kept=old), upload, old)


def _create(
    session: Session,
    storage: Storage,
    teacher: User,
    checked: _Checked,
    upload: EvidenceFile | None,
    replaces: ExternalRecord | None,
) -> ExternalRecord:
    ext, content_type = checked.kind
    now = clock.now()
    if upload is None:  # a resubmission that keeps the evidence already stored
        assert replaces is not None
        key, name = replaces.evidence_key, replaces.evidence_name
    else:
        key = f"external/{teacher.id}/{uuid.uuid4().hex}.{ext}"
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or f"evidence.{ext}"
    record = ExternalRecord(
        user_id=teacher.id,
        title=checked.title,
        hours=checked.hours,
        category=checked.category,
        level=checked.level,
        earned_on=checked.earned_on,
        topic=checked.topic,
        evidence_key=key,
        evidence_name=name[-200:],
        evidence_type=content_type,
        evidence_size=checked.size,
        created_at=now,
        resubmits_id=replaces.id if replaces else None,
    )
    session.add(record)
    session.flush()
    if upload is not None:
        storage.put_stream(key, upload.stream, checked.size, content_type)
    try:
        entry = LedgerEntry(
            user_id=teacher.id,
            hours=checked.hours,
            category=checked.category,
            level=checked.level,
            source="external",
            source_ref=f"{workflow.EXTERNAL_PREFIX}{record.id}",
            course_id=None,
            year=checked.earned_on.year,
            trained_on=checked.earned_on,
            status="pending",
            created_at=now,
        )
        credits.tag(session, entry, [checked.topic] if checked.topic else [])
        session.add(entry)
        session.flush()
        audit.record(
            session,
            "ledger.resubmit_external" if replaces else "ledger.submit_external",
            actor_id=teacher.id,
            subject_type="ledger_entry",
            subject_id=entry.id,
            school_id=teacher.school_id,
            after={
                "status": "pending",
                "hours": str(entry.hours),
                "title": record.title,
                "evidence": record.evidence_name,
            },
        )
    except Exception:
        if upload is not None:
            storage.delete(key)  # nothing half-done: no stored file without its rows
        raise
    if upload is not None:
        _delete_on_rollback(session, storage, key)
    return record


@dataclass(frozen=True)
class RecordView:
    record: ExternalRecord
    entry: LedgerEntry
    corrected: bool = False  # sent back, then corrected and submitted again as a new record


def records_of(session: Session, user_id: int) -> list[RecordView]:
    """A teacher's external records with their ledger entries, newest first (two queries)."""
    records = list(
        session.scalars(
            select(ExternalRecord).where(ExternalRecord.user_id == user_id).order_by(ExternalRecord.id.desc())
        )
    )
    refs = [f"{workflow.EXTERNAL_PREFIX}{r.id}" for r in records]
    entries = (
        {
            e.source_ref: e
            for e in session.scalars(
                select(LedgerEntry).where(LedgerEntry.source == "external", LedgerEntry.source_ref.in_(refs))
            )
        }
        if refs
        else {}
    )
    replaced = {r.resubmits_id for r in records if r.resubmits_id}
    return [RecordView(r, entries[f"{workflow.EXTERNAL_PREFIX}{r.id}"], r.id in replaced) for r in records]


def record_for(session: Session, actor: User, record_id: int) -> ExternalRecord:
    """A record its teacher, or an administrator over that teacher, may open; 404 for anyone else."""
    record = session.get(ExternalRecord, record_id)
    if record is None:
        raise NotFound(_("This record does not exist."))
    if record.user_id != actor.id:
        if actor.role not in (Role.school_admin, Role.district_admin):
            raise NotFound(_("This record does not exist."))
        try:
            workflow.teacher_in_scope(session, actor, record.user_id)
        except NotFound:
            raise NotFound(_("This record does not exist.")) from None
    return record
