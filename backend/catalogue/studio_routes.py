"""课程工作室: trainers write courses, district admins review them (pages, and the same actions as a JSON API).

Routes are thin: the rules, including who may do what, live in `backend.catalogue.authoring`. Every page works
as plain forms; with htmx the editor autosaves and moves lessons without reloading.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from backend.accounts.deps import AuthorUser, CurrentUser
from backend.accounts.models import Role, User
from backend.catalogue import authoring, export
from backend.catalogue.models import Course, Lesson
from backend.db import SessionDep
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.numbers import Bool
from backend.kit.web import is_htmx, redirect, render, request_locale
from backend.learning import service as learning
from backend.media import uploads
from backend.media.serving import serve_object
from backend.media.storage import StorageDep
from backend.policies.service import load_policy
from backend.quizzes import access, grading
from backend.quizzes import service as quizzes

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/studio", tags=["studio"])

# Teachers and school admins are refused at the door (403); owners and reviewers are checked by the service.


def _form_fields(form: Any) -> dict[str, Any]:
    return {
        "title": form.get("title"),
        "summary": form.get("summary"),
        "description_md": form.get("description_md"),
        "tier": form.get("tier"),
        "topics": form.getlist("topics"),
        "credit_hours": form.get("credit_hours"),
        "credit_category": form.get("credit_category"),
        "prerequisite": form.get("prerequisite"),
    }


def _str(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _editor_context(
    session: SessionDep,
    user: User,
    course: Course,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    oob: bool = False,
) -> dict[str, Any]:
    policy = load_policy(session)
    quiz = quizzes.quiz_for_course(session, course.id)
    return {
        "course": course,
        "values": values or authoring.fields_of(course),
        "errors": errors or {},
        "editable": course.status == "draft",
        "estimate": authoring.estimate_content(course, policy),
        "missing": authoring.missing_parts(course),
        "owners": authoring.owners_of(session, course.code),
        "manages_owners": user.role == Role.district_admin or authoring.is_owner(session, user, course.code),
        "sent_back": authoring.sent_back_comment(session, course),
        "history": authoring.history(session, course.id),
        "versions": authoring.versions_of(session, course.code),
        "code_can_change": authoring.code_can_change(session, course),
        "reviewer": user.role == Role.district_admin,
        "quiz": quiz,
        "notice": notice,
        "problem": problem,
        "lesson_kinds": authoring.LESSON_KINDS,
        "max_bytes": policy.content.upload_max_bytes,
        "max_size": uploads.format_bytes(policy.content.upload_max_bytes),
        "oob": oob,  # an htmx answer: also refresh the content check out of band
    }


def _editor(
    request: Request,
    session: SessionDep,
    user: User,
    course: Course,
    *,
    status: int = 200,
    block: str | None = None,
    **extra: Any,
) -> Response:
    context = _editor_context(session, user, course, oob=bool(block) and is_htmx(request), **extra)
    return render(request, "studio/edit.html", context, block=block, status=status)


def _saved(request: Request, session: SessionDep, course: Course) -> Response:
    """The autosave answer: "saved at 14:05", with the content check swapped in out of band."""
    policy = load_policy(session)
    return render(
        request,
        "studio/_saved.html",
        {
            "saved_time": f"{clock.now().astimezone(SHANGHAI):%H:%M}",
            "estimate": authoring.estimate_content(course, policy),
            "missing": authoring.missing_parts(course),
            "course": course,
            "oob": True,
        },
    )


def _back_to(request: Request, course: Course, notice: str | None = None) -> Response:
    return redirect(request, f"/studio/courses/{course.id}" + (f"?notice={notice}" if notice else ""))


def _attempt(
    request: Request,
    session: SessionDep,
    user: User,
    course: Course,
    change: Callable[[], Any],
    done: Callable[[], Response],
    *,
    values: dict[str, Any] | None = None,
) -> Response:
    """Runs one change in a savepoint. If the rules refuse it, nothing of it stays: an htmx request gets the
    error in the page's message area (the app's handler); a plain form gets the editor again with the reason
    and the fields to correct, so the author never lands on a bare error page."""
    try:
        with session.begin_nested():
            change()
    except (InvalidInput, Conflict) as exc:
        if is_htmx(request):
            raise
        course = authoring.reload(session, course.id)
        message = translate(request_locale(request), exc.message, **exc.params)
        return _editor(
            request, session, user, course, values=values, errors=exc.fields, problem=message, status=exc.status_code
        )
    return done()


NOTICES = {
    "saved": _("Saved."),
    "created": _("The course was created. Add its lessons, then submit it for review."),
    "submitted": _("Submitted for review. A district administrator will publish it or send it back with comments."),
    "withdrawn": _("Withdrawn from review; you can edit the draft again."),
    "published": _("Published: teachers can find the course in the course library."),
    "migrated": _("Published; learners who had not completed the earlier version were moved to this one."),
    "sent_back": _("Sent back to the authors with your comments."),
    "archived": _("Archived: the course has left the course library; enrolled teachers keep access."),
    "new_version": _("This is a new draft version. Teachers keep the published version until this one is published."),
    "code": _("The course code was changed."),
    "media": _("Uploaded: the file is now the lesson's content. Open the preview to see it as teachers will."),
    "cover": _("Uploaded: the picture is now the course's cover in the course library."),
    "cover_removed": _("The cover picture was removed; the course card shows its tier colour."),
}


# --- pages: my courses, create ------------------------------------------------------------------------------------


@pages.get("/studio")
def studio_home(request: Request, session: SessionDep, user: AuthorUser) -> Response:
    grouped = authoring.my_courses(session, user)
    waiting = 0
    if user.role == Role.district_admin:
        waiting = len(authoring.review_queue(session, user, load_policy(session)))
    # Grading waiting on the trainer's courses: the landing page says it first (issue 17).
    grading_waiting = grading.queue(session, access.editable_course_ids(session, user), page=1, size=1).total
    return render(
        request, "studio/index.html", {"grouped": grouped, "waiting": waiting, "grading_waiting": grading_waiting}
    )


@pages.get("/studio/courses/new")
def new_course_page(request: Request, user: AuthorUser) -> Response:
    authoring.require_author(user)
    values = {
        "title": "",
        "summary": "",
        "description_md": "",
        "tier": "horizon",
        "topics": [],
        "credit_hours": "1.0",
        "credit_category": "knowledge_skills",
        "prerequisite": "",
    }
    return render(request, "studio/new.html", {"values": values, "errors": {}})


@pages.post("/studio/courses")
def create_course_page(request: Request, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    values = _form_fields(form)
    try:
        fields = authoring.parse_fields(values)
    except InvalidInput as exc:
        if is_htmx(request):
            raise
        values["topics"] = list(values["topics"])
        return render(request, "studio/new.html", {"values": values, "errors": exc.fields}, status=422)
    course = authoring.create_course(session, user, fields)
    return _back_to(request, course, "created")


# --- pages: the editor --------------------------------------------------------------------------------------------


@pages.get("/studio/courses/{course_id}")
def edit_page(
    request: Request, course_id: int, session: SessionDep, user: AuthorUser, notice: str | None = None
) -> Response:
    course = authoring.editable_course(session, user, course_id)
    return _editor(request, session, user, course, notice=NOTICES.get(notice or ""))


@pages.post("/studio/courses/{course_id}")
def save_course_page(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser
) -> Response:
    """The editor's form: htmx autosaves it on every change and gets the "saved at" line back; without JavaScript
    the same form is a plain POST that returns to the editor (or shows it again with the fields to correct)."""
    course = authoring.editable_course(session, user, course_id)
    values = _form_fields(form)
    values["topics"] = list(values["topics"])

    def change() -> None:
        authoring.update_course(session, user, course, authoring.parse_fields(values))

    def done() -> Response:
        return _saved(request, session, course) if is_htmx(request) else _back_to(request, course, "saved")

    return _attempt(request, session, user, course, change, done, values=values)


def _course_action(
    request: Request,
    session: SessionDep,
    user: User,
    course_id: int,
    change: Callable[[Course], Any],
    notice: str | Callable[[], str] | None = "saved",
    *,
    block: str | None = None,
    review: bool = False,
) -> Response:
    """A change to one course from a form: checked, applied, then back to the editor (or only its lesson list
    for htmx), or the editor again with the reason when the rules refuse it."""
    if review:
        authoring.require_reviewer(user)
    course = authoring.editable_course(session, user, course_id)
    result: dict[str, Any] = {}

    def apply() -> None:
        result["value"] = change(course)

    def done() -> Response:
        if block and is_htmx(request):
            return _editor(request, session, user, course, block=block)
        target = result.get("value")
        return _back_to(
            request, target if isinstance(target, Course) else course, notice() if callable(notice) else notice
        )

    return _attempt(request, session, user, course, apply, done)


def _lesson_action(
    request: Request,
    session: SessionDep,
    user: User,
    lesson_id: int,
    change: Callable[[Course, Lesson], Any],
    *,
    block: str | None = "lessons",
    saved: bool = False,
    notice: str = "saved",
) -> Response:
    course, lesson = authoring.editable_lesson(session, user, lesson_id)

    def done() -> Response:
        if saved and is_htmx(request):
            return _saved(request, session, course)
        if block and is_htmx(request):
            return _editor(request, session, user, course, block=block)
        return _back_to(request, course, notice)

    return _attempt(request, session, user, course, lambda: change(course, lesson), done)


@pages.post("/studio/courses/{course_id}/code")
def change_code_page(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser
) -> Response:
    return _course_action(
        request, session, user, course_id, lambda c: authoring.change_code(session, user, c, _str(form, "code")), "code"
    )


@pages.post("/studio/courses/{course_id}/cover")
def cover_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    def change(course: Course) -> None:
        if form.get("remove"):
            authoring.remove_cover(session, user, course)
        else:
            authoring.attach_cover(session, user, course, _str(form, "upload_id"))

    return _course_action(request, session, user, course_id, change, "cover_removed" if form.get("remove") else "cover")


@pages.post("/studio/courses/{course_id}/lessons")
def add_lesson_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    return _course_action(
        request,
        session,
        user,
        course_id,
        lambda c: authoring.add_lesson(
            session, user, c, _str(form, "kind"), _str(form, "title"), _str(form, "body_md")
        ),
        block="lessons",
    )


@pages.post("/studio/lessons/{lesson_id}")
def save_lesson_page(
    request: Request, lesson_id: int, form: FormDep, session: SessionDep, user: AuthorUser
) -> Response:
    return _lesson_action(
        request,
        session,
        user,
        lesson_id,
        lambda c, lesson: authoring.update_lesson(session, user, c, lesson, _str(form, "title"), _str(form, "body_md")),
        saved=True,
    )


@pages.post("/studio/lessons/{lesson_id}/move")
def move_lesson_page(
    request: Request, lesson_id: int, form: FormDep, session: SessionDep, user: AuthorUser
) -> Response:
    return _lesson_action(
        request,
        session,
        user,
        lesson_id,
        lambda c, lesson: authoring.move_lesson(session, user, c, lesson, _str(form, "direction")),
    )


@pages.post("/studio/lessons/{lesson_id}/delete")
def delete_lesson_page(request: Request, lesson_id: int, session: SessionDep, user: AuthorUser) -> Response:
    return _lesson_action(
        request, session, user, lesson_id, lambda c, lesson: authoring.delete_lesson(session, user, c, lesson)
    )


@pages.post("/studio/lessons/{lesson_id}/media")
def lesson_media_page(
    request: Request, lesson_id: int, form: FormDep, session: SessionDep, user: AuthorUser
) -> Response:
    return _lesson_action(
        request,
        session,
        user,
        lesson_id,
        lambda c, lesson: authoring.attach_lesson_media(session, user, c, lesson, _str(form, "upload_id")),
        notice="media",
    )


@pages.post("/studio/courses/{course_id}/owners")
def add_owner_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    return _course_action(
        request, session, user, course_id, lambda c: authoring.add_co_owner(session, user, c, _str(form, "username"))
    )


@pages.post("/studio/courses/{course_id}/owners/{owner_id}/delete")
def remove_owner_page(
    request: Request, course_id: int, owner_id: int, session: SessionDep, user: AuthorUser
) -> Response:
    return _course_action(
        request, session, user, course_id, lambda c: authoring.remove_co_owner(session, user, c, owner_id)
    )


# --- pages: workflow ----------------------------------------------------------------------------------------------


@pages.post("/studio/courses/{course_id}/submit")
def submit_page(request: Request, course_id: int, session: SessionDep, user: AuthorUser) -> Response:
    return _course_action(
        request,
        session,
        user,
        course_id,
        lambda c: authoring.submit(session, user, c, load_policy(session)),
        "submitted",
    )


@pages.post("/studio/courses/{course_id}/withdraw")
def withdraw_page(request: Request, course_id: int, session: SessionDep, user: AuthorUser) -> Response:
    return _course_action(
        request, session, user, course_id, lambda c: authoring.withdraw(session, user, c), "withdrawn"
    )


@pages.post("/studio/courses/{course_id}/new-version")
def new_version_page(request: Request, course_id: int, session: SessionDep, user: AuthorUser) -> Response:
    return _course_action(
        request, session, user, course_id, lambda c: authoring.start_new_version(session, user, c), "new_version"
    )


@pages.get("/studio/review")
def review_page(request: Request, session: SessionDep, user: AuthorUser) -> Response:
    queue = authoring.review_queue(session, user, load_policy(session))
    done, course_id = request.query_params.get("done"), request.query_params.get("course", "")
    finished = None
    if done in NOTICES and course_id.isdigit():
        course = session.get(Course, int(course_id))
        finished = {"notice": NOTICES[done], "course": course, "published": done in ("published", "migrated")}
    return render(request, "studio/review.html", {"queue": queue, "finished": finished})


def _review_action(
    request: Request,
    session: SessionDep,
    user: User,
    course_id: int,
    form: Any,
    change: Callable[[Course], Any],
    notice: str | Callable[[], str],
) -> Response:
    response = _course_action(request, session, user, course_id, change, notice, review=True)
    if response.status_code < 400 and _str(form, "next") == "review":
        # Back to the queue, which says what was done to which course (the course has left the queue).
        done = notice() if callable(notice) else notice
        return redirect(request, f"/studio/review?done={done}&course={course_id}")
    return response


@pages.post("/studio/courses/{course_id}/publish")
def publish_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    moved = {"n": 0}

    def change(course: Course) -> Course:
        result = authoring.publish(
            session,
            user,
            course,
            load_policy(session),
            migrate=bool(form.get("migrate")),
            comment=_str(form, "comment"),
        )
        moved["n"] = result.migrated
        return course

    return _review_action(
        request, session, user, course_id, form, change, lambda: "migrated" if moved["n"] else "published"
    )


@pages.post("/studio/courses/{course_id}/send-back")
def send_back_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    return _review_action(
        request,
        session,
        user,
        course_id,
        form,
        lambda c: authoring.send_back(session, user, c, _str(form, "comment")),
        "sent_back",
    )


@pages.post("/studio/courses/{course_id}/archive")
def archive_page(request: Request, course_id: int, form: FormDep, session: SessionDep, user: AuthorUser) -> Response:
    return _review_action(
        request,
        session,
        user,
        course_id,
        form,
        lambda c: authoring.archive(session, user, c, _str(form, "comment")),
        "archived",
    )


# --- pages: preview, files, export --------------------------------------------------------------------------------


@pages.get("/studio/courses/{course_id}/preview")
def preview_page(request: Request, course_id: int, session: SessionDep, user: AuthorUser) -> Response:
    course = authoring.editable_course(session, user, course_id)
    return render(
        request,
        "studio/preview.html",
        {
            "course": course,
            "quiz": quizzes.quiz_for_course(session, course.id),
            "estimate": authoring.estimate_content(course, load_policy(session)),
        },
    )


def _serve(request: Request, key: str, media_type: str | None, filename: str) -> Response:
    return serve_object(
        request,
        key,
        media_type=media_type,
        filename=filename,
        max_age=600,
        missing=_("This file is missing from storage."),
    )


@pages.get("/studio/lessons/{lesson_id}/media")
def lesson_media_file(request: Request, lesson_id: int, session: SessionDep, user: AuthorUser) -> Response:
    """The lesson's file for its authors and reviewers (teachers get theirs through the player, once enrolled)."""
    _course, lesson = authoring.editable_lesson(session, user, lesson_id)
    if not lesson.media_key:
        raise NotFound(_("This lesson has no file yet."))
    extension = Path(lesson.media_key).suffix
    return _serve(request, lesson.media_key, lesson.media_type, f"lesson-{lesson.position:02d}{extension}")


