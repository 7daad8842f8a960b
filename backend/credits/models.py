"""The append-only ledger of credit hours. Every total in the portal is a sum over these rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    # One credit per source event (e.g. one course completion), however often completion is re-evaluated.
    __table_args__ = (UniqueConstraint("source", "source_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    category: Mapped[str] = mapped_column(String(32))  # ethics | knowledge_skills | practice | self_study
    level: Mapped[str] = mapped_column(String(16))  # city | district | school | workshop
    source: Mapped[str] = mapped_column(String(32))  # course_completion | offline_session | external | adjustment
    source_ref: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|verified|certified|rejected
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]
