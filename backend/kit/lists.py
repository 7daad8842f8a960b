"""The query-string filters the admin lists share, read one way.

Filters come from links and GET forms, so a value that cannot be read is ignored (the list shows as if the filter
were not set) rather than answered with an error page; only a value that is readable but impossible (a date outside
the range a list accepts) is refused with a field error (`InvalidInput`, 422). Each list keeps its own filters; these
are the pieces they are made of. Paging itself is `kit/pagination.py`; the pager partial is
`web/templates/partials/pager.html`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from backend.kit.errors import InvalidInput
from backend.kit.i18n import _

# An id or a page number beyond this is nonsense, not a row (and would overflow a 32-bit column in a query).
LARGEST_NUMBER = 2**31 - 1
# The dates a filter accepts: records start with the portal; a day past these is a mistake (9999-12-31 would
# overflow the end-of-day arithmetic of a "to" date).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
DAY_OUT_OF_RANGE = _("Enter a date between 2000 and 2099.")


def text(raw: str | None, *, max_length: int | None = None) -> str:
    """A free-text filter (name, staff number, username): trimmed, cut to `max_length`; "" when absent."""
    value = (raw or "").strip()
    return value[:max_length].strip() if max_length is not None else value


def number(raw: str | None) -> int | None:
    """A non-negative whole number (an id, a year) written in ASCII digits, spaces around allowed; else None."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    parsed = int(value)
    return parsed if parsed <= LARGEST_NUMBER else None


def page_number(raw: str | None) -> int:
    """The page asked for: 1 when absent or unreadable (a page past the end is clamped when the list is paged)."""
    return number(raw) or 1


def choice(raw: str | None, allowed: Collection[str]) -> str | None:
    """A value from a fixed set (a status, a source, a report filter); anything else is no filter."""
    return raw if raw and raw in allowed else None


def year(raw: str | None, *, default: int, first: int = 2000, last: int = 2100) -> int:
    """A year between `first` and `last`; `default` (usually this year) when absent, unreadable or out of range."""
    value = number(raw)
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
