"""The storage contract, checked on both backends: files on disk and a real S3 endpoint (moto over HTTP)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from minio import Minio

from backend.media.local import LocalStorage
from backend.media.s3 import S3Storage
from backend.media.storage import (
    READ_CHUNK_BYTES,
    ObjectMissing,
    Storage,
    StorageError,
    build_storage,
)
from tests.media.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, free_port, s3_settings

MIB = 1024 * 1024


def write_file(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def read_all(storage: Storage, key: str) -> bytes:
    size = storage.stat(key).size
    return b"".join(storage.read_range(key, 0, size - 1))


def raw_client(endpoint: str) -> Minio:
    """A plain minio client, to look at what the backend left in the bucket from the outside."""
    return Minio(
        endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False, region="us-east-1"
    )


class BrokenUpload(io.RawIOBase):
    """A client upload that dies after `good_bytes`, as when a teacher's connection drops mid-upload."""

    def __init__(self, good_bytes: int) -> None:
        self.remaining = good_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.remaining <= 0:
            raise OSError("connection reset by peer")
        count = min(len(buffer), self.remaining)
        buffer[:count] = b"x" * count
        self.remaining -= count
        return count


def test_uploaded_lesson_file_can_be_found_and_described(storage: Storage, tmp_path: Path) -> None:
    video = write_file(tmp_path, "upload.mp4", b"not really a video, but bytes are bytes" * 100)

    stored = storage.put_file("lessons/12/video.mp4", video, "video/mp4")

    assert stored.key == "lessons/12/video.mp4"
    assert stored.size == video.stat().st_size
    assert storage.stat("lessons/12/video.mp4") == stored
    assert storage.exists("lessons/12/video.mp4")
    assert not storage.exists("lessons/12/other.mp4")
    assert read_all(storage, "lessons/12/video.mp4") == video.read_bytes()


def test_replacing_a_lesson_file_keeps_only_the_new_version(storage: Storage) -> None:
    storage.put_stream("lessons/3/notes.pdf", io.BytesIO(b"first draft"), 11, "application/pdf")
    storage.put_stream("lessons/3/notes.pdf", io.BytesIO(b"final"), 5, "text/plain")

    assert storage.stat("lessons/3/notes.pdf").content_type == "text/plain"
    assert read_all(storage, "lessons/3/notes.pdf") == b"final"


def test_stream_of_unknown_length_is_stored_whole(storage: Storage) -> None:
    content = os.urandom(300_000)

    stored = storage.put_stream("lessons/5/handout.pdf", io.BytesIO(content), -1, "application/pdf")

    assert stored.size == len(content)
    assert read_all(storage, "lessons/5/handout.pdf") == content


def test_stream_shorter_than_announced_is_refused(storage: Storage) -> None:
    with pytest.raises(StorageError):
        storage.put_stream("lessons/5/short.bin", io.BytesIO(b"only ten b"), 1000, "application/octet-stream")

    assert not storage.exists("lessons/5/short.bin")


def test_twelve_megabyte_upload_goes_to_s3_in_parts_and_comes_back_identical(
    s3_server: str, tmp_path: Path
) -> None:
    settings = s3_settings(s3_server)
    storage = build_storage(settings)
    content = os.urandom(12 * MIB)

    # Length unknown, as for a streamed browser upload: minio must cut the stream into parts itself.
    stored = storage.put_stream("lessons/7/video.mp4", io.BytesIO(content), -1, "video/mp4")

    assert stored.size == len(content)
    etag = raw_client(s3_server).stat_object(settings.s3_bucket, "lessons/7/video.mp4").etag
    # S3 gives a multipart object the ETag "<md5 of part md5s>-<part count>"; 12 MiB in 8 MiB parts is 2.
    assert etag is not None and etag.endswith("-2")
    chunks = list(storage.read_range("lessons/7/video.mp4", 0, len(content) - 1))
    assert all(len(chunk) <= READ_CHUNK_BYTES for chunk in chunks)
    assert b"".join(chunks) == content


