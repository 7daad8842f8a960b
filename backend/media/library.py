"""Lesson media in storage: content-addressed keys, duration read from the file by probing it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from backend.media.demo_video import LONG_CLIP_FPS, LONG_CLIP_SECONDS, generate_title_clip
from backend.media.probe import probe_media
from backend.media.storage import Storage

VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/mp4", "webm": "video/webm", "matroska": "video/webm"}


@dataclass(frozen=True)
class StoredVideo:
    key: str
    content_type: str
    duration_ms: int
    created: bool  # False when the same content was already stored


class WrittenObjects:
    """Keys written during one unit of work, so a failure can remove them: no orphan objects in storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.keys: list[str] = []

    def note(self, stored: StoredVideo) -> StoredVideo:
        if stored.created:
            self.keys.append(stored.key)
        return stored

    def remove_all(self) -> None:
        for key in self.keys:
            self.storage.delete(key)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def store_video_file(storage: Storage, path: Path) -> StoredVideo:
    """Probes the file (raises InvalidMedia for non-video) and stores it once under its content hash."""
    info = probe_media(path)
    container = next((name for name in info.container.split(",") if name in VIDEO_TYPES), "mp4")
    content_type = VIDEO_TYPES[container]
    extension = "webm" if content_type == "video/webm" else "mp4"
    key = f"videos/{_sha256(path)}.{extension}"
    created = not storage.exists(key)
    if created:
        storage.put_file(key, path, content_type)
    return StoredVideo(key, content_type, round(info.duration_seconds * 1000), created)


def generate_demo_clip(path: Path, *, title: str, subtitle: str, seconds: int) -> float:
    """A title clip; one of a demo lesson's real length (longer than `LONG_CLIP_SECONDS`) is a still slide at one
    frame a second, so hours of it generate in seconds."""
    fps = LONG_CLIP_FPS if seconds > LONG_CLIP_SECONDS else 10
    return generate_title_clip(path, title, subtitle, seconds, fps=fps)
