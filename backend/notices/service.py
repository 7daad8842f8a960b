"""Telling a person what came back to them (issue 18). Domains call `notify` in the transaction of the act itself,
so a notice exists exactly when the act happened; the person sees a count in the header and the list at /notices.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.kit import clock
from backend.notices.models import Notice

LIST_SIZE = 100


def notify(session: Session, user_id: int, message: str, *, link: str | None = None, **params: object) -> Notice:
    """`message` is an English msgid (marked with `_`), `params` its values (plain text, shown escaped)."""
    notice = Notice(user_id=user_id, message=message, params={k: str(v) for k, v in params.items()}, link=link,
                    created_at=clock.now())  # fmt: skip
    session.add(notice)
    session.flush()
    return notice


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    return session.scalar(query) or 0


def latest(session: Session, user_id: int) -> Sequence[Notice]:
    query = select(Notice).where(Notice.user_id == user_id).order_by(Notice.created_at.desc(), Notice.id.desc())
    return session.scalars(query.limit(LIST_SIZE)).all()


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(
        update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None)).values(read_at=clock.now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
