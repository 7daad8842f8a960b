"""Paginated JSON for the integration API: one page of rows plus the numbers a client needs to fetch the rest."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_PAGE_SIZE = 500

PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, at most {MAX_PAGE_SIZE}")]
# A school's code (schools.code is 32 characters); control characters would only reach the database as an error.
SchoolCode = Annotated[
    str | None, Query(max_length=32, pattern=r"^[^\x00-\x1f]+$", description="Only this school (its code)")
]


class ApiPage(BaseModel, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int
    pages: int

    @classmethod
    def of(cls, items: list[T], page: int, size: int, total: int) -> ApiPage[T]:
        return cls(items=items, page=page, size=size, total=total, pages=max(1, -(-total // size)))
