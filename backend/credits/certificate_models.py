"""Certificates (结业证书 / 学时证明): what was certified, to whom, and whether it still stands.

A certificate keeps its own copy of what it states (holder's name, title, hours) as it was on the day it was issued,
so it stays valid and reads the same when a course is later archived or renamed, or a teacher changes their name.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        # Issuing the same certificate twice returns the first: one live certificate per subject. A revoked one
        # no longer counts, so a corrected certificate can be issued after a revocation (with a new number).
        Index(
            "uq_certificates_live_subject",
            "subject",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SJBZR-2026-7K3MX9QD: random, so numbers cannot be guessed in sequence (backend.credits.certificates).
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # course | induction | year_hours
    # What it certifies, e.g. "course:12:user:7", "induction:user:7", "year:2026:user:7".
    subject: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    # The holder's staff number (工号) on the day of issue, printed so a certificate names one person (issue 18).
    staff_no: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
