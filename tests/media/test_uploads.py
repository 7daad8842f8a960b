"""A trainer uploads lesson media from the browser in chunks: on the local disk and on S3 (moto), on SQLite and
PostgreSQL. Files are judged by their content; whatever is rejected or cancelled leaves nothing behind."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from backend.accounts.models import Role
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import translate
from backend.media import uploads
from backend.media.inspection import NOT_A_VIDEO
from backend.media.models import Upload
from backend.media.s3 import S3Storage
from backend.policies.service import set_policy
from tests.api.helpers import login
from tests.factories import make_user
from tests.media.upload_helpers import (
    API,
    leftovers,
    mp4_bytes,
    pdf_bytes,
    picture_bytes,
    put_chunk,
    read_object,
    s3_client,
    send_all,
    start,
    webm_bytes,
)

MIB = 1024 * 1024


@pytest.fixture
def trainer(session):  # type: ignore[no-untyped-def]
    return make_user(session, Role.trainer)


@pytest.fixture
def csrf(client, trainer) -> str:  # type: ignore[no-untyped-def]
    return login(client, trainer.username)


def rows(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Upload))


def fetch_poster(client, url: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    r = client.get(url, follow_redirects=False)
    if r.status_code == 307:  # S3: a short-lived presigned URL on the object store
        return httpx.get(r.headers["location"])
    return r


def test_trainer_uploads_a_video_in_chunks_and_gets_its_duration_and_poster(
    client, session, storage, csrf, tmp_path
) -> None:
    video = mp4_bytes(tmp_path, seconds=3, pad_to=17 * MIB)  # three chunks: 8 + 8 + 1 MiB

    upload = start(client, csrf, video, filename="C:\\课件\\第一讲.mp4")
    assert upload["chunk_size"] == 8 * MIB and upload["received"] == 0 and upload["state"] == "uploading"
    assert upload["filename"] == "第一讲.mp4"
    for index in range(3):
        r = put_chunk(client, csrf, upload, video, index)
        assert r.status_code == 200, r.text
        assert r.json()["received"] == min((index + 1) * 8 * MIB, len(video))

    r = client.post(f"{API}/{upload['upload_id']}/complete", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "ready" and done["kind"] == "video" and done["content_type"] == "video/mp4"
    assert 2900 <= done["duration_ms"] <= 3100
    assert (done["width"], done["height"]) == (640, 360)
    assert done["pages"] is None
    assert done["poster_url"] == f"/uploads/{done['upload_id']}/poster"

    row = session.get(Upload, uuid.UUID(done["upload_id"]))
    assert row is not None and row.state == "ready"
    assert read_object(storage, row.storage_key) == video
    assert storage.stat(row.storage_key).content_type == "video/mp4"
    poster = fetch_poster(client, done["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content[:3] == b"\xff\xd8\xff"
    # Nothing else: no temporary file, no multipart upload in progress.
    assert [k for k in leftovers(storage) if not k.startswith(".content-types/")] == sorted(
        [row.storage_key, row.poster_key]
    )
    if isinstance(storage, S3Storage):
        # A real S3 multipart upload: the ETag of an object assembled from 3 parts ends in "-3".
        etag = s3_client(storage).head_object(Bucket=storage.bucket, Key=row.storage_key)["ETag"]
        assert etag.strip('"').endswith("-3")

    # Completing again (a retry after a lost response) answers the same.
    again = client.post(f"{API}/{upload['upload_id']}/complete", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200 and again.json() == done


def test_upload_resumes_after_a_chunk_is_lost_midway(client, session, storage, csrf, tmp_path) -> None:
    video = mp4_bytes(tmp_path, seconds=2, pad_to=12 * MIB)
    upload = start(client, csrf, video)
    assert put_chunk(client, csrf, upload, video, 0).status_code == 200

    # The connection drops after the first 3 MiB of chunk 1: the server keeps nothing of that chunk…
    chunk = video[8 * MIB :]
    r = client.put(
        f"{API}/{upload['upload_id']}/chunks/1",
        content=iter([chunk[: 3 * MIB]]),
        headers={"X-CSRF-Token": csrf, "Content-Length": str(len(chunk))},
    )
    assert r.status_code == 422
    lost = "The connection was lost during the upload. The chunk will be sent again."
    assert r.json()["detail"] == translate("zh_CN", lost)
    # …the page is reloaded, asks how far it got, and goes on from there.
    status = client.get(f"{API}/{upload['upload_id']}").json()
    assert status["received"] == 8 * MIB and status["state"] == "uploading"
    assert put_chunk(client, csrf, upload, video, 1).status_code == 200
    # A chunk the server already has (its answer was lost) is acknowledged without being stored again.
    r = put_chunk(client, csrf, upload, video, 0)
    assert r.status_code == 200 and r.json()["received"] == len(video)

    done = client.post(f"{API}/{upload['upload_id']}/complete", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    row = session.get(Upload, uuid.UUID(upload["upload_id"]))
    assert read_object(storage, row.storage_key) == video


def test_chunks_out_of_order_or_of_the_wrong_size_are_refused(client, storage, csrf, tmp_path) -> None:
    video = mp4_bytes(tmp_path, seconds=1, pad_to=9 * MIB)
    upload = start(client, csrf, video)
    r = put_chunk(client, csrf, upload, video, 1)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = client.put(f"{API}/{upload['upload_id']}/chunks/0", content=video[:100], headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    r = client.put(f"{API}/{upload['upload_id']}/chunks/5", content=video[:100], headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    r = client.post(f"{API}/{upload['upload_id']}/complete", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409


def test_a_text_file_named_mp4_is_rejected_and_leaves_no_object_and_no_row(client, session, storage, csrf) -> None:
    text = ("班会设计方案：第一课时。\n" * 2000).encode()
    before = rows(session)
    r = send_all(client, csrf, text, filename="lesson.mp4")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "upload_rejected"
    assert body["detail"] == translate("zh_CN", NOT_A_VIDEO)  # the trainer reads it in Chinese
    assert rows(session) == before
    assert leftovers(storage) == []


def test_a_damaged_video_is_rejected_on_completion_and_leaves_nothing(client, session, storage, csrf) -> None:
    # Looks like an MP4 at first (an `ftyp` box), then garbage across two chunks, S3 parts included.
    fake = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * (40 * 1024)
    before = rows(session)
    r = send_all(client, csrf, fake, filename="lesson.mp4")
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "upload_rejected"
    assert rows(session) == before
    assert leftovers(storage) == []


def test_cancelling_an_upload_leaves_nothing(client, session, storage, csrf, tmp_path) -> None:
    video = mp4_bytes(tmp_path, seconds=1, pad_to=10 * MIB)
    upload = start(client, csrf, video)
    assert put_chunk(client, csrf, upload, video, 0).status_code == 200
    assert leftovers(storage) != []  # a part is stored (S3 multipart in progress / local temp file)

    r = client.delete(f"{API}/{upload['upload_id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert client.get(f"{API}/{upload['upload_id']}").status_code == 404
    assert session.get(Upload, uuid.UUID(upload["upload_id"])) is None
    assert leftovers(storage) == []


def test_cancelling_a_finished_upload_removes_the_video_and_its_poster(
    client, session, storage, csrf, tmp_path
) -> None:
    done = send_all(client, csrf, mp4_bytes(tmp_path, seconds=2)).json()
    assert done["state"] == "ready" and leftovers(storage) != []
    assert client.delete(f"{API}/{done['upload_id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert leftovers(storage) == []
    assert rows(session) == 0


@pytest.mark.parametrize("codec", ["libvpx-vp9", "libvpx"])
def test_a_webm_video_is_accepted(client, storage, csrf, codec) -> None:
    r = send_all(client, csrf, webm_bytes(codec), filename="讲座.webm")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["content_type"] == "video/webm"
    assert 1900 <= done["duration_ms"] <= 2100
    assert (done["width"], done["height"]) == (320, 240)
    assert fetch_poster(client, done["poster_url"]).status_code == 200


def test_a_pdf_document_is_accepted_with_its_page_count(client, storage, csrf) -> None:
    r = send_all(client, csrf, pdf_bytes(3), kind="document", filename="班会设计方案.pdf")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["content_type"] == "application/pdf" and done["pages"] == 3
    assert done["duration_ms"] is None and done["poster_url"] is None


def test_a_document_that_is_not_a_pdf_is_rejected(client, session, storage, csrf) -> None:
    r = send_all(client, csrf, picture_bytes("PNG"), kind="document", filename="plan.pdf")
    assert r.status_code == 422 and "PDF" in r.json()["detail"]
    broken = b"%PDF-1.7\n" + b"this is not a PDF body\n" * 100
    r = send_all(client, csrf, broken, kind="document", filename="plan.pdf")
    assert r.status_code == 422 and r.json()["error"] == "upload_rejected"
    assert rows(session) == 0 and leftovers(storage) == []


def test_a_cover_picture_is_stored_again_upright_without_its_metadata(client, session, storage, csrf) -> None:
    r = send_all(client, csrf, picture_bytes("JPEG", (640, 400), exif=True), kind="image", filename="封面.jpg")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["content_type"] == "image/jpeg"
    assert (done["width"], done["height"]) == (400, 640)  # the EXIF rotation was applied
    poster = fetch_poster(client, done["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(poster.content)) as cover:
        assert cover.size == (400, 640) and not cover.getexif()
    row = session.get(Upload, uuid.UUID(done["upload_id"]))
    assert [k for k in leftovers(storage) if not k.startswith(".content-types/")] == [row.storage_key]

    transparent = send_all(client, csrf, picture_bytes("WEBP", mode="RGBA"), kind="image", filename="logo.webp")
    assert transparent.status_code == 200 and transparent.json()["content_type"] == "image/png"


def test_a_teacher_cannot_upload(client, session) -> None:
    csrf = login(client, make_user(session, Role.teacher).username)
    r = client.post(API, json={"filename": "a.mp4", "size": 10, "kind": "video"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    assert client.get("/studio/uploads/new").status_code == 403


def test_another_trainer_cannot_see_or_touch_my_upload(client, session, storage, csrf, tmp_path) -> None:
    video = mp4_bytes(tmp_path, seconds=1)
    upload = start(client, csrf, video)
    client.cookies.clear()
    other = login(client, make_user(session, Role.trainer).username)
    url = f"{API}/{upload['upload_id']}"
    assert client.get(url).status_code == 404
    assert put_chunk(client, other, upload, video, 0).status_code == 404
    assert client.post(f"{url}/complete", headers={"X-CSRF-Token": other}).status_code == 404
    assert client.delete(url, headers={"X-CSRF-Token": other}).status_code == 404
    assert client.get(f"{API}/not-a-uuid").status_code == 404


def test_a_file_over_the_size_limit_is_refused_before_it_is_sent(client, session, csrf, trainer) -> None:
    r = client.post(API, json={"filename": "big.mp4", "size": 3 * 1024**3, "kind": "video"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 413
    assert "2.0 GB" in r.json()["detail"]
    set_policy(session, "upload_max_bytes", 1000, actor_id=None)
    r = client.post(API, json={"filename": "a.pdf", "size": 1001, "kind": "document"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 413
    assert rows(session) == 0


def test_a_video_over_the_length_limit_is_rejected(client, session, storage, csrf, tmp_path) -> None:
    set_policy(session, "upload_max_video_minutes", 0, actor_id=None)
    r = send_all(client, csrf, mp4_bytes(tmp_path, seconds=2))
    assert r.status_code == 422 and r.json()["error"] == "upload_rejected"
    assert rows(session) == 0 and leftovers(storage) == []


def test_claim_upload_hands_a_ready_upload_over_once(client, session, storage, csrf, trainer, tmp_path) -> None:
    done = send_all(client, csrf, mp4_bytes(tmp_path, seconds=2)).json()
    pending = start(client, csrf, b"x" * 10, kind="document", filename="a.pdf")

    with pytest.raises(NotFound):
        uploads.claim_upload(session, make_user(session, Role.trainer), done["upload_id"], "video")
    with pytest.raises(InvalidInput):
        uploads.claim_upload(session, trainer, done["upload_id"], "document")
    with pytest.raises(InvalidInput):
        uploads.claim_upload(session, trainer, pending["upload_id"], "document")

    media = uploads.claim_upload(session, trainer, done["upload_id"], "video")
    assert media.kind == "video" and media.content_type == "video/mp4"
    assert media.key.startswith("uploads/") and storage.exists(media.key)
    assert media.poster_key and storage.exists(media.poster_key)
    assert 1900 <= (media.duration_ms or 0) <= 2100 and media.pages is None
    with pytest.raises(Conflict):
        uploads.claim_upload(session, trainer, done["upload_id"], "video")
    # Attached media belongs to its lesson now: it can no longer be cancelled, nor swept as stale.
    r = client.delete(f"{API}/{done['upload_id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409


def test_abandoned_uploads_are_swept_with_their_parts(client, session, storage, csrf, trainer, tmp_path) -> None:
    video = mp4_bytes(tmp_path, seconds=1, pad_to=9 * MIB)
    upload = start(client, csrf, video)
    assert put_chunk(client, csrf, upload, video, 0).status_code == 200
    assert uploads.discard_stale_uploads(session, storage, owner_id=trainer.id, older_than=timedelta(0)) == 1
    assert rows(session) == 0 and leftovers(storage) == []


def test_any_logged_in_user_sees_posters_but_not_anonymous(client, session, storage, csrf, tmp_path) -> None:
    done = send_all(client, csrf, mp4_bytes(tmp_path, seconds=2)).json()
    client.cookies.clear()
    assert client.get(done["poster_url"], follow_redirects=False).status_code in (302, 303, 401)
    login(client, make_user(session, Role.teacher).username)
    assert fetch_poster(client, done["poster_url"]).status_code == 200


def test_the_try_out_page_shows_an_uploader_per_kind(client, csrf) -> None:
    r = client.get("/studio/uploads/new")
    assert r.status_code == 200
    assert r.text.count('class="uploader"') == 3
    assert 'data-kind="video"' in r.text and 'src="/static/js/upload.js"' in r.text
    assert "<script>" not in r.text  # no inline scripts
    assert client.get("/static/js/upload.js").status_code == 200
