"""Record ids in paths stay within the database's integer range.

Ids are 32-bit INTEGER columns on PostgreSQL (64-bit on SQLite). A path such as /courses/99999999999 names no
record, but handed to the database it is an error instead of "not found" (PostgreSQL: numeric value out of range;
SQLite: OverflowError), a 500. This app-wide dependency answers such a path with 404 before any route runs.
Found by schemathesis (tests/security/test_fuzz_api.py).
"""

from __future__ import annotations

from fastapi import Request

from backend.kit.errors import NotFound
from backend.kit.i18n import _

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, the type of every id column


def out_of_range(value: object) -> bool:
    """A whole number (as the path spells it) that no id column can hold."""
    digits = value.lstrip("+-") if isinstance(value, str) else ""
    return digits.isascii() and digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID)


async def ids_in_range(request: Request) -> None:
    if any(out_of_range(value) for value in request.path_params.values()):
        raise NotFound(_("This page does not exist."))
