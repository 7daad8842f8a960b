"""One page of a long list: the rows plus what a pager needs. Pages are numbered from 1.

Every admin list pages the same way: `PAGE_SIZE` rows a page, a page number past the end shows the last page
(`clamp_page`), and `paginate` turns an ordered SQLAlchemy select into a `Page` (count, clamp, limit/offset) in one
call. A list judged in Python (a filter no SQL can say) cuts its rows with `slice_page`. The `pager` macro of
`web/templates/partials/lists.html` shows a `Page`; `kit/lists.py` reads the query-string filters the lists share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
U = TypeVar("U")

# The rows of one page of every admin list (read at call time, so a test may make it small).
PAGE_SIZE = 50


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

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each row converted (a result row into the list's row type)."""
        return self.with_items([convert(item) for item in self.items])

    def with_items(self, items: list[U]) -> Page[U]:
        """The same page holding `items` instead (rows converted all at once, e.g. with one query for the page)."""
        return Page(items, self.number, self.size, self.total)


def page_size(size: int | None = None) -> int:
    return size if size is not None else PAGE_SIZE


def clamp_page(number: int, total: int, size: int | None = None) -> int:
    """A page number within 1..last, so a stale link past the end shows the last page, not an empty one."""
    last = max(1, -(-total // page_size(size)))
    return min(max(1, number), last)


def paginate(
    session: Session,
    query: Select[*tuple[Any, ...]],
    number: int,
    *,
    scalars: bool = False,
    total: int | None = None,
    size: int | None = None,
) -> Page[Any]:
    """Page `number` of an ordered select: the matching rows are counted (unless `total` is given, e.g. a cheaper or
    capped count), the number clamped to the pages there are, and only that page's rows fetched. The items are the
    result rows, or the first column of each with `scalars`; `Page.map` turns them into the list's row type."""
    size = page_size(size)
    if total is None:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = clamp_page(number, total, size)
    if not total:
        return Page([], number, size, 0)
    window = query.limit(size).offset((number - 1) * size)
    items: list[Any] = list(session.scalars(window)) if scalars else list(session.execute(window).all())
    return Page(items, number, size, total)


def slice_page(rows: Sequence[T], number: int, *, total: int | None = None, size: int | None = None) -> Page[T]:
    """Page `number` of rows already in hand (a list judged in Python), clamped like `paginate`. `total`: when more
    rows exist than `rows` holds (they were judged only so far), the number known so far."""
    size = page_size(size)
    total = len(rows) if total is None else total
    number = clamp_page(number, total, size)
    return Page(list(rows[(number - 1) * size : number * size]), number, size, total)
