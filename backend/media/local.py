"""Media on the local disk under one root folder: the default for a single-machine install and development.

Layout: the object `lessons/12/video.mp4` is the file `<root>/lessons/12/video.mp4`; its content type is kept
in `<root>/.content-types/lessons/12/video.mp4`. Valid keys never have a segment starting with a dot
(`validate_key`), so neither that folder nor our `.…part` temporary files can collide with an object.

Every write goes to a temporary file in the destination folder and is then renamed over the target with
`os.replace`, which is atomic on one filesystem: readers see the old object or the new one, never half a file,
even if the process dies mid-upload.

Multipart uploads (resumable browser uploads) grow one file `<root>/.uploads/<token>`: each part is written at
its offset and fsynced, and `complete_multipart` renames the file to its key — the same atomic move, since the
folder is under the root (one filesystem). The intended content type waits beside it in `<token>.type`.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import stat as stat_mode
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from backend.media.storage import (
    READ_CHUNK_BYTES,
    ObjectMissing,
    StorageError,
    StoredObject,
    UploadedPart,
    validate_key,
    validate_range,
)

CONTENT_TYPES_DIR = ".content-types"
UPLOADS_DIR = ".uploads"
_TOKEN = re.compile(r"[0-9a-f]{32}")
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_COPY_CHUNK_BYTES = 1024 * 1024

# Writes the content of a new file into the open binary file it is given.
_Writer = Callable[[BinaryIO], object]


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        target = self._path(key)
        try:
            with open(path, "rb") as source:
                size = self._write_atomically(target, lambda out: _copy(source, out, -1))
        except OSError as exc:
            raise StorageError(f"could not store {path} as {key!r}: {exc}") from exc
        self._write_content_type(key, content_type)
        return StoredObject(key=key, size=size, content_type=content_type)

    def put_stream(self, key: str, stream: BinaryIO, length: int, content_type: str) -> StoredObject:
        target = self._path(key)
        try:
            size = self._write_atomically(target, lambda out: _copy(stream, out, length))
        except OSError as exc:
            raise StorageError(f"could not store stream as {key!r}: {exc}") from exc
        self._write_content_type(key, content_type)
        return StoredObject(key=key, size=size, content_type=content_type)

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        with _translate_os_errors(key, "stat"):
            status = path.stat()
        if not stat_mode.S_ISREG(status.st_mode):
            raise ObjectMissing(f"no stored object {key!r} (a folder has that name)")
        return StoredObject(key=key, size=status.st_size, content_type=self._read_content_type(key))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        validate_range(start, end_inclusive)
        path = self._path(key)
        # Opened here, not inside the generator, so a missing file raises before the caller starts a response.
        with _translate_os_errors(key, "open"):
            handle = open(path, "rb")  # closed by _read_chunks
            size = os.fstat(handle.fileno()).st_size
        if start >= size:
            handle.close()
            raise ValueError(f"range start {start} is past the end of {key!r} ({size} bytes)")
        return _read_chunks(handle, key, start, end_inclusive)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            with _translate_os_errors(key, "delete"):
                path.unlink(missing_ok=True)
                self._content_type_path(key).unlink(missing_ok=True)
        except ObjectMissing:
            return  # e.g. the key names a folder: there is no object to delete

    def browser_url(self, key: str) -> str | None:
        validate_key(key)
        return None

    def local_path(self, key: str) -> Path | None:
        """The file's path; it may not exist (check `exists`/`stat` first)."""
        return self._path(key)

    def list_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return iter(())
        keys = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]  # bookkeeping: content types, uploads
            base = Path(folder).relative_to(self.root)
            keys += [(base / name).as_posix() for name in files if not name.startswith(".")]
        return iter(sorted(keys))

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"media root {self.root} cannot be created: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"media root {self.root} is not writable")

    def begin_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        token = uuid.uuid4().hex
        data = self._upload_path(token)
        try:
            data.parent.mkdir(parents=True, exist_ok=True)
            data.touch(mode=0o600, exist_ok=False)
            data.with_suffix(".type").write_text(content_type)
        except OSError as exc:
            raise StorageError(f"could not start an upload for {key!r}: {exc}") from exc
        return token

    def put_part(self, key: str, token: str, number: int, offset: int, stream: BinaryIO, length: int) -> UploadedPart:
        validate_key(key)
        if number < 1 or offset < 0 or length < 0:
            raise ValueError(f"invalid part {number} at offset {offset} ({length} bytes)")
        data = self._upload_path(token)
        with _translate_os_errors(f"{UPLOADS_DIR}/{token}", "write a part of"), open(data, "r+b") as out:
            size = os.fstat(out.fileno()).st_size
            if offset > size:
                raise ValueError(f"part {number} starts at {offset}, past the {size} bytes stored so far")
            # Cut whatever a failed or earlier attempt left from here on: a retried part replaces it.
            out.truncate(offset)
            out.seek(offset)
            _copy(stream, out, length)
            out.flush()
            os.fsync(out.fileno())
        return UploadedPart(number=number, etag=f"local-{number}-{length}", size=length)

    def complete_multipart(self, key: str, token: str, parts: list[UploadedPart]) -> StoredObject:
        target = self._path(key)
        data = self._upload_path(token)
        expected = sum(part.size for part in parts)
        with _translate_os_errors(f"{UPLOADS_DIR}/{token}", "complete"):
            content_type = data.with_suffix(".type").read_text().strip() or DEFAULT_CONTENT_TYPE
            size = data.stat().st_size
            if size < expected:
                raise StorageError(f"upload {token} holds {size} bytes, its parts add up to {expected}")
            if size > expected:
                with open(data, "r+b") as out:  # a part retried shorter than a failed attempt: keep the parts
                    out.truncate(expected)
                    os.fsync(out.fileno())
            os.chmod(data, 0o644)  # readable by a separate web server, like every other object
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(data, target)
            data.with_suffix(".type").unlink(missing_ok=True)
        self._write_content_type(key, content_type)
        return StoredObject(key=key, size=expected, content_type=content_type)

    def abort_multipart(self, key: str, token: str) -> None:
        validate_key(key)
        data = self._upload_path(token)
        with _translate_os_errors(f"{UPLOADS_DIR}/{token}", "abort"):
            data.unlink(missing_ok=True)
            data.with_suffix(".type").unlink(missing_ok=True)

    def _upload_path(self, token: str) -> Path:
        if not _TOKEN.fullmatch(token):
            raise ValueError(f"not a local upload token: {token!r}")
        return self.root / UPLOADS_DIR / token

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _content_type_path(self, key: str) -> Path:
        return self.root / CONTENT_TYPES_DIR / key

    def _write_content_type(self, key: str, content_type: str) -> None:
        try:
            self._write_atomically(self._content_type_path(key), lambda out: out.write(content_type.encode()))
        except OSError as exc:
            raise StorageError(f"could not record content type of {key!r}: {exc}") from exc

    def _read_content_type(self, key: str) -> str:
        try:
            return self._content_type_path(key).read_text().strip() or DEFAULT_CONTENT_TYPE
        except FileNotFoundError:
            # Files copied into the media root by hand have no record: guess from the name, as web servers do.
            guessed, _ = mimetypes.guess_type(key)
            return guessed or DEFAULT_CONTENT_TYPE
        except OSError as exc:
            raise StorageError(f"could not read content type of {key!r}: {exc}") from exc

    def _write_atomically(self, target: Path, write: _Writer) -> int:
        """Run `write` into a temporary file beside `target`, flush it to disk, then rename it to `target`."""
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        temp_path = Path(temp_name)
        try:
            with os.fdopen(descriptor, "wb") as out:
                write(out)
                out.flush()
                # fsync before rename: else a power cut can leave the new name pointing at unwritten blocks.
                os.fsync(out.fileno())
                size = out.tell()
            # mkstemp creates 0600; a separate web server (or the app under another user) must read the file.
            os.chmod(temp_path, 0o644)
            os.replace(temp_path, target)
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        return size


def _copy(source: BinaryIO, out: BinaryIO, length: int) -> None:
    """Copy `length` bytes (all if -1) in bounded chunks; a short stream is an error, not a short file."""
    if length < 0:
        shutil.copyfileobj(source, out, _COPY_CHUNK_BYTES)
        return
    remaining = length
    while remaining > 0:
        chunk = source.read(min(remaining, _COPY_CHUNK_BYTES))
        if not chunk:
            raise OSError(f"stream ended after {length - remaining} of {length} bytes")
        out.write(chunk)
        remaining -= len(chunk)


def _read_chunks(handle: BinaryIO, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
    with handle, _translate_os_errors(key, "read"):
        handle.seek(start)
        remaining = end_inclusive - start + 1
        while remaining > 0:
            chunk = handle.read(min(remaining, READ_CHUNK_BYTES))
            if not chunk:
                return  # end past the last byte: clamped, like an S3 ranged GET
            remaining -= len(chunk)
            yield chunk


@contextmanager
def _translate_os_errors(key: str, action: str) -> Iterator[None]:
    try:
        yield
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        raise ObjectMissing(f"no stored object {key!r}") from exc
    except OSError as exc:
        raise StorageError(f"could not {action} {key!r}: {exc}") from exc
