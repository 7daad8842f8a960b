"""Dashboard aggregates and background jobs (issue 17, supervision at a glance).

A *snapshot* holds every dashboard figure per (school, tier) for one year, computed from the ledger through
credits' reading of hours and from the people and training records (`backend.dashboards.figures`). Pages read these
few hundred rows instead of summing a district's ledger on every request, so a page costs the same at any ledger size.

- kind "live": the figures of the year as of now, rebuilt in the background when older than `LIVE_MAX_AGE`
  (the page says how old they are); one per year, replaced by its rebuild.
- kind "month": the figures as they stood at the end of a month ("as of the end of June"). Built once, frozen, kept.

A *job* is work that takes longer than a page may (a snapshot build, a teacher-level export). Its state lives here,
in the database, so any replica can show its progress, pick it up if the replica that ran it died, and serve the
file it wrote to the object store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class DashboardSnapshot(Base):
    __tablename__ = "dashboard_snapshots"
    __table_args__ = (UniqueConstraint("kind", "year", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # live | month
    year: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)  # the day the figures describe (end of the month, or the build day)
    built_at: Mapped[datetime]
    build_ms: Mapped[int] = mapped_column(Integer, default=0)
    # District-wide facts that are not per school (the evaluation year used for the excellent share, bucket edges).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DashboardRow(Base):
    """The figures of one school (or of its teachers of one tier) in a snapshot."""

    __tablename__ = "dashboard_rows"
    __table_args__ = (Index("ix_dashboard_rows_snapshot_tier", "snapshot_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("dashboard_snapshots.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    tier: Mapped[str] = mapped_column(String(16))  # "" = all teachers of the school
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class DashboardJob(Base):
    __tablename__ = "dashboard_jobs"
    __table_args__ = (Index("ix_dashboard_jobs_key_state", "key", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # snapshot | export
    key: Mapped[str] = mapped_column(String(64))  # what it builds ("live:2026", "month:2026-06-30", "export:…")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued | running | done | failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result_key: Mapped[str | None] = mapped_column(String(300))  # the object-store key of an export's file
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    # Refreshed while it runs: a running job not touched for `STALE_AFTER` is taken over by the next replica.
    touched_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.done / self.total)) if self.total else (100 if self.state == "done" else 0)