def test_file_upload_to_s3_of_known_size_also_uses_parts(s3_server: str, tmp_path: Path) -> None:
    settings = s3_settings(s3_server)
    storage = build_storage(settings)
    video = write_file(tmp_path, "big.mp4", os.urandom(12 * MIB))

    storage.put_file("lessons/8/video.mp4", video, "video/mp4")

    etag = raw_client(s3_server).stat_object(settings.s3_bucket, "lessons/8/video.mp4").etag
    assert etag is not None and etag.endswith("-2")
    assert read_all(storage, "lessons/8/video.mp4") == video.read_bytes()


@pytest.mark.parametrize(
    ("start", "end_inclusive"),
    [
        pytest.param(0, 0, id="first-byte"),
        pytest.param(0, 99, id="start"),
        pytest.param(400_000, 900_000, id="middle-across-chunks"),
        pytest.param(1_000_122, 1_000_122, id="last-byte"),
    ],
)
def test_video_player_range_request_gets_exactly_the_requested_bytes(
    storage: Storage, start: int, end_inclusive: int
) -> None:
    content = os.urandom(1_000_123)
    storage.put_stream("lessons/9/video.mp4", io.BytesIO(content), len(content), "video/mp4")

    chunks = list(storage.read_range("lessons/9/video.mp4", start, end_inclusive))

    assert all(0 < len(chunk) <= READ_CHUNK_BYTES for chunk in chunks)
    assert b"".join(chunks) == content[start : end_inclusive + 1]


def test_range_past_the_end_is_clamped_and_range_starting_after_it_is_refused(storage: Storage) -> None:
    storage.put_stream("lessons/9/clip.mp4", io.BytesIO(b"0123456789"), 10, "video/mp4")

    assert b"".join(storage.read_range("lessons/9/clip.mp4", 7, 500)) == b"789"
    with pytest.raises(ValueError):
        storage.read_range("lessons/9/clip.mp4", 10, 20)
    with pytest.raises(ValueError):
        storage.read_range("lessons/9/clip.mp4", 5, 4)


def test_viewer_seeking_away_mid_stream_leaves_storage_usable(storage: Storage) -> None:
    content = os.urandom(3 * MIB)
    storage.put_stream("lessons/9/long.mp4", io.BytesIO(content), len(content), "video/mp4")

    for _ in range(12):  # more abandoned reads than the S3 client's connection pool holds
        chunks = storage.read_range("lessons/9/long.mp4", 0, len(content) - 1)
        assert next(iter(chunks)) == content[:READ_CHUNK_BYTES]
        chunks.close()  # type: ignore[attr-defined]  # the browser went elsewhere; the generator is dropped

    assert b"".join(storage.read_range("lessons/9/long.mp4", MIB, MIB + 9)) == content[MIB : MIB + 10]


def test_deleting_a_lesson_file_twice_is_harmless_and_it_is_gone(storage: Storage) -> None:
    storage.put_stream("lessons/4/video.mp4", io.BytesIO(b"bytes"), 5, "video/mp4")

    storage.delete("lessons/4/video.mp4")
    storage.delete("lessons/4/video.mp4")
    storage.delete("lessons/4/never-existed.mp4")

    assert not storage.exists("lessons/4/video.mp4")
    with pytest.raises(ObjectMissing):
        storage.stat("lessons/4/video.mp4")
    # Raised when the read is set up, before any HTTP response would have started.
    with pytest.raises(ObjectMissing):
        storage.read_range("lessons/4/video.mp4", 0, 1)


