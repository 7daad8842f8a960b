"""Real files for upload tests (MP4, WebM, PDF, pictures), a browser-like chunked sender, and a look into
storage for anything an upload left behind (objects, S3 multipart uploads in progress, local temp files)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import av
import boto3
from fastapi.testclient import TestClient
from PIL import Image

from backend.media.demo_video import generate_title_clip
from backend.media.local import LocalStorage
from backend.media.s3 import S3Storage
from backend.media.storage import Storage
from tests.media.conftest import S3_ACCESS_KEY, S3_SECRET_KEY

API = "/api/v1/uploads"


def mp4_bytes(tmp_path: Path, *, seconds: int = 3, pad_to: int = 0) -> bytes:
    """A real H.264 MP4. With `pad_to`, a `free` box (ignored by every player) makes it that many bytes long,
    so a few seconds of video span several 8 MiB chunks."""
    path = tmp_path / "clip.mp4"
    generate_title_clip(path, "上传测试", "分片上传", seconds)
    data = path.read_bytes()
    if pad_to > len(data) + 8:
        filler = pad_to - len(data)
        body = (bytes(range(256)) * (filler // 256 + 1))[: filler - 8]
        data += struct.pack(">I", filler) + b"free" + body
    return data


def webm_bytes(codec: str = "libvpx-vp9", seconds: int = 2, fps: int = 10) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="webm") as container:
        stream = container.add_stream(codec, rate=fps, options={"deadline": "realtime", "cpu-used": "8"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(seconds * fps):
            picture = Image.new("RGB", (320, 240), (20 + index * 5 % 200, 90, 140))
            frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def pdf_bytes(pages: int) -> bytes:
    sheets = [Image.new("RGB", (595, 842), (255, 255, 255 - 40 * i)) for i in range(pages)]
    out = io.BytesIO()
    sheets[0].save(out, "PDF", save_all=True, append_images=sheets[1:], resolution=72)
    return out.getvalue()


def picture_bytes(fmt: str, size: tuple[int, int] = (640, 400), mode: str = "RGB", exif: bool = False) -> bytes:
    picture = Image.new(mode, size, (200, 80, 60, 128)[: len(mode)])
    out = io.BytesIO()
    extra: dict[str, Any] = {}
    if exif:
        tags = Image.Exif()
        tags[0x0112] = 6  # orientation: rotate 90° clockwise to show upright
        tags[0x010F] = "PhoneMaker"
        extra["exif"] = tags.tobytes()
    picture.save(out, fmt, **extra)
    return out.getvalue()


def start(client: TestClient, csrf: str, data: bytes, *, kind: str = "video", filename: str = "lesson.mp4") -> dict:
    r = client.post(API, json={"filename": filename, "size": len(data), "kind": kind}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return r.json()


def put_chunk(client: TestClient, csrf: str, upload: dict, data: bytes, index: int) -> Any:
    size, chunk = upload["size"], upload["chunk_size"]
    first, last = index * chunk, min((index + 1) * chunk, size) - 1
    return client.put(
        f"{API}/{upload['upload_id']}/chunks/{index}",
        content=data[first : last + 1],
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream",
                 "Content-Range": f"bytes {first}-{last}/{size}"},
    )


def send_all(client: TestClient, csrf: str, data: bytes, **kw: str) -> Any:
    """Start, send every chunk in order, complete; returns the completion response."""
    upload = start(client, csrf, data, **kw)
    for index in range(-(-len(data) // upload["chunk_size"])):
        r = put_chunk(client, csrf, upload, data, index)
        if r.status_code != 200:
            return r
    return client.post(f"{API}/{upload['upload_id']}/complete", headers={"X-CSRF-Token": csrf})


def s3_client(storage: S3Storage) -> Any:
    endpoint = storage.client._base_url.host  # noqa: SLF001 - the test's moto endpoint, host:port
    return boto3.client(
        "s3", endpoint_url=f"http://{endpoint}", aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY, region_name="us-east-1",
    )


def leftovers(storage: Storage) -> list[str]:
    """Everything in storage: object keys, plus `multipart:<key>` for S3 uploads in progress; on the local
    backend every file under the media root (temporary upload files and content-type records included)."""
    if isinstance(storage, LocalStorage):
        if not storage.root.exists():
            return []
        return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())
    assert isinstance(storage, S3Storage)
    s3 = s3_client(storage)
    storage.check()  # the bucket exists even if the test never stored anything
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=storage.bucket).get("Contents", [])]
    pending = [f"multipart:{u['Key']}" for u in s3.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])]
    return sorted(objects + pending)


def read_object(storage: Storage, key: str) -> bytes:
    size = storage.stat(key).size
    return b"".join(storage.read_range(key, 0, size - 1))
