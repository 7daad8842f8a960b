"""Enrollments, per-lesson progress, playback sessions and the heartbeats that are the evidence for credit.

Time is kept in integer milliseconds; coverage is a list of merged [start_ms, end_ms) intervals of the video.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
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
    # The same lesson is not credited twice a day: credit confirmed for it on `day` (yyyymmdd, Shanghai).
    day: Mapped[int] = mapped_column(Integer, default=0)
    day_credited_ms: Mapped[int] = mapped_column(Integer, default=0)


class PlaybackSession(Base):
    """One playback of one lesson in one tab. Everything the heartbeat hot path needs is on this row, so a
    heartbeat reads one row and writes it back with the heartbeat record.

    Credit first collects as *pending* (time and coverage since the last confirmed activity); it is confirmed
    into the lesson's progress when an attention prompt is answered in time or the playback closes cleanly, and
    dropped when a prompt is missed (DOMAIN.md: random attention prompts answered within 60 s).
    """

    __tablename__ = "playback_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random UUID, unguessable
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("lesson_progress.id"), index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_beat_at: Mapped[datetime]
    last_position_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_client_ms: Mapped[int | None] = mapped_column(BigInteger)
    # Wall-clock time that passed while playing but was not yet matched by the playhead (late, queued beats).
    bank_ms: Mapped[int] = mapped_column(Integer, default=0)
    credited_ms: Mapped[int] = mapped_column(Integer, default=0)  # confirmed
    pending_ms: Mapped[int] = mapped_column(Integer, default=0)
    pending_coverage: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    # Coverage of the lesson confirmed before this playback started plus what this playback confirmed since.
    known_coverage: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    rejected_ms: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime]
    prompt_state: Mapped[str] = mapped_column(String(8), default="none")  # none | open | missed
    prompt_id: Mapped[str | None] = mapped_column(String(32))
    prompt_due_at: Mapped[datetime | None]
    prompt_deadline: Mapped[datetime | None]
    holds_lease: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_day: Mapped[int] = mapped_column(Integer, default=0)
    day_budget_ms: Mapped[int] = mapped_column(Integer, default=0)
    lesson_budget_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_note: Mapped[str | None] = mapped_column(String(32))
    ended_at: Mapped[datetime | None]


class LearnerState(Base):
    """Per teacher: which playback holds the one credited lease, and credit confirmed today (daily cap)."""

    __tablename__ = "learner_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    active_playback_id: Mapped[str | None] = mapped_column(String(36))
    day: Mapped[int] = mapped_column(Integer, default=0)
    day_credited_ms: Mapped[int] = mapped_column(Integer, default=0)
    # The attention-check schedule is the teacher's, not one playback's (issue 12): when the lease holder lets go,
    # the viewing time left until its next check is kept here and the next holder goes on from it (0: a check is
    # owed, shown at the next holder's first playing beat). None: no viewing yet, a fresh schedule is drawn.
    prompt_due_in_ms: Mapped[int | None] = mapped_column(Integer)


class AttentionPrompt(Base):
    __tablename__ = "attention_prompts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    playback_id: Mapped[str] = mapped_column(ForeignKey("playback_sessions.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime]
    deadline: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(8), default="open")  # open | answered | missed | late
    # Pending credit confirmed by answering, or dropped by missing it.
    confirmed_ms: Mapped[int] = mapped_column(Integer, default=0)
    dropped_ms: Mapped[int] = mapped_column(Integer, default=0)


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
    client_ms: Mapped[int | None] = mapped_column(BigInteger)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)  # server time since the previous accepted beat
    credited_ms: Mapped[int] = mapped_column(Integer, default=0)  # pending credit this beat added
    rejected_ms: Mapped[int] = mapped_column(Integer, default=0)  # server time that passed and was not credited
    covered_from_ms: Mapped[int | None] = mapped_column(Integer)
    covered_to_ms: Mapped[int | None] = mapped_column(Integer)
    # Why time in this beat was not (fully) credited: paused, hidden, seek_ahead, other_playback, daily_cap…
    note: Mapped[str | None] = mapped_column(String(64))