@pytest.mark.parametrize(
    "key",
    [
        "../secrets.txt",
        "lessons/../../etc/passwd",
        "/lessons/1/video.mp4",
        "lessons//video.mp4",
        "lessons/1/",
        "lessons/1/.hidden",
        "lessons/1/video 1.mp4",
        "lessons/1/视频.mp4",
        "lessons\\1\\video.mp4",
        "",
    ],
)
def test_unsafe_keys_are_refused_before_touching_storage(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.put_stream(key, io.BytesIO(b"x"), 1, "text/plain")
    with pytest.raises(ValueError):
        storage.stat(key)
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.delete(key)
    with pytest.raises(ValueError):
        storage.browser_url(key)


def test_browser_downloads_from_s3_with_the_presigned_url(s3_server: str) -> None:
    storage = build_storage(s3_settings(s3_server, presigned_url_seconds=120))
    storage.put_stream("lessons/2/video.mp4", io.BytesIO(b"lesson bytes"), 12, "video/mp4")

    url = storage.browser_url("lessons/2/video.mp4")

    assert url is not None
    query = parse_qs(urlsplit(url).query)
    # moto checks neither signatures nor expiry, so check the URL says what S3 would enforce.
    assert query["X-Amz-Expires"] == ["120"]
    assert query["X-Amz-Signature"][0]
    assert query["X-Amz-Credential"][0].startswith(f"{S3_ACCESS_KEY}/")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"lesson bytes"
    assert response.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize(
    ("public_endpoint", "expected_origin"),
    [
        pytest.param("https://media.portal.example.org", "https://media.portal.example.org", id="url"),
        pytest.param("media.portal.example.org:8443", "http://media.portal.example.org:8443", id="host-port"),
    ],
)
def test_presigned_url_names_the_public_host_when_storage_is_internal(
    s3_server: str, public_endpoint: str, expected_origin: str
) -> None:
    storage = build_storage(s3_settings(s3_server, s3_public_endpoint=public_endpoint))

    # The public host does not resolve here: signing must not need the network.
    url = storage.browser_url("lessons/2/video.mp4")

    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == expected_origin
    assert parts.path.endswith("/lessons/2/video.mp4")
    assert "X-Amz-Signature" in parse_qs(parts.query)


def test_only_local_storage_hands_out_a_file_path(local_storage: Storage, s3_storage: Storage) -> None:
    local_storage.put_stream("lessons/1/video.mp4", io.BytesIO(b"abc"), 3, "video/mp4")

    path = local_storage.local_path("lessons/1/video.mp4")

    assert path is not None and path.read_bytes() == b"abc"
    assert local_storage.browser_url("lessons/1/video.mp4") is None
    assert s3_storage.local_path("lessons/1/video.mp4") is None
    assert isinstance(local_storage, LocalStorage) and isinstance(s3_storage, S3Storage)


def test_readiness_check_creates_the_bucket_on_a_live_endpoint(s3_server: str) -> None:
    settings = s3_settings(s3_server)
    storage = build_storage(settings)
    assert not raw_client(s3_server).bucket_exists(settings.s3_bucket)  # building the storage made no request

    storage.check()

    assert raw_client(s3_server).bucket_exists(settings.s3_bucket)


def test_readiness_check_fails_quickly_when_s3_is_unreachable() -> None:
    closed_port = free_port()  # bound and released: nothing listens there
    storage = build_storage(s3_settings(f"127.0.0.1:{closed_port}"))

    started = time.monotonic()
    with pytest.raises(StorageError, match="could not check bucket"):
        storage.check()

    assert time.monotonic() - started < 15


def test_local_readiness_check_creates_the_media_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "fresh" / "media")

    storage.check()

    assert (tmp_path / "fresh" / "media").is_dir()


def test_dropped_local_upload_leaves_the_previous_version_and_no_half_file(tmp_path: Path) -> None:
    root = tmp_path / "media"
    storage = LocalStorage(root)
    storage.put_stream("lessons/6/video.mp4", io.BytesIO(b"old complete video"), 18, "video/mp4")

    with pytest.raises(StorageError, match="connection reset"):
        storage.put_stream(
            "lessons/6/video.mp4", io.BufferedReader(BrokenUpload(3 * MIB)), 5 * MIB, "video/mp4"
        )
    with pytest.raises(StorageError):
        storage.put_stream("lessons/6/new.mp4", io.BufferedReader(BrokenUpload(MIB)), -1, "video/mp4")

    assert read_all(storage, "lessons/6/video.mp4") == b"old complete video"
    assert not storage.exists("lessons/6/new.mp4")
    assert sorted(path.name for path in (root / "lessons" / "6").iterdir()) == ["video.mp4"]
