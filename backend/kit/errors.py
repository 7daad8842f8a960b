"""The portal's error tree. One handler in `backend.app` renders these; nothing else builds error responses.

    AppError(message, status_code=400)     base; `message` is shown to users (Chinese by default via gettext);
                                           `keep=True`: the request's work so far is committed all the same
    ├── InvalidInput (422)                 bad input; may carry field errors {field: message}
    ├── NotAuthenticated (401)             no or expired session / token
    ├── Forbidden (403)                    actor lacks the role or school scope; also CSRF failures
    ├── NotFound (404)
    └── Conflict (409)                     state does not allow it (already enrolled, attempts used up…)

Errors of a domain subclass these where they are raised, e.g. StorageError (503, backend/media/storage.py),
MediaRejected and UploadRejected (422, backend/media/), TooManyAttempts (429) and SsoRefused (403) in accounts.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    code = "error"
    # Whether the request keeps the work done before the error: the session dependency (backend/db.py) then
    # commits instead of rolling back, and the error still answers the request (a refused sign-in keeps its failure
    # count and audit event; a rejected upload stays deleted). Set by the class, the raiser (`keep=True`), or a
    # caller that knows (`exc.keep = True; raise`).
    keep = False

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, keep: bool = False, **params: object
    ) -> None:
        # `message` and field messages are English gettext msgids; the handler translates them for the reader.
        super().__init__(message % params if params else message)
        self.message = message
        self.params: dict[str, Any] = params  # Any: values for %(name)s in the message
        self.fields = fields or {}
        if keep:
            self.keep = True


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
