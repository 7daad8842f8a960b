"""Uploads in progress and uploaded media waiting to be attached (to a lesson, a course cover, an assignment).

A row lives from `POST /api/v1/uploads` until the file is attached, or is deleted with its stored objects: a
cancelled, rejected or abandoned upload leaves neither a row nor an object behind.

    uploading ──complete (content accepted)──▶ ready ──claim_upload──▶ attached
        └──────── cancel / reject / stale ────────▶ (row and objects deleted)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class UploadKind(StrEnum):
    video = "video"  # lesson video: MP4/H.264 or WebM (VP8/VP9/AV1)
    document = "document"  # PDF
    image = "image"  # course cover: JPEG, PNG or WebP, stored re-encoded as JPEG or PNG


class UploadState(StrEnum):
    uploading = "uploading"
    ready = "ready"  # probed and accepted; may be attached once
    attached = "attached"  # claimed by a lesson, cover or assignment (backend.media.uploads.claim_upload)


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("kind IN ('video', 'document', 'image')", name="kind"),
        CheckConstraint("state IN ('uploading', 'ready', 'attached')", name="state"),
        CheckConstraint("received >= 0 AND received <= size", name="received"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))  # as the browser named it: shown, never trusted
    size: Mapped[int] = mapped_column(BigInteger)  # declared by the client; every chunk is checked against it
    chunk_size: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes stored, always whole chunks
    # [[part number, etag, size], …] in order; the S3 ETags are needed to complete the multipart upload.
    parts: Mapped[list[list[int | str]]] = mapped_column(JSON, default=list)
    storage_key: Mapped[str | None] = mapped_column(String(1024))  # set with the first chunk (its type names it)
    storage_token: Mapped[str | None] = mapped_column(String(1024))  # the backend's multipart upload id
    state: Mapped[str] = mapped_column(String(16), default=UploadState.uploading)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Read from the content on completion, never from the client.
    content_type: Mapped[str | None] = mapped_column(String(100))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    poster_key: Mapped[str | None] = mapped_column(String(1024))
