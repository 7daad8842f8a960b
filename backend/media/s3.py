"""Media in an S3-compatible object store (MinIO, AWS S3, Ceph, …) through the `minio` SDK.

Nothing here touches the network at import or construction time: the bucket is created on first use (or by
`check()`, the readiness probe), so the app can start while storage is still coming up.

Two clients may exist. `client` talks to storage at the address the *app* uses (often an internal name such as
`minio:9000`). Presigned URLs are signed over the host name, so a URL signed for `minio:9000` is useless to a
browser; when `s3_public_endpoint` is set, URLs are signed by a second client configured with that public
host. That client never sends a request: its region is set explicitly, because otherwise minio would ask the
(possibly unreachable from here) public host for the bucket's region before signing.

Multipart uploads for resumable browser uploads use S3's own CreateMultipartUpload / UploadPart /
CompleteMultipartUpload / AbortMultipartUpload. minio exposes these only as underscore methods of `Minio`
(its public `put_object` runs a whole multipart upload in one call); they are used in `_MultipartCalls` alone,
so a change in minio breaks one small class that tests/media/test_multipart_storage.py exercises on moto.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from urllib3.response import BaseHTTPResponse

from backend.media.storage import (
    READ_CHUNK_BYTES,
    ObjectMissing,
    StorageError,
    StoredObject,
    UploadedPart,
    validate_key,
    validate_range,
)

if TYPE_CHECKING:
    from backend.config import Settings

# S3 allows at most 10,000 parts, each at least 5 MiB (except the last). 8 MiB parts keep memory per upload
# small (minio buffers one part per parallel upload) and cover streams of unknown length up to ~78 GiB.
MULTIPART_PART_SIZE = 8 * 1024 * 1024
MAX_MULTIPART_PARTS = 10_000
_MIB = 1024 * 1024

# minio's default client waits 5 minutes to connect and retries 5 times, which turns a readiness probe against
# a dead endpoint into minutes of hanging. Connecting should take milliseconds on a LAN.
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0
HTTP_RETRIES = 3

_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
_PART_READ_BYTES = 1024 * 1024


class S3Storage:
    def __init__(
        self,
        client: Minio,
        bucket: str,
        presigned_url_seconds: int,
        *,
        region: str,
        presign_client: Minio | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.region = region
        self.presigned_url_lifetime = timedelta(seconds=presigned_url_seconds)
        self.presign_client = presign_client or client
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        endpoint, secure = split_endpoint(settings.s3_endpoint, default_secure=settings.s3_secure)
        client = _make_client(endpoint, secure, settings)
        presign_client = None
        if settings.s3_public_endpoint:
            public_endpoint, public_secure = split_endpoint(
                settings.s3_public_endpoint, default_secure=settings.s3_secure
            )
            presign_client = _make_client(public_endpoint, public_secure, settings)
        return cls(
            client,
            settings.s3_bucket,
            settings.presigned_url_seconds,
            region=settings.s3_region,
            presign_client=presign_client,
        )

    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        validate_key(key)
        self._ensure_bucket()
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise StorageError(f"could not read {path} to store as {key!r}: {exc}") from exc
        with self._translate_errors("upload", key):
            # fput_object opens the file and streams it part by part, never holding more than a few parts.
            self.client.fput_object(
                self.bucket, key, str(path), content_type=content_type, part_size=part_size_for(size)
            )
        return StoredObject(key=key, size=size, content_type=content_type)

    def put_stream(self, key: str, stream: BinaryIO, length: int, content_type: str) -> StoredObject:
        validate_key(key)
        self._ensure_bucket()
        counted = _CountingReader(stream)
        with self._translate_errors("upload", key):
            self.client.put_object(
                self.bucket,
                key,
                cast(BinaryIO, counted),
                length,
                content_type=content_type,
                part_size=part_size_for(length),
            )
        return StoredObject(key=key, size=counted.bytes_read, content_type=content_type)

    def stat(self, key: str) -> StoredObject:
        validate_key(key)
        self._ensure_bucket()
        with self._translate_errors("stat", key):
            found = self.client.stat_object(self.bucket, key)
        return StoredObject(
            key=key, size=found.size or 0, content_type=found.content_type or "application/octet-stream"
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectMissing:
            return False
        return True

    def read_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        validate_key(key)
        validate_range(start, end_inclusive)
        self._ensure_bucket()
        # The GET is sent here, not in the generator, so a missing object raises before a response starts.
        with self._translate_errors("read", key):
            try:
                response = self.client.get_object(
                    self.bucket, key, offset=start, length=end_inclusive - start + 1
                )
            except S3Error as exc:
                if exc.code == "InvalidRange":
                    raise ValueError(f"range start {start} is past the end of {key!r}") from exc
                raise
        return self._stream_body(response, key)

    def delete(self, key: str) -> None:
        validate_key(key)
        self._ensure_bucket()
        with self._translate_errors("delete", key):
            # S3 answers 204 for a key that does not exist, so this is idempotent without a stat first.
            self.client.remove_object(self.bucket, key)

    def browser_url(self, key: str) -> str | None:
        """Presigned GET URL valid `presigned_url_seconds`. Signed locally: no request, no existence check."""
        validate_key(key)
        with self._translate_errors("sign a URL for", key):
            return self.presign_client.presigned_get_object(
                self.bucket, key, expires=self.presigned_url_lifetime
            )

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    def list_keys(self) -> Iterator[str]:
        self._ensure_bucket()
        with self._translate_errors("list", "(bucket)"):
            keys = [item.object_name for item in self.client.list_objects(self.bucket, recursive=True)]
        return iter(sorted(k for k in keys if k))

    def check(self) -> None:
        """Reach the endpoint and make sure the bucket exists (creating it if needed)."""
        with self._bucket_lock:
            self._bucket_ready = False
            self._create_bucket_if_missing()
            self._bucket_ready = True

    def begin_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        self._ensure_bucket()
        with self._translate_errors("start a multipart upload of", key):
            return _MultipartCalls(self.client).create(self.bucket, key, content_type)

    def put_part(self, key: str, token: str, number: int, offset: int, stream: BinaryIO, length: int) -> UploadedPart:
        validate_key(key)
        if number < 1 or offset < 0 or length < 0:
            raise ValueError(f"invalid part {number} at offset {offset} ({length} bytes)")
        # UploadPart is signed over the body's SHA-256, so the part is read whole first (≤ one part in memory).
        data = _read_exactly(stream, length)
        with self._translate_errors(f"upload part {number} of", key):
            etag = _MultipartCalls(self.client).upload_part(self.bucket, key, token, number, data)
        return UploadedPart(number=number, etag=etag, size=length)

    def complete_multipart(self, key: str, token: str, parts: list[UploadedPart]) -> StoredObject:
        validate_key(key)
        with self._translate_errors("complete the multipart upload of", key):
            _MultipartCalls(self.client).complete(self.bucket, key, token, parts)
        return self.stat(key)

    def abort_multipart(self, key: str, token: str) -> None:
        validate_key(key)
        try:
            with self._translate_errors("abort the multipart upload of", key):
                _MultipartCalls(self.client).abort(self.bucket, key, token)
        except StorageError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == "NoSuchUpload":
                return  # already aborted or completed: nothing is left to discard
            raise

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock:
            if not self._bucket_ready:
                self._create_bucket_if_missing()
                self._bucket_ready = True

    def _create_bucket_if_missing(self) -> None:
        with self._translate_errors("check bucket", ""):
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket, location=self.region)
            except S3Error as exc:
                # Another app process created it between our check and our create: that is what we wanted.
                if exc.code != "BucketAlreadyOwnedByYou":
                    raise

    def _stream_body(self, response: BaseHTTPResponse, key: str) -> Iterator[bytes]:
        try:
            with self._translate_errors("read", key):
                yield from response.stream(READ_CHUNK_BYTES)
        finally:
            response.close()
            response.release_conn()

    @contextmanager
    def _translate_errors(self, action: str, key: str) -> Iterator[None]:
        where = f"s3://{self.bucket}/{key}"
        try:
            yield
        except S3Error as exc:
            if exc.code in _MISSING_OBJECT_CODES:
                raise ObjectMissing(f"no stored object {key!r} in bucket {self.bucket!r}") from exc
            raise StorageError(f"could not {action} {where}: {exc.code}: {exc.message}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"could not {action} {where}: {exc}") from exc


class _MultipartCalls:
    """The S3 multipart API through minio's private methods (checked against minio 7.2's `api.py`)."""

    def __init__(self, client: Minio) -> None:
        self.client = client

    def create(self, bucket: str, key: str, content_type: str) -> str:
        return self.client._create_multipart_upload(bucket, key, {"Content-Type": content_type})

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        return self.client._upload_part(bucket, key, data, None, upload_id, number)

    def complete(self, bucket: str, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        self.client._complete_multipart_upload(
            bucket, key, upload_id, [Part(part.number, part.etag) for part in parts]
        )

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self.client._abort_multipart_upload(bucket, key, upload_id)


def _read_exactly(stream: BinaryIO, length: int) -> bytes:
    pieces: list[bytes] = []
    remaining = length
    while remaining > 0:
        piece = stream.read(min(remaining, _PART_READ_BYTES))
        if not piece:
            raise StorageError(f"stream ended after {length - remaining} of {length} bytes")
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


class _CountingReader:
    """Counts the bytes read through it, so a stream of unknown length reports its size without a HEAD."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.bytes_read += len(data)
        return data


