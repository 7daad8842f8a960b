"""Record ids in paths stay within the database's integer range.

Ids are 32-bit INTEGER columns on PostgreSQL (64-bit on SQLite). A path such as /courses/99999999999 names no
record, but handed to the database it is an error instead of "not found" (PostgreSQL: numeric value out of range;
SQLite: OverflowError), a 500. This app-wide dependency answers such a path with 404 before any route runs.
Found by schemathesis (tests/security/test_fuzz_api.py).

Numbers in query strings and forms (a school filter, a selected entry) can be out of range the same way; where a
route does not bound them, `number_out_of_range` tells the app's error handler to answer 422 instead of a 500.
"""

from __future__ import annotations

from fastapi import Request

from backend.kit.errors import NotFound
from backend.kit.i18n import _

TOO_LARGE = _("A number in the request is too large.")
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, the type of every id column


def out_of_range(value: object) -> bool:
    """A whole number (as the path spells it) that no id column can hold."""
    digits = value.lstrip("+-") if isinstance(value, str) else ""
    return digits.isascii() and digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID)


def number_out_of_range(exc: BaseException) -> bool:
    """The database refused a number it cannot hold: PostgreSQL's SQLSTATE 22003, or SQLite's driver."""
    if isinstance(exc, OverflowError):
        return "too large to convert" in str(exc)
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == "22003"


async def ids_in_range(request: Request) -> None:
    if any(out_of_range(value) for value in request.path_params.values()):
        raise NotFound(_("This page does not exist."))
