"""Numbers the API accepts: bounded to what the database stores, and strict in JSON bodies.

Every id, count and millisecond figure is stored in an INTEGER column (32 bits on PostgreSQL) or, for a few
clocks, a BIGINT. A number beyond that passes a bare `int` and fails at the database instead (PostgreSQL: numeric
value out of range, SQLite: OverflowError): a 500, or a whole heartbeat batch of other people's beats failing with
it (issue 12). So every integer a request carries is declared with one of these types, and
tests/security/test_api_numbers.py walks the app's OpenAPI document and its body models to keep it so.

JSON bodies are strict (issue 12): `"position_ms": "0"`, `"position_ms": false` and `"playing": "yes"` are
refused with 422, not read as 0 and True. Query strings, forms and JSON object keys are text by nature, so their
numbers are parsed (`QueryInt`) but bounded all the same.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER: every id, count and millisecond column
INT_MIN = -(2**31)
BIGINT_MAX = 2**63 - 1  # PostgreSQL BIGINT (and SQLite's INTEGER): clocks in milliseconds

# In JSON bodies: a JSON number that is a whole number, nothing else (no strings, booleans or fractions).
Int = Annotated[int, Strict(), Field(ge=INT_MIN, le=INT_MAX)]
BigInt = Annotated[int, Strict(), Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
Bool = Annotated[bool, Strict()]
# In query strings, forms and JSON object keys (always text): parsed, and bounded the same way.
QueryInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
