"""Resumable uploads of lesson videos, PDF documents and course covers, and handing them to other domains.

For other domains (lessons, covers, assignments) there is one call, `claim_upload`: the browser uploaded a file
through `/api/v1/uploads` and put its id in a form; the form's handler claims it and stores the returned
`StoredMedia` fields on its own row.

The upload itself (see `upload_routes.py` for the HTTP side):
1. `start_upload`: the client declares name, size and kind; the policy's size limit is checked here.
2. `prepare_chunk` + `store_chunk`, once per chunk, strictly in order, each exactly `chunk_size` bytes (the last
   one the rest). Chunk 0's first bytes must announce the declared kind (`inspection.sniff`), otherwise the
   upload is rejected at once. Chunk i is part i+1 of a storage multipart upload (S3 multipart, or a growing
   file on the local backend), streamed from the request. A retried chunk that is already stored is skipped.
3. `prepare_completion` + `complete_upload`: assembles the object, inspects its content (probe, page count,
   re-encoding) and marks it ready, or rejects it.

Chunks and completion come in two calls (prepare: read-only checks; then the slow part, which writes only at
its end) so that the route can end the read transaction in between: no database transaction stays open while
a chunk streams in or a video is probed (see `upload_routes.put_chunk`).

Nothing half-done stays: a rejected or cancelled upload loses its stored parts, objects and row (the caller
commits that deletion even though it answers with an error: see `UploadRejected`). Abandoned uploads are
swept by `discard_stale_uploads`.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.kit import clock, metrics
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.media.inspection import SNIFF_BYTES, WRONG_TYPE, MediaRejected, inspect_object, sniff
from backend.media.models import Upload, UploadKind, UploadState
from backend.media.storage import Storage, StorageError, UploadedPart
from backend.policies.service import load_policy

log = logging.getLogger(__name__)

# 8 MiB chunks: S3 parts must be ≥ 5 MiB (except the last); one chunk is all a request ever holds in memory
# (S3 signs each part's bytes), and a lost connection costs at most 8 MiB of re-sending.
CHUNK_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000  # S3's limit; larger files get proportionally larger chunks
# Unfinished (or finished but never attached) uploads older than this are deleted with their objects.
STALE_AFTER = timedelta(days=7)
_MIB = 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")

NO_SUCH_UPLOAD = _("This upload does not exist or has been removed.")
KIND_NEEDED: dict[str, str] = {
    UploadKind.video: _("Please choose an uploaded video here."),
    UploadKind.document: _("Please choose an uploaded PDF document here."),
    UploadKind.image: _("Please choose an uploaded picture here."),
}


@dataclass(frozen=True)
class StoredMedia:
    """An accepted upload, as other domains keep it: store these on your own row (lesson, course, assignment)."""

    key: str  # storage key of the file (serve it as lesson media do: `Storage.browser_url` / `local_path`)
    content_type: str  # from the content: video/mp4, video/webm, application/pdf, image/jpeg, image/png
    kind: str  # "video" | "document" | "image"
    duration_ms: int | None  # videos: from the probe, never from the client
    pages: int | None  # PDFs
    poster_key: str | None  # videos: a JPEG frame at ~10 %; images: the (re-encoded) image itself
    width: int | None = None
    height: int | None = None
    size: int = 0
    filename: str = ""  # the name the trainer's file had: for display only


class UploadRejected(InvalidInput):
    """The file's content is not acceptable (wrong type, damaged, too long). The upload's row and stored objects
    are already deleted in the session, and that is kept (`keep`): the request's session commits it."""

    code = "upload_rejected"
    keep = True


class UploadTooLarge(InvalidInput):
    status_code = 413
    code = "upload_too_large"


class ChunkBody(Protocol):
    """A request body being read: `read` as a binary file; `peek(n)` returns ≥ n bytes (fewer only at the end)
    without consuming them."""

    def read(self, size: int = -1) -> bytes: ...

    def peek(self, size: int) -> bytes: ...


@dataclass(frozen=True)
class CompletionPlan:
    upload: Upload
    max_video_ms: int  # policy upload_max_video_minutes, read before the inspection
    already_done: bool  # ready or attached: completing again answers the same


@dataclass(frozen=True)
class ChunkPlan:
    upload: Upload
    index: int
    offset: int
    length: int
    already_stored: bool  # a retry of a chunk the server has: nothing to do, answer with the status


