"""Values the database cannot store end as "not found" or bad input, never as a 500.

Ids are 32-bit INTEGER columns on PostgreSQL (64-bit on SQLite). A path such as /courses/99999999999 names no
record, but handed to the database it is an error instead of "not found" (PostgreSQL: numeric value out of range;
SQLite: OverflowError), a 500. This app-wide dependency answers such a path with 404 before any route runs.
Found by schemathesis (tests/security/test_fuzz_api.py).

Numbers in query strings and bodies (a school filter, a selected entry) can be out of range the same way, and on
PostgreSQL a text may be longer than its column or hold a NUL character (SQLite stores both). Where a route does not
bound its input, `unstorable` tells the app's error handler which message to answer 422 with; any other database
error stays a 500 that gets logged.
"""

from __future__ import annotations

from fastapi import Request

from backend.kit.errors import NotFound
from backend.kit.i18n import _

TOO_LARGE = _("A number in the request is too large.")
BAD_TEXT = _("A text in the request is too long or contains a character that cannot be stored.")
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, the type of every id column


def out_of_range(value: object) -> bool:
    """A whole number (as the path spells it) that no id column can hold."""
    digits = value.lstrip("+-") if isinstance(value, str) else ""
    return digits.isascii() and digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID)


def unstorable(exc: BaseException) -> str | None:
    """The message for a value the database refused to store, or None for any other error."""
    if isinstance(exc, OverflowError):  # SQLite's driver: an integer beyond 64 bits
        return TOO_LARGE if "too large to convert" in str(exc) else None
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None)
    if state == "22003":  # numeric_value_out_of_range
        return TOO_LARGE
    if state in ("22001", "22021") or "NUL (0x00)" in str(orig):  # too long; bad character; psycopg's NUL check
        return BAD_TEXT
    return None


async def ids_in_range(request: Request) -> None:
    if any(out_of_range(value) for value in request.path_params.values()):
        raise NotFound(_("This page does not exist."))
