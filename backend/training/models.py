"""Offline study (DOMAIN.md, 四级联动研修): sessions held in a school or a workshop, and who attended them.

A session's date and times are local (Asia/Shanghai), as the admin typed them: a monthly rule counts sessions by
their local date. Attendance is one row per teacher per session, whether scanned or marked by an admin.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class TrainingSession(Base):
    __tablename__ = "training_sessions"
    # The compliance page reads a school's sessions of a year, month by month.
    __table_args__ = (Index("ix_training_sessions_school_day", "school_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200), default="")  # 研修主题; empty: not themed
    tier: Mapped[str | None] = mapped_column(String(16))  # horizon | compass | climber | starry; None: not tiered
    # The induction topic it covers (DOMAIN.md, Induction; taxonomy.TOPICS): its hours then count toward the induction.
    topic: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))  # school | workshop | district
    category: Mapped[str] = mapped_column(String(32))  # credit category of the hours it gives
    # School-based sessions belong to a school; a workshop session may (a school workshop) or may not.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    # Cancelled before anyone attended: it stays listed (teachers see why nobody came) but takes no check-in.
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Attendance(Base):
    __tablename__ = "training_attendance"
    # One check-in per teacher per session, however often the code is scanned or the teacher is marked.
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))  # qr | manual
    # The admin who marked it by hand; None for a scanned check-in.
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime]
