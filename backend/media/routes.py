"""Serving lesson video to enrolled learners: local files with HTTP Range, S3 through short-lived presigned URLs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from backend.accounts.deps import CurrentUser
from backend.catalogue import service as catalogue
from backend.catalogue.models import Lesson
from backend.db import SessionDep
from backend.kit.errors import NotFound
from backend.kit.i18n import _
from backend.learning import service as learning

router = APIRouter(include_in_schema=False)


def lesson_video_url(lesson: Lesson) -> str:
    return f"/lessons/{lesson.id}/video"


@router.get("/lessons/{lesson_id}/video")
def lesson_video(request: Request, lesson_id: int, session: SessionDep, user: CurrentUser) -> Response:
    lesson = catalogue.get_lesson(session, lesson_id)
    learning.require_enrollment(session, user.id, lesson.course_id)
    if not lesson.media_key:
        raise NotFound(_("This lesson has no video."))
    storage = request.app.state.storage
    url = storage.browser_url(lesson.media_key)
    if url:
        # Short-lived and private: the link stops working minutes after the page asked for it.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    path = storage.local_path(lesson.media_key)
    if path is None or not path.is_file():
        raise NotFound(_("This lesson's video file is missing."))
    return FileResponse(
        path,
        media_type=lesson.media_type or "video/mp4",
        headers={"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"},
    )