# --- who uploads ----------------------------------------------------------------------------------------------
# Authors (trainers, district admins) upload lesson media. Higher packages may let other people upload for their own
# purpose by registering a check here (media sits below them, so it does not import them): the organisation lets
# active workshop members upload their outputs (成果). Everyone else is refused.
UploaderCheck = Callable[[Session, User], bool]
extra_uploaders: list[UploaderCheck] = []
AUTHOR_ROLES = (Role.trainer, Role.district_admin)


def may_upload(session: Session, user: User) -> bool:
    return user.role in AUTHOR_ROLES or any(check(session, user) for check in extra_uploaders)


# --- for other domains --------------------------------------------------------------------------------------
def claim_upload(session: Session, user: User, upload_id: uuid.UUID | str, kind: str) -> StoredMedia:
    """Take the ready upload `upload_id` for an attachment (lesson video, PDF, course cover, assignment file).

    Raises NotFound unless the upload exists and belongs to `user`; InvalidInput unless it is complete and
    accepted (state "ready") and of `kind` ("video" | "document" | "image"); Conflict if it was already claimed.
    Marks it "attached" (flushed, committed with the caller's request), so the same upload cannot be attached
    twice, nor cancelled or swept afterwards: from then on the caller's row owns the stored objects.
    """
    upload = _owned(session, user, upload_id, for_update=True)
    if upload.kind != kind:
        raise InvalidInput(KIND_NEEDED.get(kind, NO_SUCH_UPLOAD))
    if upload.state == UploadState.attached:
        raise Conflict(_("This upload is already in use. Upload the file again to use it a second time."))
    if upload.state != UploadState.ready:
        raise InvalidInput(_("This upload has not finished yet. Wait until it shows as ready."))
    upload.state = UploadState.attached
    session.flush()
    assert upload.storage_key and upload.content_type
    return StoredMedia(
        key=upload.storage_key,
        content_type=upload.content_type,
        kind=upload.kind,
        duration_ms=upload.duration_ms,
        pages=upload.pages,
        poster_key=upload.poster_key,
        width=upload.width,
        height=upload.height,
        size=upload.size,
        filename=upload.filename,
    )


# --- the upload ---------------------------------------------------------------------------------------------
def chunk_size_for(size: int) -> int:
    """CHUNK_BYTES, grown in whole MiB when the file would otherwise need more than S3's 10,000 parts."""
    if size <= CHUNK_BYTES * MAX_PARTS:
        return CHUNK_BYTES
    return math.ceil(size / MAX_PARTS / _MIB) * _MIB


def chunk_count(upload: Upload) -> int:
    return math.ceil(upload.size / upload.chunk_size)


def start_upload(session: Session, storage: Storage, user: User, *, filename: str, size: int, kind: str) -> Upload:
    policy = load_policy(session)
    if kind not in set(UploadKind):
        raise InvalidInput(_("Unknown kind of upload."), fields={"kind": _("Unknown kind of upload.")})
    if size < 1:
        raise InvalidInput(_("This file is empty."), fields={"size": _("This file is empty.")})
    if size > policy.content.upload_max_bytes:
        raise UploadTooLarge(
            _("This file is %(size)s; files may be at most %(limit)s. Please compress or split it."),
            size=format_bytes(size),
            limit=format_bytes(policy.content.upload_max_bytes),
        )
    discard_stale_uploads(session, storage, owner_id=user.id)
    upload = Upload(
        owner_id=user.id,
        kind=kind,
        filename=_display_name(filename),
        size=size,
        chunk_size=chunk_size_for(size),
        received=0,
        parts=[],
        state=UploadState.uploading,
        created_at=clock.now(),
    )
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, user: User, upload_id: uuid.UUID | str) -> Upload:
    """The user's own upload; NotFound for anyone else's, so ids cannot be probed."""
    return _owned(session, user, upload_id)


