"""Notices: what comes back to a person (hours sent back, a course returned for changes), listed under 通知."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # An English message id with its parameters, so each reader sees it in their language.
    message: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))  # where to act on it, a path of this portal
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
