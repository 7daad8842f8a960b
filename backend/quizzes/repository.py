"""Queries the quizzes domain shares between its modules (kept free of their imports, so each may use them)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.kit.errors import NotFound

Row = TypeVar("Row")


def load_fresh(session: Session, model: type[Row], row_id: int, children: tuple[Any, ...], missing: str) -> Row:
    """The row `row_id` of `model` with `children` (relationships) loaded, or NotFound(`missing`).

    populate_existing: a row already in the session without its children (made or touched earlier in the same
    request) gets them loaded too, instead of raising on their lazy="raise" relationship later."""
    row = session.scalar(
        select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        .options(*(selectinload(child) for child in children))
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(missing)
    return row
