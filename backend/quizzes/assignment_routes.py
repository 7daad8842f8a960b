"""The teacher's side of assignments: the task, submitting text and/or a file, the grade and feedback, resubmitting
when asked, and downloading a submitted file (its owner and the course's graders only; anyone else gets 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from backend.accounts.deps import CurrentUser
from backend.db import SessionDep
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import download_headers, redirect, render
from backend.learning import service as learning
from backend.media.storage import StorageDep
from backend.quizzes import access
from backend.quizzes import assignments as rules

pages = APIRouter(include_in_schema=False)

# Multipart overhead on top of the file: the text field and the form's boundaries.
_BODY_SLACK = 1024 * 1024


def _refuse_oversized(request: Request) -> None:
    """Before the body is read (when nothing else read it first): a declared length past the limit is refused."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > rules.MAX_FILE_BYTES + _BODY_SLACK:
        raise InvalidInput(_("The file is larger than 20 MB."), fields={"file": _("At most 20 MB.")})


SizeChecked = Annotated[None, Depends(_refuse_oversized)]


@pages.get("/courses/{course_id}/assignments")
def course_assignments(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = learning.visible_course(session, user, course_id)
    items = rules.states_for(session, course.id, user.id)
    return render(request, "quizzes/assignments.html", {"course": course, "items": items})


def _page(
    request: Request,
    session: SessionDep,
    user_id: int,
    assignment: rules.Assignment,
    course: object,
    status: int = 200,
    **extra: object,
) -> Response:
    context = {
        "course": course,
        "assignment": assignment,
        "state": rules.submit_state(session, assignment, user_id),
        "enrolled": learning.enrollment_for(session, user_id, assignment.course_id) is not None,
        "max_mb": rules.MAX_FILE_BYTES // (1024 * 1024),
        "errors": {},
        "values": {},
    }
    return render(request, "quizzes/assignment.html", context | extra, status=status)


@pages.get("/assignments/{assignment_id}")
def assignment_page(request: Request, assignment_id: int, session: SessionDep, user: CurrentUser) -> Response:
    assignment = rules.get_assignment(session, assignment_id)
    course = learning.visible_course(session, user, assignment.course_id)
    return _page(request, session, user.id, assignment, course)


@pages.post("/assignments/{assignment_id}/submissions")
def assignment_submit(
    request: Request, assignment_id: int, _size: SizeChecked, form: FormDep, session: SessionDep, storage: StorageDep,
    user: CurrentUser,
) -> Response:  # fmt: skip
    assignment = rules.get_assignment(session, assignment_id)
    course = learning.visible_course(session, user, assignment.course_id)
    learning.require_enrollment(session, user.id, course.id)
    upload = form.get("file")
    received = (
        rules.SubmittedFile(upload.filename or "", upload.file)
        if isinstance(upload, UploadFile) and upload.filename
        else None
    )
    text = form.get("text")
    try:
        rules.submit(session, storage, assignment, user.id, text if isinstance(text, str) else "", received)
    except InvalidInput as exc:
        locale = request.state.locale
        return _page(
            request,
            session,
            user.id,
            assignment,
            course,
            422,
            errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
            values={"text": text if isinstance(text, str) else ""},
        )
    return redirect(request, f"/assignments/{assignment.id}")


@pages.get("/assignments/submissions/{submission_id}/file")
def submission_file(submission_id: int, session: SessionDep, storage: StorageDep, user: CurrentUser) -> Response:
    submission = rules.get_submission(session, submission_id)
    assignment = rules.get_assignment(session, submission.assignment_id)
    access.own_or_grader(session, user, submission.user_id, assignment.course_id)
    if not submission.file_key:
        raise NotFound(_("This submission has no file."))
    size = storage.stat(submission.file_key).size
    chunks = storage.read_range(submission.file_key, 0, max(0, size - 1))
    name = submission.file_name or "submission"
    return StreamingResponse(
        chunks,
        media_type=submission.file_type or "application/octet-stream",
        headers=download_headers(name, fallback="submission") | {"Content-Length": str(size)},
    )
