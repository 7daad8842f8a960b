"""The portal's error tree. One handler in `backend.app` renders these; nothing else builds error responses.

    AppError(message, status_code=400)     base; `message` is shown to users (Chinese by default via gettext)
    ├── InvalidInput (422)                 bad input; may carry field errors {field: message}
    ├── NotAuthenticated (401)             no or expired session / token
    ├── Forbidden (403)                    actor lacks the role or school scope; also CSRF failures
    ├── NotFound (404)
    ├── Conflict (409)                     state does not allow it (already enrolled, attempts used up…)
    └── StorageUnavailable (503)           object store unreachable
"""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **params: object) -> None:
        # `message` and field messages are English gettext msgids; the handler translates them for the reader.
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.fields = fields or {}


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


class StorageUnavailable(AppError):
    status_code = 503
    code = "storage_unavailable"
