"""What an uploaded file really is: judged by its bytes, never by its name or the browser's MIME type.

Two steps, both here:
- `sniff(kind, head)` looks at the first bytes of the first chunk, so a text file called `lesson.mp4` is refused
  before the rest of it is sent;
- `inspect_object(...)` reads the assembled object once the last chunk is in: videos are probed with PyAV
  (container, codec, duration, one decoded frame) and get a poster frame; PDFs are opened with pypdf and their
  pages counted; images are decoded with Pillow and stored again as a clean JPEG or PNG (no EXIF, upright).

Objects are read in place: from the file itself on the local backend, through HTTP range requests on S3
(`ObjectReader`), so a 2 GB upload is never copied to a temporary file nor held in memory.

`MediaRejected` carries an English msgid (and its parameters) shown to the trainer in Chinese.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import av
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader

from backend.kit.errors import InvalidInput
from backend.kit.i18n import _
from backend.media.probe import InvalidMedia, MediaInfo, probe_stream
from backend.media.storage import Storage, StorageError

log = logging.getLogger(__name__)

SNIFF_BYTES = 1024
# What each kind may be, as (content type, file extension). WebM also covers Matroska, its parent format.
MP4 = ("video/mp4", "mp4")
WEBM = ("video/webm", "webm")
PDF = ("application/pdf", "pdf")
JPEG = ("image/jpeg", "jpg")
PNG = ("image/png", "png")
WEBP = ("image/webp", "webp")
# ISO BMFF files (MP4, QuickTime) start with a box of one of these types; `ftyp` in all recent files.
_MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"})
# Codecs a current Chromium, Firefox and the WeChat browser all play, per container (FFmpeg decoder names).
PLAYABLE_CODECS = {"video/mp4": frozenset({"h264", "av1"}), "video/webm": frozenset({"vp8", "vp9", "av1"})}
_DECODER_CODECS = {"libdav1d": "av1", "libaom-av1": "av1", "libvpx": "vp8", "libvpx-vp9": "vp9"}

POSTER_AT = 0.10  # the poster is the frame at 10 % of the video: past black leaders and title fades
POSTER_MAX = (1280, 720)
POSTER_SEARCH_FRAMES = 300  # after seeking to the keyframe before the target, decode at most this many frames
COVER_MAX_SIDE = 2400  # course covers are shown at most ~1200 px wide; 2× for sharp screens
COVER_MAX_PIXELS = 50_000_000  # refuse decompression bombs well before Pillow's own (much higher) limit
READ_BLOCK_BYTES = 1024 * 1024

NOT_A_VIDEO = _("This file is not an MP4 or WebM video. Please choose a video file.")
NOT_A_PDF = _("This file is not a PDF document. Please save it as PDF and upload it again.")
NOT_AN_IMAGE = _("This file is not a JPEG, PNG or WebP image. Please choose a picture in one of these formats.")
WRONG_TYPE = {"video": NOT_A_VIDEO, "document": NOT_A_PDF, "image": NOT_AN_IMAGE}


class MediaRejected(InvalidInput):
    """The content is not acceptable for its kind. `message` is an English msgid with %(name)s `params`."""


@dataclass(frozen=True)
class Inspected:
    key: str  # the object to keep: the upload itself, or for images the re-encoded copy
    content_type: str
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    poster_key: str | None = None


def sniff(kind: str, head: bytes) -> tuple[str, str] | None:
    """(content type, extension) that the first bytes of a file announce for `kind`, or None if they do not."""
    if kind == "video":
        if head[4:8] in _MP4_FIRST_BOXES:
            return MP4
        if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska / WebM
            return WEBM
    elif kind == "document":
        # The PDF header may follow some junk, within the first 1024 bytes (ISO 32000-1, annex H).
        if b"%PDF-" in head[:SNIFF_BYTES]:
            return PDF
    elif kind == "image":
        if head[:3] == b"\xff\xd8\xff":
            return JPEG
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            return PNG
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return WEBP
    return None


def inspect_object(
    storage: Storage, kind: str, key: str, *, name: str, max_video_ms: int, derived_prefix: str
) -> Inspected:
    """Check the stored object `key` and describe it; raises MediaRejected. Objects it derives (poster, cover)
    are stored under `derived_prefix` (e.g. `uploads/<id>/`), and only once the content has been accepted."""
    if kind == "video":
        return _inspect_video(storage, key, name, max_video_ms, derived_prefix)
    if kind == "document":
        return _inspect_pdf(storage, key)
    if kind == "image":
        return _inspect_image(storage, key, derived_prefix)
    raise ValueError(f"unknown upload kind {kind!r}")


# --- video --------------------------------------------------------------------------------------------------
def _inspect_video(storage: Storage, key: str, name: str, max_video_ms: int, prefix: str) -> Inspected:
    with open_object(storage, key) as fh:
        try:
            info = probe_stream(fh, name)
        except InvalidMedia as exc:
            log.info("upload %s rejected: %s", key, exc.message)
            raise MediaRejected(
                _("This video cannot be read: it is damaged or not a video. Please export it again as MP4 (H.264).")
            ) from exc
        content_type = _video_type(info)
        duration_ms = round(info.duration_seconds * 1000)
        if duration_ms > max_video_ms:
            raise MediaRejected(
                _("This video is %(minutes)s minutes long; a lesson video may be at most %(limit)s minutes."),
                minutes=round(duration_ms / 60_000),
                limit=max_video_ms // 60_000,
            )
        poster = _poster_jpeg(fh, info.duration_seconds * POSTER_AT)
    poster_key = None
    if poster is not None:
        poster_key = f"{prefix}poster.jpg"
        storage.put_stream(poster_key, io.BytesIO(poster), len(poster), "image/jpeg")
    return Inspected(
        key=key,
        content_type=content_type,
        duration_ms=duration_ms,
        width=info.width,
        height=info.height,
        poster_key=poster_key,
    )


def _video_type(info: MediaInfo) -> str:
    if info.video_codec is None:
        raise MediaRejected(_("This file has sound but no picture. Please upload a video."))
    demuxers = set(info.container.split(","))
    content_type = MP4[0] if "mp4" in demuxers else WEBM[0] if "webm" in demuxers else None
    codec = _DECODER_CODECS.get(info.video_codec, info.video_codec)
    if content_type is None or codec not in PLAYABLE_CODECS[content_type]:
        raise MediaRejected(
            _("This video uses %(codec)s, which browsers cannot play. Please export it as MP4 (H.264) or WebM."),
            codec=codec,
        )
    return content_type


def _poster_jpeg(fh: BinaryIO, at_seconds: float) -> bytes | None:
    """A JPEG of the frame at `at_seconds` (or the first frame), or None if no frame can be decoded there."""
    for target in (at_seconds, 0.0):
        try:
            image = _frame_at(fh, target)
        except (av.FFmpegError, OSError, ValueError) as exc:
            log.warning("no poster frame at %.1f s: %s", target, exc)
            continue
        if image is not None:
            image.thumbnail(POSTER_MAX)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue()
    return None


def _frame_at(fh: BinaryIO, target: float) -> Image.Image | None:
    fh.seek(0)
    with av.open(fh, mode="r") as container:
        if target > 0:
            # Without a stream the offset is in AV_TIME_BASE units; FFmpeg lands on the keyframe before it.
            container.seek(int(target * av.time_base), backward=True)
        last = None
        for index, frame in enumerate(container.decode(video=0)):
            last = frame
            if frame.time is None or frame.time >= target or index >= POSTER_SEARCH_FRAMES:
                break
        return last.to_image() if last is not None else None


# --- PDF ----------------------------------------------------------------------------------------------------
def _inspect_pdf(storage: Storage, key: str) -> Inspected:
    with open_object(storage, key) as fh:
        try:
            reader = PdfReader(fh)
            if reader.is_encrypted and not reader.decrypt(""):
                raise MediaRejected(_("This PDF is protected by a password. Please save it without one."))
            pages = len(reader.pages)
        except (MediaRejected, StorageError):
            raise
        except Exception as exc:  # pypdf raises many kinds of error (KeyError, ValueError…) on broken files
            log.info("upload %s rejected: unreadable PDF: %r", key, exc)
            raise MediaRejected(_("This PDF cannot be read: it is damaged. Please save it as PDF again.")) from exc
    if pages < 1:
        raise MediaRejected(_("This PDF has no pages."))
    return Inspected(key=key, content_type=PDF[0], pages=pages)


# --- images -------------------------------------------------------------------------------------------------
def _inspect_image(storage: Storage, key: str, prefix: str) -> Inspected:
    with open_object(storage, key) as fh:
        try:
            with Image.open(fh, formats=("JPEG", "PNG", "WEBP")) as original:
                if original.width * original.height > COVER_MAX_PIXELS:
                    raise MediaRejected(
                        _("This picture is too large (%(pixels)s megapixels). Please use at most %(limit)s."),
                        pixels=round(original.width * original.height / 1e6),
                        limit=COVER_MAX_PIXELS // 1_000_000,
                    )
                original.draft("RGB", (COVER_MAX_SIDE, COVER_MAX_SIDE))  # JPEG: decode at a reduced scale
                upright = ImageOps.exif_transpose(original)
                upright.load()
        except MediaRejected:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            log.info("upload %s rejected: unreadable image: %r", key, exc)
            raise MediaRejected(_("This picture cannot be read: it is damaged. Please choose another.")) from exc
    upright.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE))
    # Re-encoding drops EXIF (phone photos carry GPS positions) and anything hidden after the image data.
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    out = io.BytesIO()
    if has_alpha:
        content_type, extension = PNG
        upright.convert("RGBA").save(out, "PNG", optimize=True)
    else:
        content_type, extension = JPEG
        upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True, progressive=True)
    cover_key = f"{prefix}cover.{extension}"
    data = out.getvalue()
    storage.put_stream(cover_key, io.BytesIO(data), len(data), content_type)
    return Inspected(
        key=cover_key,
        content_type=content_type,
        width=upright.width,
        height=upright.height,
        poster_key=cover_key,
    )


# --- reading objects in place -------------------------------------------------------------------------------
@contextmanager
def open_object(storage: Storage, key: str) -> Iterator[BinaryIO]:
    """A seekable binary file over the stored object: the file itself when it is on this disk, else range reads."""
    path = storage.local_path(key)
    if path is not None:
        try:
            handle: BinaryIO = open(path, "rb")  # closed below
        except OSError as exc:
            raise StorageError(f"could not open {key!r}: {exc}") from exc
    else:
        handle = io.BufferedReader(ObjectReader(storage, key), buffer_size=READ_BLOCK_BYTES)  # type: ignore[assignment]
    try:
        yield handle
    finally:
        handle.close()


class ObjectReader(io.RawIOBase):
    """A read-only, seekable raw file over a stored object: each read is one ranged GET."""

    def __init__(self, storage: Storage, key: str) -> None:
        super().__init__()
        self._storage = storage
        self._key = key
        self._size = storage.stat(key).size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._position >= self._size:
            return 0
        wanted = min(len(buffer), self._size - self._position)
        data = b"".join(self._storage.read_range(self._key, self._position, self._position + wanted - 1))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
