"""The audit log: one append-only row per action an administrator or the security layer must account for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # Who acted, and for whom when an admin acts on a teacher's behalf (e.g. hand-marked attendance).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Dotted verb, e.g. "ledger.verify", "ledger.certify", "certificate.revoke", "auth.login_failed".
    action: Mapped[str] = mapped_column(String(64), index=True)
    # What it acted on: a table-ish kind and the row's id (as text, so composite or external ids fit).
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    # The school the subject belongs to, so a school admin's view of the log is one indexed filter.
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where the request came from (security events); never passwords, tokens or full ID numbers.
    address: Mapped[str | None] = mapped_column(String(64))
