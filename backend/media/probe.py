"""What an uploaded file really is, read with PyAV (FFmpeg); never trusted from its name or its MIME type.

`probe_media` opens the container, reads its duration and first video stream, and decodes one video frame: a
file whose header parses but whose video data is garbage is rejected here rather than in a teacher's browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
from av.container import InputContainer

# FFmpeg demuxers that turn ordinary non-media files into a "video": `tty` renders text (e.g. *.ans, *.nfo) as
# an ANSI-art video stream with a made-up duration. Such a file is not a lesson video.
_TEXT_AS_VIDEO_FORMATS = frozenset({"tty"})


@dataclass(frozen=True)
class MediaInfo:
    container: str  # FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" (MP4 and QuickTime share a demuxer)
    duration_seconds: float
    video_codec: str | None  # e.g. "h264"; None for audio-only files
    width: int | None
    height: int | None


class InvalidMedia(Exception):
    """The file is not audio/video FFmpeg can read, or it is corrupt. The message is English, for logs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def probe_media(path: Path) -> MediaInfo:
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise InvalidMedia(f"{path.name} is not a readable media file: {exc}") from exc
    with container:
        return _describe(container, path)


def probe_stream(stream: BinaryIO, name: str) -> MediaInfo:
    """`probe_media` for a seekable binary file object (an upload read from S3 by byte ranges); `name` is for
    messages only."""
    try:
        container = av.open(stream, mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise InvalidMedia(f"{name} is not a readable media file: {exc}") from exc
    with container:
        return _describe(container, Path(name))


def _describe(container: InputContainer, path: Path) -> MediaInfo:
    format_name = container.format.name
    if format_name in _TEXT_AS_VIDEO_FORMATS:
        raise InvalidMedia(f"{path.name} is text, not media (FFmpeg format {format_name!r})")
    if not container.streams.video and not container.streams.audio:
        raise InvalidMedia(f"{path.name} has no audio or video stream")

    video = container.streams.video[0] if container.streams.video else None
    duration = _duration_seconds(container)
    if duration is None or duration <= 0:
        raise InvalidMedia(f"{path.name} has no known duration")

    if video is None:
        return MediaInfo(format_name, duration, None, None, None)
    _require_decodable_frame(container, path)
    return MediaInfo(
        container=format_name,
        duration_seconds=duration,
        video_codec=video.codec_context.name,
        width=video.codec_context.width or None,
        height=video.codec_context.height or None,
    )


def _duration_seconds(container: InputContainer) -> float | None:
    if container.duration is not None:
        return container.duration / av.time_base  # container.duration is in AV_TIME_BASE (microsecond) units
    longest: float | None = None
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
            longest = seconds if longest is None else max(longest, seconds)
    return longest


def _require_decodable_frame(container: InputContainer, path: Path) -> None:
    try:
        for _frame in container.decode(video=0):
            return
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMedia(f"{path.name} has corrupt video data: {exc}") from exc
    raise InvalidMedia(f"{path.name} has a video stream but no decodable frame")