def part_size_for(length: int) -> int:
    """MULTIPART_PART_SIZE, grown in whole MiB when a known length would otherwise need >10,000 parts."""
    if length <= MULTIPART_PART_SIZE * MAX_MULTIPART_PARTS:
        return MULTIPART_PART_SIZE
    return math.ceil(length / MAX_MULTIPART_PARTS / _MIB) * _MIB


def split_endpoint(value: str, *, default_secure: bool) -> tuple[str, bool]:
    """`host[:port]` and TLS flag from either `host[:port]` or a URL such as `https://media.example.org`.

    minio wants a bare host; operators naturally write a URL for a browser-facing address, so accept both.
    """
    if "://" not in value:
        return value, default_secure
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"S3 endpoint must be host[:port] or an http(s) URL: {value!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"S3 endpoint cannot have a path (minio signs for the host root): {value!r}")
    return parts.netloc, parts.scheme == "https"


def _make_client(endpoint: str, secure: bool, settings: Settings) -> Minio:
    return Minio(
        endpoint,
        access_key=settings.s3_access_key or None,
        secret_key=settings.s3_secret_key or None,
        secure=secure,
        # An explicit region stops minio from asking the server for each bucket's location before signing.
        region=settings.s3_region,
        http_client=_http_client(),
    )


def _http_client() -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=HTTP_RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
