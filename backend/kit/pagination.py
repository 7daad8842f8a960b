"""One page of a long list: the rows plus what a pager needs. Pages are numbered from 1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first row on this page (0 when the list is empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0


def clamp_page(number: int, total: int, size: int) -> int:
    """A page number within 1..last, so a stale link past the end shows the last page, not an empty one."""
    last = max(1, -(-total // size))
    return min(max(1, number), last)
