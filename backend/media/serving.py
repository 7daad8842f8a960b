"""Serving a stored object to the browser: local files with HTTP Range, S3 through short-lived presigned URLs.
Who may see which object is decided by the caller (lesson files: backend/learning/lesson_files.py)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from backend.kit.errors import NotFound
from backend.media.storage import storage_of


def serve_object(
    request: Request,
    key: str,
    *,
    missing: str,
    media_type: str | None = None,
    filename: str | None = None,
    max_age: int = 3600,
) -> Response:
    """A stored object to the browser: from S3 by a short-lived presigned URL, from a local folder as a file
    (with HTTP Range), shown inline; `filename` names it for saving. NotFound(`missing`) when it is gone."""
    storage = storage_of(request.app)
    url = storage.browser_url(key)
    if url:
        # Short-lived and private: the link stops working minutes after the page asked for it.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    path = storage.local_path(key)
    if path is None or not path.is_file():
        raise NotFound(missing)
    media_type = media_type or storage.stat(key).content_type or "application/octet-stream"
    headers = {"Cache-Control": f"private, max-age={max_age}"}
    if filename:
        return FileResponse(
            path, media_type=media_type, filename=filename, content_disposition_type="inline", headers=headers
        )
    return FileResponse(path, media_type=media_type, headers=headers | {"Content-Disposition": "inline"})
