"""Lesson files for enrolled learners (video, PDF documents): learning decides who may see them (enrolment in the
course), media serves them (backend/media/serving.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.catalogue import service as catalogue
from backend.catalogue.models import Lesson
from backend.db import SessionDep
from backend.kit.errors import NotFound
from backend.kit.i18n import _
from backend.learning import service as learning
from backend.media.serving import serve_object

router = APIRouter(include_in_schema=False)


def lesson_video_url(lesson: Lesson) -> str:
    return f"/lessons/{lesson.id}/video"


def lesson_document_url(lesson: Lesson) -> str:
    return f"/lessons/{lesson.id}/document"


def _enrolled_lesson(session: SessionDep, user_id: int, lesson_id: int, kind: str) -> tuple[Lesson, str]:
    """The lesson of `kind` and its file's storage key, for a teacher enrolled in its course."""
    lesson = catalogue.get_lesson(session, lesson_id)
    learning.require_enrollment(session, user_id, lesson.course_id)
    if lesson.kind != kind or not lesson.media_key:
        raise NotFound(_("This lesson has no video.") if kind == "video" else _("This lesson has no file yet."))
    return lesson, lesson.media_key


@router.get("/lessons/{lesson_id}/video")
def lesson_video(request: Request, lesson_id: int, session: SessionDep, user: CurrentUser) -> Response:
    lesson, key = _enrolled_lesson(session, user.id, lesson_id, "video")
    return serve_object(request, key, media_type=lesson.media_type or "video/mp4",
                        missing=_("This lesson's video file is missing."))


@router.get("/lessons/{lesson_id}/document")
def lesson_document(request: Request, lesson_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """The lesson's PDF, shown inline by the lesson page's viewer; its link downloads it under the lesson's title."""
    lesson, key = _enrolled_lesson(session, user.id, lesson_id, "document")
    return serve_object(request, key, media_type=lesson.media_type or "application/pdf",
                        missing=_("This file is missing from storage."), filename=f"{lesson.title}.pdf")
