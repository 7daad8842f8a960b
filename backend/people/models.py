"""Districts, schools and teacher records (DOMAIN.md, People and roles; Records): the minimum the rules need."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(16), default="primary")  # primary | middle | high | nine_year


class TeacherProfile(Base):
    """One per teacher account: what title review and appointment need beyond the login."""

    __tablename__ = "teacher_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # The school's own staff number (工号): the key roster imports and SSO linking match on.
    staff_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    teaching_start: Mapped[date | None] = mapped_column(Date)
    tier: Mapped[str | None] = mapped_column(String(16))  # horizon | compass | climber | starry
    status: Mapped[str] = mapped_column(String(16), default="reserve")  # reserve | trainee | appointed


class ServicePeriod(Base):
    """A stretch of homeroom service at one school; an open end means still serving."""

    __tablename__ = "service_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # homeroom | deputy | trainee | rotating
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class AnnualEvaluation(Base):
    """年度考核: one result per teacher per school year (the calendar year it was given)."""

    __tablename__ = "annual_evaluations"
    __table_args__ = (UniqueConstraint("user_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))  # excellent | qualified | basic | unqualified


class DeclinedAppointment(Base):
    """A school's record that a teacher declined appointment as 班主任 without good reason in a year (the plan's
    二(一)1: 无正当理由拒绝担任班主任者，暂缓当年度评优评先、职称及职务晋升). Withdrawn, not deleted: the withdrawal
    keeps its reason and actor beside the original record."""

    __tablename__ = "declined_appointments"
    __table_args__ = (Index("ix_declined_appointments_user_year", "user_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)  # the calendar year deferred (as annual evaluations and title review)
    reason: Mapped[str] = mapped_column(String(500))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)  # the teacher's, then
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(String(500), default="")
