"""Recording audit events. Callers pass the request's session: the event commits with the action it describes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.models import AuditEvent
from backend.kit import clock
from backend.kit.pagination import Page, paginate

# Keys that must never reach the log, whatever a caller passes in before/after.
_SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "id_number", "totp_secret"})


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("[redacted]" if k in _SECRET_KEYS else v) for k, v in values.items()}


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    subject_type: str | None = None,
    subject_id: object | None = None,
    school_id: int | None = None,
    on_behalf_of_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor_id,
        on_behalf_of_id=on_behalf_of_id,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        school_id=school_id,
        before=_scrub(before),
        after=_scrub(after),
        address=address,
    )
    session.add(event)
    session.flush()
    return event


def events(
    session: Session,
    *,
    action_prefix: str | None = None,
    subject_type: str | None = None,
    subject_id: object | None = None,
    school_id: int | None = None,
    limit: int = 200,
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix))
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == str(subject_id))
    if school_id is not None:
        query = query.where(AuditEvent.school_id == school_id)
    return session.scalars(query).all()


def page_of_events(
    session: Session,
    *,
    action_prefix: str = "",
    actor_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    number: int = 1,
) -> Page[AuditEvent]:
    """One page of the log, newest first, for the district admins' audit page (filters combine; `actor_ids` None:
    anyone's events, empty: nobody's)."""
    query = select(AuditEvent)
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    if actor_ids is not None:
        query = query.where(AuditEvent.actor_id.in_(actor_ids))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return paginate(session, query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), number, scalars=True)
