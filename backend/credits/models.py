"""The append-only ledger of credit hours. Every total in the portal is a sum over these rows.

What an entry says (teacher, hours, category, level, source, year, training date) never changes after it is
written: the ORM refuses such updates (`_refuse_rewrites`) and so do database triggers (migrations 5b_ledger and
13_hours), and entries are never deleted. A correction is a new entry with negative hours that `reverses_id` the one
it corrects; its status is the status of what it corrects and never moves.

Two dates: `trained_on` is the day of the training (the session's day, the course's completion day, the external
record's date) and decides the year the hours count for (`year` is its year); `created_at` is when the entry was
written. Lists and annual totals use the training date.

The entry's `status` is the one thing that moves (pending → verified → certified, or → rejected). The column holds
the current status, for indexed queues; every move is also a row in `ledger_entry_events` (who, when, from, to,
why) and an audit event, so the history is never lost by the update.

`ledger_entry_topics` tags an entry with the induction topics it covers (DOMAIN.md, Induction): a Horizon course's
topics, an offline session's or an external record's topic. Tagged entries count toward the induction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base

# Columns that say what an entry is; `status`, `reason` (why it was rejected) and `actor_id` (who last moved it) move.
IMMUTABLE_COLUMNS = (
    "user_id",
    "hours",
    "category",
    "level",
    "source",
    "source_ref",
    "course_id",
    "year",
    "reverses_id",
    "created_at",
    "trained_on",
)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        # One credit per source event (e.g. one course completion), however often completion is re-evaluated.
        UniqueConstraint("source", "source_ref"),
        # An entry is corrected at most once (a second correction would reverse the reversal).
        Index("uq_ledger_entries_reverses_id", "reverses_id", unique=True),
        # The queues, newest first: by status, by status and year, by year, or all (workflow.queue).
        Index("ix_ledger_entries_status_created", "status", "created_at", "id"),
        Index("ix_ledger_entries_status_year", "status", "year", "created_at", "id"),
        Index("ix_ledger_entries_year_created", "year", "created_at", "id"),
        Index("ix_ledger_entries_created", "created_at", "id"),
        # A teacher's own ledger, and a school's queue reached through its teachers.
        Index("ix_ledger_entries_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    category: Mapped[str] = mapped_column(String(32))  # ethics | knowledge_skills | practice | self_study
    level: Mapped[str] = mapped_column(String(16))  # city | district | school | workshop
    source: Mapped[str] = mapped_column(String(32))  # course_completion | offline_session | external | adjustment
    source_ref: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    trained_on: Mapped[date] = mapped_column(Date)  # the day of the training; `year` is its year
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|verified|certified|rejected
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]
    # The hash chain (backend/credits/chain.py): the previous entry's hash, and this one's, computed on write.
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class LedgerEntryTopic(Base):
    """An induction topic an entry covers (backend.policies.taxonomy.TOPICS). Written with the entry, never changed."""

    __tablename__ = "ledger_entry_topics"

    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)


class LedgerEntryEvent(Base):
    """One status move of a ledger entry. Append-only, like the entries."""

    __tablename__ = "ledger_entry_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class ExternalRecord(Base):
    """Hours a teacher earned elsewhere (a city course, a training day), with the evidence file she submitted.

    Its status is the status of its ledger entry (source "external", source_ref "external:<id>")."""

    __tablename__ = "external_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    category: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    earned_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str | None] = mapped_column(String(32))  # the induction topic it covers, if any
    evidence_key: Mapped[str] = mapped_column(String(300))
    evidence_name: Mapped[str] = mapped_column(String(200))
    evidence_type: Mapped[str] = mapped_column(String(64))
    evidence_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # A record the teacher corrected after it was sent back (issue 18): the new record names the one it replaces.
    # The sent-back entry stays as it was (the ledger is append-only); the new one is pending again.
    resubmits_id: Mapped[int | None] = mapped_column(ForeignKey("external_records.id"), unique=True)


class LedgerRewriteRefused(Exception):
    """Code tried to change what a ledger entry says; corrections are reversing entries."""


@event.listens_for(LedgerEntry, "before_update")
def _refuse_rewrites(_mapper, _connection, target: LedgerEntry) -> None:  # type: ignore[no-untyped-def]
    state = inspect(target)
    changed = [name for name in IMMUTABLE_COLUMNS if state.attrs[name].history.has_changes()]
    if target.reverses_id is not None and state.attrs["status"].history.has_changes():
        changed.append("status (of a correction)")
    if changed:
        raise LedgerRewriteRefused(f"ledger entry {target.id}: {', '.join(changed)} cannot change")


@event.listens_for(LedgerEntry, "before_insert")
def _training_date(_mapper, _connection, target: LedgerEntry) -> None:  # type: ignore[no-untyped-def]
    default_training_date(target)


def default_training_date(target: LedgerEntry) -> None:
    """An entry written without a training date (an adjustment, an old caller) was trained the day it was written.
    (Also applied by the hash chain before it hashes the entry: backend/credits/chain.py.)"""
    if target.trained_on is None and target.created_at is not None:
        from backend.kit.clock import SHANGHAI

        target.trained_on = target.created_at.astimezone(SHANGHAI).date()


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_deletes(_mapper, _connection, target: LedgerEntry) -> None:  # type: ignore[no-untyped-def]
    raise LedgerRewriteRefused(f"ledger entry {target.id} cannot be deleted")


# Every entry and status event the ORM writes is stamped with its place in the hash chain (imported for its hook).
from backend.credits import chain as _chain  # noqa: E402, F401