def prepare_chunk(
    session: Session, user: User, upload_id: uuid.UUID | str, index: int, length: int, content_range: str | None
) -> ChunkPlan:
    """Check a chunk before its body is read (read-only: the caller may end the transaction after this)."""
    upload = _owned(session, user, upload_id)
    if upload.state != UploadState.uploading:
        raise Conflict(_("This upload is already complete."))
    if not 0 <= index < chunk_count(upload):
        raise InvalidInput(_("This upload has no chunk number %(index)s."), index=index)
    offset = index * upload.chunk_size
    expected = min(upload.chunk_size, upload.size - offset)
    if content_range is not None:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        if not match or (int(match[1]), int(match[2]), int(match[3])) != (offset, offset + expected - 1, upload.size):
            raise InvalidInput(
                _("Chunk %(index)s must cover bytes %(first)s-%(last)s of %(size)s."),
                index=index, first=offset, last=offset + expected - 1, size=upload.size,
            )
    if length != expected:
        raise InvalidInput(
            _("Chunk %(index)s must be %(expected)s bytes long, not %(length)s."),
            index=index, expected=expected, length=length,
        )
    next_index = upload.received // upload.chunk_size
    if index > next_index:
        raise Conflict(_("Chunks must be sent in order: the next one is number %(next)s."), next=next_index)
    return ChunkPlan(upload, index, offset, length, already_stored=index < next_index)


def store_chunk(session: Session, storage: Storage, plan: ChunkPlan, body: ChunkBody) -> Upload:
    """Stream the chunk into storage, then record it — unless another request recorded a chunk meanwhile."""
    upload = plan.upload
    key, token, sniffed_type = upload.storage_key, upload.storage_token, upload.content_type
    began = None
    if plan.index == 0:
        sniffed = sniff(upload.kind, body.peek(min(SNIFF_BYTES, plan.length)))
        if sniffed is None:
            _discard(session, storage, _reload(session, upload.id))
            raise UploadRejected(WRONG_TYPE[upload.kind])
        sniffed_type, extension = sniffed
        key = f"{_prefix(upload)}{upload.kind}.{extension}"
        token = began = storage.begin_multipart(key, sniffed_type)
    assert key and token, "chunk 0 records the key and token"
    try:
        part = storage.put_part(key, token, plan.index + 1, plan.offset, body, plan.length)  # type: ignore[arg-type]
    except BaseException:
        if began:
            _abort_quietly(storage, key, began)
        raise
    recorded = session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.received == upload.received, Upload.state == UploadState.uploading)
        .values(
            received=upload.received + plan.length,
            parts=[*upload.parts, [part.number, part.etag, part.size]],
            storage_key=key,
            storage_token=token,
            content_type=sniffed_type,
        )
        .execution_options(synchronize_session=False)
    )
    if recorded.rowcount != 1:  # type: ignore[attr-defined]
        if began:
            _abort_quietly(storage, key, began)
        raise Conflict(_("This upload changed at the same moment in another request. Check its status and go on."))
    metrics.UPLOAD_BYTES.inc(plan.length)
    return _reload(session, upload.id)


def prepare_completion(session: Session, user: User, upload_id: uuid.UUID | str) -> CompletionPlan:
    """Check that the whole file has arrived (read-only: the caller may end the transaction after this)."""
    upload = _owned(session, user, upload_id)
    if upload.state != UploadState.uploading:
        return CompletionPlan(upload, 0, already_done=True)
    if upload.received < upload.size or not upload.storage_key or not upload.storage_token:
        raise Conflict(
            _("The file has not fully arrived: %(received)s of %(size)s bytes. Send the rest, then finish."),
            received=upload.received, size=upload.size,
        )
    max_video_ms = load_policy(session).content.upload_max_video_minutes * 60_000
    return CompletionPlan(upload, max_video_ms, already_done=False)


