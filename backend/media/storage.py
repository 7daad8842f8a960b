"""Where lesson media lives: one small interface, two backends (local disk and S3-compatible object storage).

The rest of the portal talks only to `Storage`; `build_storage(settings)` picks the backend at start-up.

Errors:
    StorageError          any backend failure (network, S3 refusal, disk); the message is English, for logs
    └── ObjectMissing     the key does not exist
    ValueError            the caller passed a bad key or range: a programming error, not a storage failure

Keys are relative, slash-separated names such as `lessons/12/video.mp4`. They are validated the same way for
both backends so that a key that works on a laptop (local) also works in production (S3) and cannot escape the
media root.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Protocol

from fastapi import Depends
from starlette.requests import HTTPConnection

from backend.kit.errors import AppError
from backend.kit.i18n import _
from backend.kit.state import state_of

if TYPE_CHECKING:
    from backend.config import Settings

# Chunk size for streamed reads: big enough to keep syscalls/HTTP reads few, small enough to keep memory flat
# while many viewers stream at once.
READ_CHUNK_BYTES = 256 * 1024

# Maximum key length in bytes on S3; we refuse longer keys on both backends so they stay interchangeable.
MAX_KEY_BYTES = 1024

_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9._/-]+")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str


@dataclass(frozen=True)
class UploadedPart:
    """One stored part of a multipart upload: its 1-based number, the backend's ETag and its size in bytes."""

    number: int
    etag: str
    size: int


class StorageError(AppError):
    """The backend failed (unreachable, refused, disk error); the original exception is the `__cause__`. People
    read that storage is unavailable (503); `detail`, in English, is for the log (it is also `str(error)`)."""

    status_code = 503
    code = "storage_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(_("Media storage is unavailable right now."))
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class ObjectMissing(StorageError):
    """No object is stored under the requested key."""


class Storage(Protocol):
    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        """Store the file at `path` under `key`, streaming from disk (never read whole into memory)."""
        ...

    def put_stream(self, key: str, stream: BinaryIO, length: int, content_type: str) -> StoredObject:
        """Store `length` bytes read from `stream`; `length=-1` means unknown (read to EOF)."""
        ...

    def stat(self, key: str) -> StoredObject:
        """Size and content type of the object; `ObjectMissing` if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def read_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        """Bytes `start..end_inclusive` in chunks of at most READ_CHUNK_BYTES.

        The object is opened before this returns, so `ObjectMissing`/`StorageError` surface at call time
        (before an HTTP response has started), not on the first `next()`. An end past the object's last byte
        is clamped; a start at or past the end raises ValueError (the HTTP layer answers 416 after `stat`).
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def browser_url(self, key: str) -> str | None:
        """A short-lived URL the browser may GET directly, or None when the app serves the bytes itself."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where the object lives on this machine's disk (for FileResponse), or None for remote storage."""
        ...

    def check(self) -> None:
        """Readiness probe: raise `StorageError` unless the backend is reachable and writable."""
        ...

    def list_keys(self) -> Iterator[str]:
        """Every stored object's key, in key order (backups); unfinished multipart uploads are not objects."""
        ...

    # Multipart uploads: an object assembled from parts that arrive over many requests (resumable browser
    # uploads). Nothing is visible under `key` until `complete_multipart`; `abort_multipart` leaves nothing.
    # Parts are numbered from 1 and must be stored in order; re-storing the last part (a retry) replaces it.

    def begin_multipart(self, key: str, content_type: str) -> str:
        """Start assembling `key`; returns an opaque token for the other multipart calls (keep it to resume)."""
        ...

    def put_part(self, key: str, token: str, number: int, offset: int, stream: BinaryIO, length: int) -> UploadedPart:
        """Store part `number`: exactly `length` bytes read from `stream`, which begin `offset` bytes into the
        object (the sizes of parts 1..number-1 added up). Streams: at most one part is held in memory (S3
        needs each part's length and checksum before sending it), never the object.

        On S3 every part but the last must be at least 5 MiB. A stream that ends early raises whatever its
        `read` raised (or StorageError); the part is then not stored and may be sent again.
        """
        ...

    def complete_multipart(self, key: str, token: str, parts: list[UploadedPart]) -> StoredObject:
        """Assemble the parts (in order) into the object `key`, atomically; the token is then used up."""
        ...

    def abort_multipart(self, key: str, token: str) -> None:
        """Discard the stored parts; aborting an unknown or finished upload is not an error."""
        ...


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe object key, else raise ValueError.

    Besides the character set, segments may not be empty or start with a dot: that rules out `..`, `./`,
    `a//b` and trailing slashes (which S3 and a filesystem treat differently), and keeps dot-names free for
    the local backend's temporary and bookkeeping files, so they can never collide with a real key.
    """
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"storage key must be 1..{MAX_KEY_BYTES} bytes long: {key!r}")
    if not _KEY_CHARACTERS.fullmatch(key):
        raise ValueError(f"storage key may only contain A-Z a-z 0-9 . _ / -: {key!r}")
    if key.startswith("/"):
        raise ValueError(f"storage key must be relative (no leading '/'): {key!r}")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"storage key has an empty path segment: {key!r}")
        if segment.startswith("."):
            raise ValueError(f"storage key segments may not start with '.': {key!r}")
    return key


def validate_range(start: int, end_inclusive: int) -> None:
    if start < 0 or end_inclusive < start:
        raise ValueError(f"invalid byte range {start}-{end_inclusive}")


def build_storage(settings: Settings) -> Storage:
    """The backend chosen by `settings.storage_backend`. Makes no network call (see `Storage.check`)."""
    if settings.storage_backend == "local":
        from backend.media.local import LocalStorage

        return LocalStorage(settings.media_root)
    if settings.storage_backend == "s3":
        from backend.media.s3 import S3Storage

        return S3Storage.from_settings(settings)
    raise ValueError(f"unknown storage backend {settings.storage_backend!r}")


def storage_of(app: Any) -> Storage:
    """The application's storage, built once by create_app (backend/kit/state.py keeps it untyped: the ground
    imports no domain)."""
    storage: Storage = state_of(app).storage
    return storage


def request_storage(request: HTTPConnection) -> Storage:
    return storage_of(request.app)


StorageDep = Annotated[Storage, Depends(request_storage)]
