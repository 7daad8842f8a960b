"""The storage contract for objects assembled from parts, on both backends (local folder, S3 on moto)."""

from __future__ import annotations

import io

import pytest

from backend.media.storage import ObjectMissing, Storage, StorageError
from tests.media.upload_helpers import leftovers, read_object

MIB = 1024 * 1024


class _Dropping(io.RawIOBase):
    """A stream that ends (like a dropped connection) after `limit` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = io.BytesIO(data[:limit])

    def read(self, size: int = -1) -> bytes:
        piece = self._data.read(size)
        if not piece:
            raise ConnectionResetError("client went away")
        return piece


def test_parts_become_one_object_only_when_completed(storage: Storage) -> None:
    first, second = bytes(range(256)) * (5 * MIB // 256), b"the last part may be small"
    token = storage.begin_multipart("uploads/a/video.mp4", "video/mp4")
    one = storage.put_part("uploads/a/video.mp4", token, 1, 0, io.BytesIO(first), len(first))
    two = storage.put_part("uploads/a/video.mp4", token, 2, len(first), io.BytesIO(second), len(second))
    assert (one.number, one.size, two.number, two.size) == (1, len(first), 2, len(second))
    assert not storage.exists("uploads/a/video.mp4")

    stored = storage.complete_multipart("uploads/a/video.mp4", token, [one, two])
    assert stored.size == len(first) + len(second) and stored.content_type == "video/mp4"
    assert storage.stat("uploads/a/video.mp4").content_type == "video/mp4"
    assert read_object(storage, "uploads/a/video.mp4") == first + second
    assert [k for k in leftovers(storage) if not k.startswith(".")] == ["uploads/a/video.mp4"]
    storage.abort_multipart("uploads/a/video.mp4", token)  # after completion: nothing to abort, no error
    assert storage.exists("uploads/a/video.mp4")


def test_a_part_cut_short_can_be_sent_again(storage: Storage) -> None:
    part = b"x" * (5 * MIB)
    token = storage.begin_multipart("uploads/b/doc.pdf", "application/pdf")
    with pytest.raises((ConnectionResetError, StorageError)):
        storage.put_part("uploads/b/doc.pdf", token, 1, 0, _Dropping(part, 3 * MIB), len(part))  # type: ignore[arg-type]
    again = storage.put_part("uploads/b/doc.pdf", token, 1, 0, io.BytesIO(part), len(part))
    storage.complete_multipart("uploads/b/doc.pdf", token, [again])
    assert read_object(storage, "uploads/b/doc.pdf") == part


def test_aborting_leaves_nothing(storage: Storage) -> None:
    token = storage.begin_multipart("uploads/c/video.webm", "video/webm")
    storage.put_part("uploads/c/video.webm", token, 1, 0, io.BytesIO(b"y" * 1000), 1000)
    assert leftovers(storage) != []
    storage.abort_multipart("uploads/c/video.webm", token)
    storage.abort_multipart("uploads/c/video.webm", token)  # twice: still fine
    assert leftovers(storage) == []
    with pytest.raises(ObjectMissing):
        storage.stat("uploads/c/video.webm")


def test_multipart_keys_are_validated_like_any_other(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.begin_multipart("../escape", "video/mp4")
