"""Enrollments, per-lesson progress, playback sessions and the heartbeats that are the evidence for credit.

Time is kept in integer milliseconds; coverage is a list of merged [start_ms, end_ms) intervals of the video.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    enrolled_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    coverage: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    covered_ms: Mapped[int] = mapped_column(Integer, default=0)
    credited_ms: Mapped[int] = mapped_column(Integer, default=0)
    covered_at: Mapped[datetime | None]  # when coverage first reached the policy threshold


class PlaybackSession(Base):
    __tablename__ = "playback_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random UUID, unguessable
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("lesson_progress.id"), index=True)
    started_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_beat_at: Mapped[datetime]
    last_position_ms: Mapped[int] = mapped_column(Integer, default=0)
    credited_ms: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None]


class Heartbeat(Base):
    __tablename__ = "heartbeats"
    __table_args__ = (UniqueConstraint("playback_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playback_id: Mapped[str] = mapped_column(ForeignKey("playback_sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]
    position_ms: Mapped[int] = mapped_column(Integer)
    playing: Mapped[bool] = mapped_column(Boolean)
    visible: Mapped[bool] = mapped_column(Boolean)
    credited_ms: Mapped[int] = mapped_column(Integer, default=0)
    covered_from_ms: Mapped[int | None] = mapped_column(Integer)
    covered_to_ms: Mapped[int | None] = mapped_column(Integer)
    # Why time in this beat was not (fully) credited: paused, hidden, seek_ahead, too_fast, gap_too_long…
    note: Mapped[str | None] = mapped_column(String(64))
