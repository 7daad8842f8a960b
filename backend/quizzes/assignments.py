"""Assignments: the trainer's task and rubric, the teacher's submissions (text and/or a .pdf/.docx file) and whether
a course's required assignment is passed.

Files are checked by content, not by name: a PDF starts with `%PDF-`; a DOCX is a zip that holds
`word/document.xml`. They go to the app's storage with `put_stream`, straight from the request's spooled upload
(which Starlette keeps on disk past 1 MB), so no file is ever read whole into memory.

A submission is `submitted` (waiting for a trainer), `graded`, or `resubmit` (the trainer asked for another
version). A teacher may submit again when asked, or after grading if the assignment allows resubmission.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.media.storage import Storage
from backend.quizzes.models import Assignment, RubricItem, Submission
from backend.quizzes.repository import load_fresh

# Issue 4 (assignments): a class-meeting plan as .docx or .pdf, at most 20 MB.
MAX_FILE_BYTES = 20 * 1024 * 1024
PDF = ("pdf", "application/pdf")
DOCX = ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class AssignmentInput:
    title: str
    instructions_md: str
    pass_score: int
    allow_resubmission: bool
    required: bool
    rubric: list[tuple[str, int]]  # (what is judged, points)
    max_score: int | None = None  # without a rubric; with one it is the sum of its points


def _checked(data: AssignmentInput) -> tuple[int, list[tuple[str, int]]]:
    errors: dict[str, str] = {}
    if not data.title.strip() or len(data.title) > 200:
        errors["title"] = _("Please give the assignment a title (up to 200 characters).")
    rubric = [(t.strip(), p) for t, p in data.rubric if t.strip()]
    if any(not 1 <= p <= 1000 for _t, p in rubric):
        errors["rubric"] = _("Each rubric item is worth 1 to 1000 points.")
    max_score = sum(p for _t, p in rubric) if rubric else (data.max_score or 0)
    if not rubric and not 1 <= max_score <= 1000:
        errors["max_score"] = _("The full score is 1 to 1000 points.")
    if not errors and not 0 <= data.pass_score <= max_score:
        errors["pass_score"] = _("The passing score must be between 0 and the full score.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return max_score, rubric


def create_assignment(session: Session, course_id: int, data: AssignmentInput) -> Assignment:
    max_score, rubric = _checked(data)
    assignment = Assignment(
        course_id=course_id, title=data.title.strip(), instructions_md=data.instructions_md, max_score=max_score,
        pass_score=data.pass_score, allow_resubmission=data.allow_resubmission, required=data.required,
        created_at=clock.now(),
    )
    assignment.rubric = [RubricItem(position=i, title=t, points=p) for i, (t, p) in enumerate(rubric, start=1)]
    session.add(assignment)
    session.flush()
    return assignment


def update_assignment(session: Session, assignment: Assignment, data: AssignmentInput) -> Assignment:
    max_score, rubric = _checked(data)
    old_rubric = [(r.title, r.points) for r in assignment.rubric]
    if rubric != old_rubric and _has_graded(session, assignment.id):
        raise Conflict(_("Submissions have been graded with this rubric; it can no longer change."))
    assignment.title = data.title.strip()
    assignment.instructions_md = data.instructions_md
    assignment.max_score = max_score
    assignment.pass_score = data.pass_score
    assignment.allow_resubmission = data.allow_resubmission
    assignment.required = data.required
    if rubric != old_rubric:
        assignment.rubric.clear()
        session.flush()
        assignment.rubric.extend(RubricItem(position=i, title=t, points=p) for i, (t, p) in enumerate(rubric, start=1))
    session.flush()
    return assignment


def _has_graded(session: Session, assignment_id: int) -> bool:
    return bool(
        session.scalar(
            select(func.count()).select_from(Submission).where(
                Submission.assignment_id == assignment_id, Submission.graded_at.is_not(None)
            )
        )
    )


def copy_assignments(session: Session, source_course_id: int, target_course_id: int) -> list[Assignment]:
    """A new version of a course gets the same assignments and rubrics (submissions stay with the old version)."""
    copies = []
    for a in assignments_for_course(session, source_course_id):
        copy = Assignment(
            course_id=target_course_id, title=a.title, instructions_md=a.instructions_md, max_score=a.max_score,
            pass_score=a.pass_score, allow_resubmission=a.allow_resubmission, required=a.required,
            created_at=clock.now(),
        )
        copy.rubric = [RubricItem(position=r.position, title=r.title, points=r.points) for r in a.rubric]
        session.add(copy)
        copies.append(copy)
    session.flush()
    return copies


def get_assignment(session: Session, assignment_id: int) -> Assignment:
    return load_fresh(session, Assignment, assignment_id, (Assignment.rubric,), _("This assignment does not exist."))


def assignments_for_course(session: Session, course_id: int) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment).where(Assignment.course_id == course_id).options(selectinload(Assignment.rubric))
            .order_by(Assignment.id)
        )
    )


def submissions_of(session: Session, assignment_id: int, user_id: int) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission).where(Submission.assignment_id == assignment_id, Submission.user_id == user_id)
            .order_by(Submission.number)
        )
    )


def states_for(session: Session, course_id: int, user_id: int) -> list[tuple[Assignment, SubmitState]]:
    """Each assignment of the course with the teacher's standing on it (for the course page's assignment box,
    web/templates/quizzes/_assignments_box.html)."""
    return [(a, submit_state(session, a, user_id)) for a in assignments_for_course(session, course_id)]


def get_submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(_("This page does not exist."))
    return submission


@dataclass(frozen=True)
class SubmitState:
    submissions: list[Submission]
    may_submit: bool
    reason: str | None  # why not, as a message id

    @property
    def latest(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None


def submit_state(session: Session, assignment: Assignment, user_id: int) -> SubmitState:
    subs = submissions_of(session, assignment.id, user_id)
    latest = subs[-1] if subs else None
    if latest is None or latest.status == "resubmit":
        return SubmitState(subs, True, None)
    if latest.status == "submitted":
        return SubmitState(subs, False, _("Your submission is waiting for a trainer to grade it."))
    if not assignment.allow_resubmission:
        return SubmitState(subs, False, _("This assignment has been graded; you may submit again only when asked."))
    return SubmitState(subs, True, None)


@dataclass(frozen=True)
class SubmittedFile:
    """A received file: its name as the teacher's computer called it and a readable, seekable stream."""

    filename: str
    stream: BinaryIO


