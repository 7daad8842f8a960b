"""An enrolled teacher's browser fetches lesson video: byte ranges from the local folder, or a short-lived
presigned URL from S3 that the browser then reads directly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from backend.learning import service as learning
from tests.api.helpers import login
from tests.factories import make_course, make_user, store_demo_video


def test_enrolled_teacher_streams_lesson_video_with_ranges(client, session, storage, tmp_path) -> None:
    stored = store_demo_video(storage, tmp_path, seconds=3)
    course = make_course(session)
    lesson = course.lessons[0]
    lesson.media_key, lesson.media_type = stored.key, stored.content_type
    teacher = make_user(session)
    learning.enroll(session, teacher.id, course)
    session.flush()
    login(client, teacher.username)
    size = storage.stat(stored.key).size
    whole = b"".join(storage.read_range(stored.key, 0, size - 1))

    r = client.get(f"/lessons/{lesson.id}/video", headers={"Range": "bytes=100-199"}, follow_redirects=False)
    if r.status_code == 307:  # S3: the browser is sent to a presigned URL on the object store
        url = r.headers["location"]
        query = parse_qs(urlparse(url).query)
        assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
        r = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == whole[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{size}"


def test_video_is_refused_to_a_teacher_not_enrolled(client, session, storage, tmp_path) -> None:
    stored = store_demo_video(storage, tmp_path, seconds=3)
    course = make_course(session)
    course.lessons[0].media_key = stored.key
    session.flush()
    login(client, make_user(session).username)
    r = client.get(f"/lessons/{course.lessons[0].id}/video", follow_redirects=False)
    assert r.status_code == 403
