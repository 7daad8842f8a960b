"""Rate limits shared by every replica: fixed-window counters in the database, not in a process's memory.

One row per (bucket, client, window). A hit is one `INSERT … ON CONFLICT DO UPDATE SET count = count + 1
RETURNING count` (PostgreSQL, and SQLite ≥ 3.35), so concurrent requests on any replica count exactly once each.
The first hit of a new window deletes the bucket's finished windows, so the table stays small without a job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Index, Integer, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.kit import clock
from backend.kit.models import Base


class RateCounter(Base):
    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_bucket_window", "bucket", "window_no"),)

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The window's number: seconds since the epoch divided by the window's length.
    window_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    limit: int
    retry_after_seconds: int


def hit(session: Session, bucket: str, client: str, *, limit: int, window_seconds: int) -> RateDecision:
    """Counts one request of `client` in `bucket` and says whether it is within `limit` per window."""
    now = clock.now().timestamp()
    window = int(now // window_seconds)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    first = insert(RateCounter).values(bucket=bucket, client=client[:64], window_no=window, count=1)
    counted = first.on_conflict_do_update(
        index_elements=["bucket", "client", "window_no"], set_={"count": RateCounter.count + 1}
    ).returning(RateCounter.count)
    count = session.execute(counted).scalar_one()
    if count == 1:
        session.execute(delete(RateCounter).where(RateCounter.bucket == bucket, RateCounter.window_no < window))
    retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
    return RateDecision(allowed=count <= limit, count=count, limit=limit, retry_after_seconds=retry_after)