def sniff(stream: BinaryIO) -> tuple[str, str]:
    """(extension, content type) decided by the bytes. Raises InvalidInput for anything but PDF and DOCX."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            # Reads only the zip's central directory at the end of the file, not its content.
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            names = set()
        stream.seek(0)
        if "word/document.xml" in names:
            return DOCX
    raise InvalidInput(
        _("Please upload a PDF or a Word (.docx) file."), fields={"file": _("Only PDF or .docx files.")}
    )


def _size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def submit(
    session: Session, storage: Storage, assignment: Assignment, user_id: int, text: str, upload: SubmittedFile | None
) -> Submission:
    state = submit_state(session, assignment, user_id)
    if not state.may_submit:
        raise Conflict(state.reason or _("You cannot submit this assignment now."))
    text = (text or "").strip()
    if len(text) > 50_000:
        raise InvalidInput(_("The text is too long (at most 50,000 characters)."), fields={"text": _("Too long.")})
    if not text and upload is None:
        raise InvalidInput(
            _("Write your answer or attach a file."), fields={"text": _("Write your answer or attach a file.")}
        )
    submission = Submission(
        assignment_id=assignment.id, user_id=user_id, number=len(state.submissions) + 1, text=text,
        submitted_at=clock.now(), status="submitted", feedback="",
    )
    key = None
    if upload is not None:
        size = _size(upload.stream)
        if size > MAX_FILE_BYTES:
            raise InvalidInput(_("The file is larger than 20 MB."), fields={"file": _("At most 20 MB.")})
        if size == 0:
            raise InvalidInput(_("The file is empty."), fields={"file": _("The file is empty.")})
        ext, content_type = sniff(upload.stream)
        key = f"assignments/{assignment.id}/{user_id}-{uuid.uuid4().hex}.{ext}"
        stored = storage.put_stream(key, upload.stream, size, content_type)
        submission.file_key = key
        submission.file_name = _clean_name(upload.filename, ext)
        submission.file_type = content_type
        submission.file_size = stored.size
    try:
        session.add(submission)
        session.flush()
    except Exception:
        if key:  # nothing half-done: no stored file without its row
            storage.delete(key)
        raise
    return submission


def _clean_name(filename: str, ext: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or f"submission.{ext}"
    if not name.lower().endswith(f".{ext}"):
        name = f"{name}.{ext}"
    return name[-200:]


def passed(assignment: Assignment, submissions: Sequence[Submission]) -> bool:
    """Passed when the latest graded submission reaches the passing score."""
    graded = [s for s in submissions if s.status == "graded" and s.score is not None]
    return bool(graded) and graded[-1].score >= assignment.pass_score  # type: ignore[operator]


def assignment_passed(session: Session, user_id: int, course_id: int) -> bool | None:
    """The course-completion hook (learning.service.evaluate_completion): None when the course requires no
    assignment; otherwise whether every required assignment is passed."""
    required = [a for a in session.scalars(
        select(Assignment).where(Assignment.course_id == course_id, Assignment.required.is_(True))
    )]
    if not required:
        return None
    return all(passed(a, submissions_of(session, a.id, user_id)) for a in required)
