"""Paginated JSON for the integration API: one page of rows plus the numbers a client needs to fetch the rest."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_PAGE_SIZE = 500

PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, at most {MAX_PAGE_SIZE}")]


class ApiPage(BaseModel, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int
    pages: int

    @classmethod
    def of(cls, items: list[T], page: int, size: int, total: int) -> ApiPage[T]:
        return cls(items=items, page=page, size=size, total=total, pages=max(1, -(-total // size)))
