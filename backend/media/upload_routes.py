"""HTTP side of resumable uploads (JSON API under /api/v1/uploads), posters and covers, and the trainer's try-out
page. The rules live in `backend.media.uploads`; this module turns a request body into a stream for storage.

    POST   /api/v1/uploads                       {filename, size, kind} → the upload, with its chunk_size
    PUT    /api/v1/uploads/{id}/chunks/{index}   raw bytes of chunk `index` (Content-Length; Content-Range optional)
    GET    /api/v1/uploads/{id}                  status: how much arrived (resume from `received`), and results
    POST   /api/v1/uploads/{id}/complete         inspect the content → state "ready" (or 422, upload deleted)
    DELETE /api/v1/uploads/{id}                  cancel: nothing stays behind
    GET    /uploads/{id}/poster                  a video's poster frame or a cover image (any logged-in user)
    GET    /studio/uploads/new                   try the uploader (trainers, district admins)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal
from uuid import UUID

import anyio.from_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from backend.accounts.deps import AuthorUser, CurrentUser
from backend.accounts.models import User
from backend.db import SessionDep
from backend.kit.errors import Forbidden, InvalidInput
from backend.kit.i18n import _
from backend.kit.numbers import BigInt
from backend.kit.web import render
from backend.media import uploads
from backend.media.models import Upload
from backend.media.serving import serve_object
from backend.media.storage import StorageDep
from backend.policies.service import load_policy

router = APIRouter()


def _uploader(session: SessionDep, user: CurrentUser) -> User:
    """Authors, and whoever a higher package lets upload (`uploads.extra_uploaders`: active workshop members)."""
    if not uploads.may_upload(session, user):
        raise Forbidden(_("Your role does not allow this."))
    return user


UploaderUser = Annotated[User, Depends(_uploader)]
# The body is pulled from the server in pieces of about this size (bounded memory: one pull per request).
PULL_BYTES = 1024 * 1024


class UploadStart(BaseModel):
    filename: str = Field(min_length=1, max_length=1000)
    size: Annotated[BigInt, Field(ge=0)]
    kind: Literal["video", "document", "image"]


class UploadOut(BaseModel):
    upload_id: UUID
    state: str
    kind: str
    filename: str
    size: int
    chunk_size: int
    received: int
    content_type: str | None = None
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    poster_url: str | None = None

    @classmethod
    def of(cls, upload: Upload) -> UploadOut:
        done = upload.state != "uploading"
        return cls(
            upload_id=upload.id,
            state=upload.state,
            kind=upload.kind,
            filename=upload.filename,
            size=upload.size,
            chunk_size=upload.chunk_size,
            received=upload.received,
            content_type=upload.content_type if done else None,
            duration_ms=upload.duration_ms,
            width=upload.width,
            height=upload.height,
            pages=upload.pages,
            poster_url=f"/uploads/{upload.id}/poster" if upload.poster_key else None,
        )


@router.post("/api/v1/uploads", status_code=201, tags=["uploads"])
def start_upload(body: UploadStart, session: SessionDep, storage: StorageDep, user: UploaderUser) -> UploadOut:
    upload = uploads.start_upload(session, storage, user, filename=body.filename, size=body.size, kind=body.kind)
    return UploadOut.of(upload)


@router.get("/api/v1/uploads/{upload_id}", tags=["uploads"])
def upload_status(upload_id: str, session: SessionDep, user: UploaderUser) -> UploadOut:
    return UploadOut.of(uploads.get_upload(session, user, upload_id))


@router.put("/api/v1/uploads/{upload_id}/chunks/{index}", tags=["uploads"])
def put_chunk(
    request: Request, upload_id: str, index: int, session: SessionDep, storage: StorageDep, user: UploaderUser
) -> UploadOut:
    length = _content_length(request)
    plan = uploads.prepare_chunk(session, user, upload_id, index, length, request.headers.get("content-range"))
    if plan.already_stored:
        return UploadOut.of(plan.upload)
    # End the read-only transaction before the body streams in, which takes seconds to minutes on a slow line:
    # PostgreSQL would keep a connection idle in transaction, and SQLite (WAL) refuses to turn a read snapshot
    # that other writers have since overtaken into a write ("database is locked"), so the final update would fail.
    session.commit()
    # A rejected upload is gone for good: UploadRejected keeps the deletion of its row (the session commits it).
    upload = uploads.store_chunk(session, storage, plan, RequestBody(request, length))
    return UploadOut.of(upload)


@router.post("/api/v1/uploads/{upload_id}/complete", tags=["uploads"])
def complete_upload(upload_id: str, session: SessionDep, storage: StorageDep, user: UploaderUser) -> UploadOut:
    plan = uploads.prepare_completion(session, user, upload_id)
    session.commit()  # as for chunks: no transaction stays open while the file is assembled and probed
    upload = uploads.complete_upload(session, storage, plan)  # UploadRejected keeps its deletion
    return UploadOut.of(upload)


@router.delete("/api/v1/uploads/{upload_id}", status_code=204, tags=["uploads"])
def cancel_upload(upload_id: str, session: SessionDep, storage: StorageDep, user: UploaderUser) -> Response:
    uploads.cancel_upload(session, storage, user, upload_id)
    return Response(status_code=204)


@router.get("/uploads/{upload_id}/poster", include_in_schema=False)
def poster(request: Request, upload_id: str, session: SessionDep, user: CurrentUser) -> Response:
    key, content_type = uploads.poster_of(session, upload_id)
    # Posters never change under one key (a new upload gets a new id), so browsers may keep them.
    return serve_object(request, key, media_type=content_type, missing=_("This picture does not exist."), max_age=86400)


@router.get("/studio/uploads/new", include_in_schema=False)
def upload_page(request: Request, session: SessionDep, user: AuthorUser) -> Response:
    policy = load_policy(session)
    return render(
        request,
        "media/upload.html",
        {
            "max_size": uploads.format_bytes(policy.content.upload_max_bytes),
            "max_bytes": policy.content.upload_max_bytes,
            "max_minutes": policy.content.upload_max_video_minutes,
        },
    )


class IncompleteChunk(InvalidInput):
    """The connection closed before the whole chunk arrived; the chunk is not stored and may be sent again."""


class RequestBody:
    """The request body as a blocking binary file, for storage code in the endpoint's worker thread.

    Each `read` pulls the next piece from the ASGI server (about 64 KiB from uvicorn) on the event loop, so
    at most one piece is held here and the server's flow control keeps the rest in the client's socket. It
    hands out exactly `length` bytes (the chunk's Content-Length) and raises IncompleteChunk if fewer come.
    """

    def __init__(self, request: Request, length: int) -> None:
        self._pieces: AsyncIterator[bytes] = request.stream().__aiter__()
        self._buffer = b""
        self._position = 0
        self._remaining = length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if self._position >= len(self._buffer):
            self._fill(1)
        wanted = self._remaining if size < 0 else min(size, self._remaining)
        if self._position == 0 and wanted >= len(self._buffer):
            piece, self._buffer = self._buffer, b""  # the common case: hand the piece over without a copy
        else:
            piece = self._buffer[self._position : self._position + wanted]
            self._position += len(piece)
        self._remaining -= len(piece)
        return piece

    def peek(self, size: int) -> bytes:
        self._fill(min(size, self._remaining))
        return self._buffer[self._position : self._position + size]

    def _fill(self, at_least: int) -> None:
        while len(self._buffer) - self._position < at_least:
            piece = anyio.from_thread.run(self._next_piece)
            if piece is None:
                raise IncompleteChunk(_("The connection was lost during the upload. The chunk will be sent again."))
            self._buffer = self._buffer[self._position :] + piece if self._position < len(self._buffer) else piece
            self._position = 0

    async def _next_piece(self) -> bytes | None:
        """The next ≤ PULL_BYTES of the body, or None when it ended (or the client went away).

        Pieces from the server are gathered up to PULL_BYTES on the event loop: one hop between the worker
        thread and the loop per ~1 MiB instead of per ~64 KiB piece."""
        pieces: list[bytes] = []
        gathered = 0
        try:
            while gathered < min(PULL_BYTES, self._remaining):
                piece = await self._pieces.__anext__()
                pieces.append(piece)
                gathered += len(piece)
        except (StopAsyncIteration, ClientDisconnect):
            pass
        return b"".join(pieces) if gathered else None


def _content_length(request: Request) -> int:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError) as exc:
        raise InvalidInput(_("Each chunk must be sent with its Content-Length.")) from exc
