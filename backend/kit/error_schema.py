"""The API's error body, declared in /openapi.json for every operation.

Every JSON error is rendered by the one handler in `backend.app` as {"error": code, "detail": message, "fields":
{field: message}} (fields only when a form field is at fault). FastAPI would otherwise document its own
`HTTPValidationError` for 422, which this portal never sends: clients (and the schemathesis run in
tests/security/test_fuzz_api.py) read the schema, so it has to say what really comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    error: str = Field(description="A stable code: invalid_input, not_authenticated, forbidden, not_found, …")
    detail: str = Field(description="The message for a person, in the reader's language")
    fields: dict[str, str] | None = Field(default=None, description="Messages per form field, when fields are at fault")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body could not be read (not JSON, or not the form it says it is)"),
    401: _error("Not signed in, or the session or token is no longer valid"),
    403: _error("The actor's role or school does not allow this, or the CSRF token is missing"),
    404: _error("No such record, or not one the actor may see"),
    409: _error("The record's state does not allow this now"),
    413: _error("The upload is larger than the policy allows"),
    422: _error("The input is not valid"),
    429: _error("Too many attempts: wait and try again"),
    503: _error("The database or the media storage is unavailable right now"),
}


def error_body(code: str, detail: str, fields: dict[str, str] | None = None) -> dict[str, object]:
    """The one JSON error body (ErrorOut), for the app's handler and the plain ASGI handlers in front of it."""
    body: dict[str, object] = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def validation_body(errors: Sequence[Any], skip: int = 0) -> dict[str, object]:
    """The 422 body for pydantic's errors: a message per field (its location, less `skip` leading parts)."""
    fields = {".".join(str(p) for p in e["loc"][skip:]) or "body": str(e["msg"]) for e in errors}
    return error_body("invalid_input", "; ".join(f"{k}: {v}" for k, v in fields.items()), fields)
