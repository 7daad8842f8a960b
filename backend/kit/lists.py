"""The query-string filters the admin lists share, read one way.

Filters come from links and GET forms, so a value that cannot be read is ignored (the list shows as if the filter
were not set) rather than answered with an error page; only a value that is readable but impossible (a date outside
the range a list accepts, an id no column can hold) is refused (`InvalidInput`, 422). Each list keeps its own
filters; these are the pieces they are made of. Paging itself is `kit/pagination.py`; the pager and the filter form
are the macros of `web/templates/partials/lists.html`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from backend.kit.errors import InvalidInput
from backend.kit.i18n import _
from backend.kit.path_ids import MAX_ID, TOO_LARGE

# The dates a filter accepts: records start with the portal; a day past these is a mistake (9999-12-31 would
# overflow the end-of-day arithmetic of a "to" date).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
DAY_OUT_OF_RANGE = _("Enter a date between 2000 and 2099.")


def text(raw: str | None, *, max_length: int | None = None) -> str:
    """A free-text filter (name, staff number, username): trimmed, cut to `max_length`; "" when absent."""
    value = (raw or "").strip()
    return value[:max_length].strip() if max_length is not None else value


def _whole(raw: str | None) -> int | None:
    """A non-negative whole number in ASCII digits (spaces around allowed), else None. Past 18 digits it is only
    ever "too large", so it is not converted (int() refuses strings of thousands of digits)."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= 18 else 10**18


def number(raw: str | None) -> int | None:
    """An id (a school, a teacher) or a year to filter by: None when absent or not a number; one no id column can
    hold is refused (422, `path_ids.TOO_LARGE`), as the database would refuse it."""
    value = _whole(raw)
    if value is not None and value > MAX_ID:
        raise InvalidInput(TOO_LARGE)
    return value


def page_number(raw: str | None) -> int:
    """The page asked for: 1 when absent or unreadable; a page past the end is clamped when the list is paged."""
    return _whole(raw) or 1


def choice(raw: str | None, allowed: Collection[str]) -> str | None:
    """A value from a fixed set (a status, a source, a report filter); anything else is no filter."""
    return raw if raw and raw in allowed else None


def year(raw: str | None, *, default: int, first: int = 2000, last: int = 2100) -> int:
    """A year between `first` and `last`; `default` (usually this year) when absent, unreadable or out of range."""
    value = _whole(raw)
    return value if value is not None and first <= value <= last else default


def day(raw: str | None, field: str) -> date | None:
    """A date (YYYY-MM-DD): None when absent or unreadable; outside FIRST_DAY..LAST_DAY, a field error on `field`."""
    try:
        value = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidInput(_("Please correct the marked fields."), fields={field: DAY_OUT_OF_RANGE})
    return value
