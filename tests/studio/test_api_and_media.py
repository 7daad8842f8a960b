"""The studio's JSON API runs the same workflow as its pages; files come from the upload pipeline by upload id."""

from __future__ import annotations

from typing import Any

from PIL import Image

from backend.catalogue import service as catalogue
from tests.studio.conftest import Browser, make_pdf, reading


def _upload(author: Browser, data: bytes, kind: str, filename: str) -> str:
    """Sends a file the way the upload widget does (start, chunks, complete) and returns its upload id."""
    started = author.api("POST", "/uploads", {"filename": filename, "size": len(data), "kind": kind})
    assert started.status_code == 201, started.text
    upload: dict[str, Any] = started.json()
    chunk = upload["chunk_size"]
    for index in range(-(-len(data) // chunk)):
        first, last = index * chunk, min((index + 1) * chunk, len(data)) - 1
        r = author.client.put(
            f"/api/v1/uploads/{upload['upload_id']}/chunks/{index}", content=data[first:last + 1],
            headers={"X-CSRF-Token": author.token, "Content-Type": "application/octet-stream",
                     "Content-Range": f"bytes {first}-{last}/{len(data)}"})
        assert r.status_code == 200, r.text
    done = author.client.post(f"/api/v1/uploads/{upload['upload_id']}/complete",
                              headers={"X-CSRF-Token": author.token})
    assert done.status_code == 200 and done.json()["state"] == "ready", done.text
    return str(upload["upload_id"])


def test_a_course_is_built_submitted_and_published_through_the_api(session, browser, trainer, admin,
                                                                     teacher) -> None:
    author = browser(trainer)
    created = author.api("POST", "/studio/courses", {
        "title": "API 课程", "tier": "climber", "topics": ["policy_law"], "credit_hours": "0.1"})
    assert created.status_code == 201, created.text
    course = created.json()
    assert course["status"] == "draft" and course["code"].startswith("C-") and course["lessons"] == []

    lesson = author.api("POST", f"/studio/courses/{course['id']}/lessons",
                        {"kind": "text", "title": "阅读", "body_md": reading(100)}).json()
    assert author.api("POST", f"/studio/courses/{course['id']}/submit").status_code == 422  # 100 characters: 0.3 min
    assert author.api("PATCH", f"/studio/lessons/{lesson['id']}", {"body_md": reading(1400)}).status_code == 200
    patched = author.api("PATCH", f"/studio/courses/{course['id']}", {"summary": "新简介"}).json()
    assert patched["summary"] == "新简介" and patched["title"] == "API 课程" and patched["content_minutes"] == 4
    assert author.api("PATCH", f"/studio/courses/{course['id']}", {"credit_hours": "0.15"}).status_code == 422
    submitted = author.api("POST", f"/studio/courses/{course['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"

    reviewer = browser(admin)
    assert [c["id"] for c in reviewer.api("GET", "/studio/review").json()] == [course["id"]]
    assert reviewer.api("POST", f"/studio/courses/{course['id']}/send-back", {"comment": ""}).status_code == 422
    published = reviewer.api("POST", f"/studio/courses/{course['id']}/publish", {"migrate": False})
    assert published.status_code == 200 and published.json()["status"] == "published"
    detail = author.api("GET", f"/studio/courses/{course['id']}").json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("submitted", "published"), ("draft", "submitted")]
    assert course["id"] in [c["id"] for c in browser(teacher).get("/api/v1/courses").json()]


def test_lesson_files_and_the_cover_are_attached_from_finished_uploads(session, storage, tmp_path, browser,
                                                                        trainer, clip_file) -> None:
    author = browser(trainer)
    course = author.api("POST", "/studio/courses", {"title": "有文件的课程", "tier": "horizon",
                                                    "credit_hours": "0.1"}).json()
    video = author.api("POST", f"/studio/courses/{course['id']}/lessons", {"kind": "video", "title": "视频"}).json()
    document = author.api("POST", f"/studio/courses/{course['id']}/lessons",
                          {"kind": "document", "title": "讲义"}).json()

    video_upload = _upload(author, clip_file.read_bytes(), "video", "第一讲.mp4")
    r = author.post(f"/studio/lessons/{video['id']}/media", {"upload_id": video_upload})
    assert r.status_code == 303, r.text
    pdf_upload = _upload(author, make_pdf(tmp_path / "handout.pdf", pages=2).read_bytes(), "document", "讲义.pdf")
    attached = author.api("POST", f"/studio/lessons/{document['id']}/media", {"upload_id": pdf_upload})
    assert attached.status_code == 200 and attached.json()["pages"] == 2
    # An upload is used once; an unknown id or the wrong kind is refused.
    assert author.post(f"/studio/lessons/{video['id']}/media", {"upload_id": video_upload}).status_code == 409
    assert author.post(f"/studio/lessons/{video['id']}/media", {"upload_id": "not-an-upload"}).status_code in (404,
                                                                                                              422)
    other_pdf = _upload(author, make_pdf(tmp_path / "b.pdf", pages=1).read_bytes(), "document", "b.pdf")
    assert author.post(f"/studio/lessons/{video['id']}/media", {"upload_id": other_pdf}).status_code == 422

    session.expunge_all()
    lessons = catalogue.get_course(session, course["id"]).lessons
    assert lessons[0].media_type == "video/mp4" and abs(lessons[0].duration_ms - 4000) < 500
    assert storage.exists(lessons[0].media_key) and lessons[1].media_type == "application/pdf"
    media = author.get(f"/studio/lessons/{lessons[1].id}/media")
    assert media.status_code == 200 and media.content.startswith(b"%PDF")
    # The cover image: attached from an image upload, shown to whoever may see the course.
    Image.new("RGB", (320, 180), (159, 42, 34)).save(tmp_path / "cover.png")
    cover_upload = _upload(author, (tmp_path / "cover.png").read_bytes(), "image", "封面.png")
    assert author.post(f"/studio/courses/{course['id']}/cover", {"upload_id": cover_upload}).status_code == 303
    cover = author.get(f"/courses/{course['id']}/cover")
    assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/")
    assert 'class="cover"' in author.get(f"/studio/courses/{course['id']}").text
    # Content from a PDF: 2 pages × 3 minutes.
    assert author.api("GET", f"/studio/courses/{course['id']}").json()["content_minutes"] == 6