@pages.get("/courses/{course_id}/cover")
def cover_file(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """A course's cover image, for whoever may see the course."""
    course = learning.visible_course(session, user, course_id)
    if not course.cover_key:
        raise NotFound(_("This course has no cover image."))
    return _serve(request, course.cover_key, None, f"cover{Path(course.cover_key).suffix}")


@pages.get("/studio/courses/{course_id}/export")
def export_page(course_id: int, session: SessionDep, storage: StorageDep, user: AuthorUser) -> Response:
    course = authoring.editable_course(session, user, course_id)
    tmp = Path(tempfile.mkdtemp(prefix="course-export-"))
    name = f"{export.folder_name(course)}.zip"
    export.export_zip(session, storage, course, tmp / name)
    return FileResponse(
        tmp / name, media_type="application/zip", filename=name, background=BackgroundTask(export.remove_tree, tmp)
    )


# --- JSON API -----------------------------------------------------------------------------------------------------


class CourseIn(BaseModel):
    title: str
    summary: str = ""
    description_md: str = ""
    tier: str
    topics: list[str] = Field(default_factory=list)
    credit_hours: Decimal
    credit_category: str = "knowledge_skills"
    prerequisite: str = Field(default="", max_length=64, description="Code of a course to complete first")


class CoursePatch(BaseModel):
    title: str | None = None
    summary: str | None = None
    description_md: str | None = None
    tier: str | None = None
    topics: list[str] | None = None
    credit_hours: Decimal | None = None
    credit_category: str | None = None
    prerequisite: str | None = Field(default=None, max_length=64, description="Code of a course to complete first")


class LessonIn(BaseModel):
    kind: str
    title: str
    body_md: str = ""


class LessonPatch(BaseModel):
    title: str | None = None
    body_md: str | None = None


class MoveIn(BaseModel):
    direction: str


class UploadIn(BaseModel):
    upload_id: str


class PublishIn(BaseModel):
    migrate: Bool = False
    comment: str = ""


class CommentIn(BaseModel):
    comment: str = ""


class OwnerIn(BaseModel):
    username: str


class LessonOut(BaseModel):
    id: int
    position: int
    kind: str
    title: str
    body_md: str
    media_key: str | None
    duration_ms: int | None
    pages: int | None


class ReviewOut(BaseModel):
    actor: str
    from_status: str
    to_status: str
    comment: str
    learners_moved: int | None
    at: str


class StudioCourseOut(BaseModel):
    id: int
    code: str
    version: int
    status: str
    title: str
    summary: str
    tier: str
    topics: list[str]
    credit_hours: Decimal
    credit_category: str
    superseded: bool


class StudioCourseDetailOut(StudioCourseOut):
    description_md: str
    cover_key: str | None
    lessons: list[LessonOut]
    content_minutes: int
    max_credit_hours: Decimal
    history: list[ReviewOut]


class PublishOut(StudioCourseOut):
    learners_moved: int


def _out(course: Course) -> StudioCourseOut:
    return StudioCourseOut(
        id=course.id,
        code=course.code,
        version=course.version,
        status=course.status,
        title=course.title,
        summary=course.summary,
        tier=course.tier,
        topics=course.topic_codes,
        credit_hours=course.credit_hours,
        credit_category=course.credit_category,
        superseded=course.superseded_at is not None,
    )


def _lesson_out(lesson: Lesson) -> LessonOut:
    return LessonOut(
        id=lesson.id,
        position=lesson.position,
        kind=lesson.kind,
        title=lesson.title,
        body_md=lesson.body_md,
        media_key=lesson.media_key,
        duration_ms=lesson.duration_ms,
        pages=lesson.pages,
    )


def _detail(session: SessionDep, course: Course) -> StudioCourseDetailOut:
    estimate = authoring.estimate_content(course, load_policy(session))
    return StudioCourseDetailOut(
        **_out(course).model_dump(),
        description_md=course.description_md,
        cover_key=course.cover_key,
        lessons=[_lesson_out(lesson) for lesson in sorted(course.lessons, key=lambda x: x.position)],
        content_minutes=estimate.whole_minutes,
        max_credit_hours=estimate.max_hours,
        history=[
            ReviewOut(
                actor=entry.actor_name,
                from_status=entry.review.from_status,
                to_status=entry.review.to_status,
                comment=entry.review.comment,
                learners_moved=entry.review.learners_moved,
                at=entry.review.created_at.isoformat(),
            )
            for entry in authoring.history(session, course.id)
        ],
    )


@api.get("/courses", response_model=list[StudioCourseOut])
def api_my_courses(session: SessionDep, user: AuthorUser) -> list[StudioCourseOut]:
    grouped = authoring.my_courses(session, user)
    return [_out(course) for status in authoring.STATUSES for course in grouped.get(status, [])]


@api.post("/courses", response_model=StudioCourseDetailOut, status_code=201)
def api_create(body: CourseIn, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.create_course(session, user, authoring.parse_fields(body.model_dump(mode="json")))
    return _detail(session, course)


@api.get("/courses/{course_id}", response_model=StudioCourseDetailOut)
def api_course(course_id: int, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    return _detail(session, authoring.editable_course(session, user, course_id))


@api.patch("/courses/{course_id}", response_model=StudioCourseDetailOut)
def api_update(course_id: int, body: CoursePatch, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.editable_course(session, user, course_id)
    values = authoring.fields_of(course) | body.model_dump(mode="json", exclude_unset=True)
    authoring.update_course(session, user, course, authoring.parse_fields(values))
    return _detail(session, course)


@api.post("/courses/{course_id}/lessons", response_model=LessonOut, status_code=201)
def api_add_lesson(course_id: int, body: LessonIn, session: SessionDep, user: AuthorUser) -> LessonOut:
    course = authoring.editable_course(session, user, course_id)
    return _lesson_out(authoring.add_lesson(session, user, course, body.kind, body.title, body.body_md))


@api.patch("/lessons/{lesson_id}", response_model=LessonOut)
def api_update_lesson(lesson_id: int, body: LessonPatch, session: SessionDep, user: AuthorUser) -> LessonOut:
    course, lesson = authoring.editable_lesson(session, user, lesson_id)
    title = body.title if body.title is not None else lesson.title
    text = body.body_md if body.body_md is not None else lesson.body_md
    return _lesson_out(authoring.update_lesson(session, user, course, lesson, title, text))


@api.post("/lessons/{lesson_id}/move", response_model=list[LessonOut])
def api_move_lesson(lesson_id: int, body: MoveIn, session: SessionDep, user: AuthorUser) -> list[LessonOut]:
    course, lesson = authoring.editable_lesson(session, user, lesson_id)
    authoring.move_lesson(session, user, course, lesson, body.direction)
    return [_lesson_out(item) for item in sorted(course.lessons, key=lambda x: x.position)]


@api.delete("/lessons/{lesson_id}", status_code=204)
def api_delete_lesson(lesson_id: int, session: SessionDep, user: AuthorUser) -> Response:
    course, lesson = authoring.editable_lesson(session, user, lesson_id)
    authoring.delete_lesson(session, user, course, lesson)
    return Response(status_code=204)


@api.post("/lessons/{lesson_id}/media", response_model=LessonOut)
def api_lesson_media(lesson_id: int, body: UploadIn, session: SessionDep, user: AuthorUser) -> LessonOut:
    course, lesson = authoring.editable_lesson(session, user, lesson_id)
    return _lesson_out(authoring.attach_lesson_media(session, user, course, lesson, body.upload_id))


@api.post("/courses/{course_id}/cover", response_model=StudioCourseDetailOut)
def api_cover(course_id: int, body: UploadIn, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.editable_course(session, user, course_id)
    authoring.attach_cover(session, user, course, body.upload_id)
    return _detail(session, course)


@api.post("/courses/{course_id}/owners", status_code=201)
def api_add_owner(course_id: int, body: OwnerIn, session: SessionDep, user: AuthorUser) -> dict[str, object]:
    course = authoring.editable_course(session, user, course_id)
    owner = authoring.add_co_owner(session, user, course, body.username)
    return {"user_id": owner.user_id, "username": owner.username, "role": owner.role}


@api.post("/courses/{course_id}/submit", response_model=StudioCourseDetailOut)
def api_submit(course_id: int, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.editable_course(session, user, course_id)
    return _detail(session, authoring.submit(session, user, course, load_policy(session)))


@api.post("/courses/{course_id}/withdraw", response_model=StudioCourseDetailOut)
def api_withdraw(course_id: int, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.editable_course(session, user, course_id)
    return _detail(session, authoring.withdraw(session, user, course))


@api.post("/courses/{course_id}/new-version", response_model=StudioCourseDetailOut, status_code=201)
def api_new_version(course_id: int, session: SessionDep, user: AuthorUser) -> StudioCourseDetailOut:
    course = authoring.editable_course(session, user, course_id)
    return _detail(session, authoring.start_new_version(session, user, course))


@api.get("/review", response_model=list[StudioCourseOut])
def api_review_queue(session: SessionDep, user: AuthorUser) -> list[StudioCourseOut]:
    return [_out(item.course) for item in authoring.review_queue(session, user, load_policy(session))]


@api.post("/courses/{course_id}/publish", response_model=PublishOut)
def api_publish(course_id: int, body: PublishIn, session: SessionDep, user: AuthorUser) -> PublishOut:
    authoring.require_reviewer(user)
    course = authoring.editable_course(session, user, course_id)
    result = authoring.publish(session, user, course, load_policy(session), migrate=body.migrate, comment=body.comment)
    return PublishOut(**_out(course).model_dump(), learners_moved=result.migrated)


@api.post("/courses/{course_id}/send-back", response_model=StudioCourseOut)
def api_send_back(course_id: int, body: CommentIn, session: SessionDep, user: AuthorUser) -> StudioCourseOut:
    authoring.require_reviewer(user)
    course = authoring.editable_course(session, user, course_id)
    return _out(authoring.send_back(session, user, course, body.comment))


@api.post("/courses/{course_id}/archive", response_model=StudioCourseOut)
def api_archive(course_id: int, body: CommentIn, session: SessionDep, user: AuthorUser) -> StudioCourseOut:
    authoring.require_reviewer(user)
    course = authoring.editable_course(session, user, course_id)
    return _out(authoring.archive(session, user, course, body.comment))


# One router for create_app: the pages, and the API under the portal's /api/v1 prefix.
router = APIRouter()
router.include_router(pages)
router.include_router(api, prefix="/api/v1")
