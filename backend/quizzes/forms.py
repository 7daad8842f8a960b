"""Reading the studio's and the grading queue's plain forms, and applying one change from a form all or nothing.

`apply_form` runs a change in a savepoint: when the rules refuse it (InvalidInput), whatever it wrote is rolled
back and the page is rendered again with the reasons by field; otherwise the browser is sent on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from backend.kit.errors import InvalidInput
from backend.kit.i18n import _, translate
from backend.kit.web import redirect


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def number(form: FormData, name: str, field_errors: dict[str, str], *, optional: bool = False) -> int | None:
    raw = text(form, name)
    if not raw and optional:
        return None
    try:
        return int(raw)
    except ValueError:
        field_errors[name] = _("Please enter a whole number.")
        return None


def checked(form: FormData, name: str) -> bool:
    return text(form, name) in ("1", "on", "true", "yes")


def require_valid(field_errors: dict[str, str], message: str = _("Please correct the marked fields.")) -> None:
    """Fields that could not even be read (not a number, …) refuse the form before any rule runs."""
    if field_errors:
        raise InvalidInput(message, fields=field_errors)


def error_context(request: Request, exc: InvalidInput) -> dict[str, Any]:
    """The refusal, translated for the page: messages by field and the message for the whole form."""
    locale = request.state.locale
    return {
        "errors": {k: translate(locale, v) for k, v in exc.fields.items()},
        "form_error": translate(locale, exc.message, **exc.params),
    }


def apply_form(
    request: Request,
    session: Session,
    change: Callable[[], object],
    *,
    refused: Callable[[dict[str, Any]], Response],
    done: str | Callable[[], Response],
) -> Response:
    """Runs `change`; refused: nothing of it stays and `refused(error context)` answers; else `done` (a URL to go
    to, or the answer itself)."""
    try:
        with session.begin_nested():
            change()
    except InvalidInput as exc:
        return refused(error_context(request, exc))
    return redirect(request, done) if isinstance(done, str) else done()