def complete_upload(session: Session, storage: Storage, plan: CompletionPlan) -> Upload:
    """Assemble, inspect and accept the upload; raises UploadRejected (after deleting it) when the content is
    not acceptable. Touches the database only at the end, after the (seconds-long) inspection."""
    upload = plan.upload
    if plan.already_done:
        return upload  # a retry after a lost response answers the same
    assert upload.storage_key and upload.storage_token, "prepare_completion checked them"
    # A retry after a completion that was not recorded finds the object already assembled.
    if not storage.exists(upload.storage_key):
        parts = [UploadedPart(int(n), str(etag), int(size)) for n, etag, size in upload.parts]
        storage.complete_multipart(upload.storage_key, upload.storage_token, parts)
    try:
        found = inspect_object(
            storage,
            upload.kind,
            upload.storage_key,
            name=upload.filename,
            max_video_ms=plan.max_video_ms,
            derived_prefix=_prefix(upload),
        )
    except MediaRejected as exc:
        _discard(session, storage, upload)
        raise UploadRejected(exc.message, **exc.params) from exc
    if found.key != upload.storage_key:  # an image stored again, re-encoded: the original goes
        storage.delete(upload.storage_key)
    session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.state == UploadState.uploading)
        .values(
            storage_key=found.key,
            content_type=found.content_type,
            duration_ms=found.duration_ms,
            width=found.width,
            height=found.height,
            pages=found.pages,
            poster_key=found.poster_key,
            state=UploadState.ready,
            completed_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    # No row changed: a simultaneous completion won (same result) or a cancel removed it (NotFound).
    reloaded = session.scalars(
        select(Upload).where(Upload.id == upload.id).execution_options(populate_existing=True)
    ).one_or_none()
    if reloaded is None:
        raise NotFound(NO_SUCH_UPLOAD)
    return reloaded


def cancel_upload(session: Session, storage: Storage, user: User, upload_id: uuid.UUID | str) -> None:
    """Cancel an upload in progress (or one finished but not attached): its parts, objects and row go."""
    upload = _owned(session, user, upload_id, for_update=True)
    if upload.state == UploadState.attached:
        raise Conflict(_("This file is already in use and cannot be cancelled here."))
    _discard(session, storage, upload)


def poster_of(session: Session, upload_id: uuid.UUID | str) -> tuple[str, str]:
    """(key, content type) of the poster frame (videos) or the cover (images): not secret, any user may see it."""
    upload = session.get(Upload, _parse_id(upload_id))
    if upload is None or upload.state == UploadState.uploading or not upload.poster_key:
        raise NotFound(_("This picture does not exist."))
    content_type = upload.content_type if upload.poster_key == upload.storage_key else "image/jpeg"
    return upload.poster_key, content_type or "image/jpeg"


def discard_stale_uploads(
    session: Session, storage: Storage, *, owner_id: int | None = None, older_than: timedelta = STALE_AFTER
) -> int:
    """Delete uploads started more than `older_than` ago and never attached, with their objects; returns how
    many. Run at every new upload for its owner; a periodic job may call it for everyone (owner_id=None)."""
    query = select(Upload).where(
        Upload.state.in_([UploadState.uploading, UploadState.ready]),
        Upload.created_at < clock.now() - older_than,
    )
    if owner_id is not None:
        query = query.where(Upload.owner_id == owner_id)
    stale = list(session.scalars(query))
    for upload in stale:
        _discard(session, storage, upload)
    return len(stale)


def format_bytes(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


# --- helpers ------------------------------------------------------------------------------------------------
def _parse_id(upload_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(upload_id, uuid.UUID):
        return upload_id
    try:
        return uuid.UUID(upload_id)
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFound(NO_SUCH_UPLOAD) from exc


def _owned(session: Session, user: User, upload_id: uuid.UUID | str, *, for_update: bool = False) -> Upload:
    query = select(Upload).where(Upload.id == _parse_id(upload_id))
    if for_update:
        query = query.with_for_update()
    upload = session.scalars(query).one_or_none()
    if upload is None or upload.owner_id != user.id:
        raise NotFound(NO_SUCH_UPLOAD)
    return upload


def _reload(session: Session, upload_id: uuid.UUID) -> Upload:
    return session.scalars(
        select(Upload).where(Upload.id == upload_id).execution_options(populate_existing=True)
    ).one()


def _prefix(upload: Upload) -> str:
    return f"uploads/{upload.id.hex}/"


def _display_name(filename: str) -> str:
    # Browsers send a bare name, old ones a whole Windows path; keep the last segment, printable, ≤ 255 chars.
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "upload"


def _discard(session: Session, storage: Storage, upload: Upload) -> None:
    """Remove everything an upload left in storage, then its row (flushed; committed with the request)."""
    if upload.state == UploadState.uploading and upload.storage_key and upload.storage_token:
        storage.abort_multipart(upload.storage_key, upload.storage_token)
    for key in {upload.storage_key, upload.poster_key} - {None}:
        storage.delete(key)  # type: ignore[arg-type]
    session.delete(upload)
    session.flush()


def _abort_quietly(storage: Storage, key: str, token: str) -> None:
    try:
        storage.abort_multipart(key, token)
    except StorageError:
        log.exception("could not abort the multipart upload %s of %s; it is left to the bucket's lifecycle", token, key)
