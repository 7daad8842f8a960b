"""The trainer studio's rules: writing courses, their lessons, and the way from draft to the catalogue.

    draft ──submit (owner)──▶ submitted ──publish (district admin)──▶ published ──archive (district admin)──▶ archived
      ▲                          │
      └──send back (district admin, with comments) / withdraw (owner)

Only drafts change. Editing a published course makes a new draft version of the same code (lessons, quiz and
assignments copied); publishing it supersedes the older version, whose learners keep it unless the district admin
moves those who have not completed to the new one (`backend.learning.service.migrate_learners`). Hours already
earned never change: completed enrollments stay where they are and nothing here touches the credit ledger.

Who may do what is asked of `ownership` (authors) and `require_reviewer` (district admins) in each function that
changes something, so pages and the JSON API share one set of checks.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from backend.accounts.models import Role, User
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.catalogue import ownership
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course, CourseOwner, CourseReview, CourseTopic, Lesson
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.learning import service as learning
from backend.notices import service as notices
from backend.policies.service import Policy
from backend.policies.taxonomy import CATEGORY_CODES, TIER_CODES, TOPIC_CODES
from backend.quizzes import assignments
from backend.quizzes import service as quizzes
from backend.quizzes.models import Quiz

STATUSES = ("draft", "submitted", "published", "archived")
LESSON_KINDS = ("video", "document", "text")
# What an upload must be to be attached where: lesson kind (or "image" for a cover) → the upload kind claimed.
UPLOAD_KIND = {"video": "video", "document": "document", "image": "image"}
MAX_CREDIT_HOURS = Decimal("200")
CODE_PATTERN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


# --- who ---------------------------------------------------------------------------------------------------------


def require_author(user: User) -> None:
    """The studio is for trainers and district admins; teachers and school admins have no access."""
    if user.role not in (Role.trainer, Role.district_admin):
        raise Forbidden(_("Only trainers and district administrators can use the course studio."))


def require_reviewer(user: User) -> None:
    if user.role != Role.district_admin:
        raise Forbidden(_("Only district administrators can publish, send back or archive courses."))


def editable_course(session: Session, user: User, course_id: int) -> Course:
    """A course the actor may author (owner, co-owner or district admin), with topics and lessons loaded."""
    require_author(user)
    course = catalogue.get_course(session, course_id)
    ownership.require_editor(session, user, course)
    return course


def editable_lesson(session: Session, user: User, lesson_id: int) -> tuple[Course, Lesson]:
    lesson = catalogue.get_lesson(session, lesson_id)
    course = editable_course(session, user, lesson.course_id)
    return course, next(item for item in course.lessons if item.id == lesson.id)


def is_owner(session: Session, user: User, code: str) -> bool:
    row = session.get(CourseOwner, (code, user.id))
    return row is not None and row.role == "owner"


# --- lists -------------------------------------------------------------------------------------------------------


def my_courses(session: Session, user: User) -> dict[str, list[Course]]:
    """The actor's courses by status: codes they own or co-own (all codes for district admins). Versions that a
    newer published version replaced are left out; they appear in each course's version history."""
    require_author(user)
    stmt = (
        select(Course)
        .where(Course.superseded_at.is_(None))
        .options(selectinload(Course.topics))
        .order_by(Course.code, Course.version)
    )
    if user.role != Role.district_admin:
        stmt = stmt.where(Course.code.in_(select(CourseOwner.code).where(CourseOwner.user_id == user.id)))
    grouped: dict[str, list[Course]] = {status: [] for status in STATUSES}
    for course in session.scalars(stmt):
        grouped.setdefault(course.status, []).append(course)
    return grouped


def versions_of(session: Session, code: str) -> list[Course]:
    return list(session.scalars(select(Course).where(Course.code == code).order_by(Course.version)))


@dataclass(frozen=True)
class ReviewEntry:
    review: CourseReview
    actor_name: str


def history(session: Session, course_id: int) -> list[ReviewEntry]:
    """The course version's review trail, newest first."""
    rows = session.execute(
        select(CourseReview, User.display_name)
        .join(User, User.id == CourseReview.actor_id)
        .where(CourseReview.course_id == course_id)
        .order_by(CourseReview.created_at.desc(), CourseReview.id.desc())
    )
    return [ReviewEntry(review, name) for review, name in rows]


def sent_back_comment(session: Session, course: Course) -> ReviewEntry | None:
    """The reviewer's comments owners must address: the newest step, when it sent this draft back."""
    if course.status != "draft":
        return None
    trail = history(session, course.id)
    if trail and trail[0].review.from_status == "submitted" and trail[0].review.comment:
        return trail[0]
    return None


@dataclass(frozen=True)
class Owner:
    user_id: int
    username: str
    display_name: str
    role: str


def owners_of(session: Session, code: str) -> list[Owner]:
    rows = session.execute(
        select(CourseOwner.user_id, User.username, User.display_name, CourseOwner.role)
        .join(User, User.id == CourseOwner.user_id)
        .where(CourseOwner.code == code)
        .order_by(CourseOwner.role.desc(), User.username)  # owner before co_owner
    )
    return [Owner(*row) for row in rows]


@dataclass(frozen=True)
class QueueItem:
    course: Course
    submitted_at: datetime | None
    owners: list[Owner]
    content: ContentEstimate
    previous: Course | None  # the published version this one would replace
    unfinished_learners: int  # in earlier published versions: who "migrate learners" would move


def review_queue(session: Session, user: User, policy: Policy) -> list[QueueItem]:
    """Submitted courses, the longest waiting first."""
    require_reviewer(user)
    submitted = (
        select(CourseReview.course_id, func.max(CourseReview.created_at).label("at"))
        .where(CourseReview.to_status == "submitted")
        .group_by(CourseReview.course_id)
        .subquery()
    )
    rows = session.execute(
        select(Course, submitted.c.at)
        .outerjoin(submitted, submitted.c.course_id == Course.id)
        .where(Course.status == "submitted")
        .options(selectinload(Course.topics), selectinload(Course.lessons))
        .order_by(func.coalesce(submitted.c.at, Course.created_at), Course.id)
    )
    items = []
    for course, at in rows:
        items.append(
            QueueItem(
                course=course,
                submitted_at=at,
                owners=owners_of(session, course.code),
                content=estimate_content(course, policy),
                previous=current_published(session, course.code),
                unfinished_learners=unfinished_learners(session, course),
            )
        )
    return items


def current_published(session: Session, code: str) -> Course | None:
    return session.scalar(
        select(Course).where(Course.code == code, Course.status == "published", Course.superseded_at.is_(None))
    )


def unfinished_learners(session: Session, course: Course) -> int:
    """Teachers part-way through an earlier published version of this course (completed ones are never moved)."""
    return learning.unfinished_in_earlier_versions(session, course)


# --- course fields -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFields:
    title: str
    summary: str
    description_md: str
    tier: str
    topics: list[str]
    credit_hours: Decimal
    credit_category: str
    # Issue 16: the code of a course to complete first ("" = none); checked against the catalogue on save.
    prerequisite: str = ""


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def parse_fields(raw: Mapping[str, Any]) -> CourseFields:
    """Checks a course form (or API body); every problem is reported at once, by field."""
    errors: dict[str, str] = {}
    title = _text(raw, "title")
    if not title or len(title) > 200:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    summary = _text(raw, "summary")
    if len(summary) > 500:
        errors["summary"] = _("The summary can have at most 500 characters.")
    description = str(raw.get("description_md") or "").replace("\r\n", "\n")
    tier = _text(raw, "tier")
    if tier not in TIER_CODES:
        errors["tier"] = _("Choose a tier.")
    topics_raw = raw.get("topics") or []
    topics = [topics_raw] if isinstance(topics_raw, str) else [str(t) for t in topics_raw]
    if set(topics) - TOPIC_CODES:
        errors["topics"] = _("Choose topics from the list.")
    category = _text(raw, "credit_category") or "knowledge_skills"
    if category not in CATEGORY_CODES:
        errors["credit_category"] = _("Choose a credit category.")
    prerequisite = _text(raw, "prerequisite")
    if len(prerequisite) > 32:
        errors["prerequisite"] = _("Enter the code of a published course.")
    hours = Decimal("0")
    try:
        hours = Decimal(_text(raw, "credit_hours") or "x")
        if not hours.is_finite() or hours <= 0 or hours > MAX_CREDIT_HOURS or hours != hours.quantize(Decimal("0.1")):
            raise InvalidOperation
    except InvalidOperation:
        errors["credit_hours"] = _("Enter credit hours between 0.1 and 200, with at most one decimal.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    return CourseFields(
        title=title,
        summary=summary,
        description_md=description,
        tier=tier,
        topics=sorted(set(topics)),
        credit_hours=hours.quantize(Decimal("0.1")),
        credit_category=category,
        prerequisite=prerequisite,
    )


def fields_of(course: Course) -> dict[str, Any]:
    return {
        "title": course.title,
        "summary": course.summary,
        "description_md": course.description_md,
        "tier": course.tier,
        "topics": course.topic_codes,
        "credit_hours": str(course.credit_hours),
        "credit_category": course.credit_category,
        "prerequisite": course.prerequisite_code or "",
    }


def _apply(course: Course, fields: CourseFields) -> None:
    course.title = fields.title
    course.summary = fields.summary
    course.description_md = fields.description_md
    course.tier = fields.tier
    course.credit_hours = fields.credit_hours
    course.credit_category = fields.credit_category
    course.prerequisite_code = fields.prerequisite or None
    if course.topic_codes != fields.topics:
        course.topics.clear()
        course.topics.extend(CourseTopic(topic=t) for t in fields.topics)


def _code_in_use(session: Session, code: str) -> bool:
    return bool(
        session.scalar(select(Course.id).where(Course.code == code).limit(1))
        or session.scalar(select(CourseOwner.code).where(CourseOwner.code == code).limit(1))
    )


def _new_code(session: Session) -> str:
    while True:
        code = "C-" + secrets.token_hex(3).upper()
        if not _code_in_use(session, code):
            return code


def check_prerequisite(session: Session, code: str | None, prerequisite: str) -> None:
    """A prerequisite is a published course's code, not the course itself, and not a course that requires this one
    (learning enforces it: `learning.service.require_prerequisite`)."""
    if not prerequisite:
        return
    message = None
    required = catalogue.current_published(session, prerequisite)
    if prerequisite == code:
        message = _("A course cannot require itself.")
    elif required is None:
        message = _("Enter the code of a published course.")
    elif code and required.prerequisite_code == code:
        message = _("That course already requires this one.")
    if message:
        raise InvalidInput(_("Please correct the marked fields."), fields={"prerequisite": message})


def create_course(session: Session, user: User, fields: CourseFields) -> Course:
    """A new draft with a fresh code; its creator becomes the owner."""
    require_author(user)
    check_prerequisite(session, None, fields.prerequisite)
    course = Course(code=_new_code(session), version=1, status="draft", created_at=clock.now(), code_locked=False)
    course.topics = []
    course.lessons = []
    _apply(course, fields)
    session.add(course)
    session.flush()
    ownership.add_owner(session, course.code, user.id, "owner")
    return course


def update_course(session: Session, user: User, course: Course, fields: CourseFields) -> Course:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    if fields.prerequisite != (course.prerequisite_code or ""):
        check_prerequisite(session, course.code, fields.prerequisite)
    _apply(course, fields)
    session.flush()
    return course


def code_can_change(session: Session, course: Course) -> bool:
    return course.status == "draft" and course.version == 1 and not course.code_locked


def change_code(session: Session, user: User, course: Course, new_code: str) -> Course:
    """A draft's generated code may be replaced once (e.g. by the district's numbering) before it is submitted."""
    ownership.require_editor(session, user, course)
    new_code = new_code.strip()
    if not code_can_change(session, course):
        raise Conflict(_("The course code can be changed only once, while the first version is a draft."))
    if not 1 <= len(new_code) <= 32 or set(new_code) - CODE_PATTERN_CHARS:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"code": _("Use 1 to 32 letters, digits, - or _ for the course code.")},
        )
    if new_code == course.code:
        return course
    if _code_in_use(session, new_code):
        raise Conflict(_("The course code %(code)s is already in use."), code=new_code)
    old = course.code
    course.code = new_code
    course.code_locked = True
    session.flush()
    session.execute(update(CourseOwner).where(CourseOwner.code == old).values(code=new_code))
    session.flush()
    return course


def add_co_owner(session: Session, user: User, course: Course, username: str) -> Owner:
    """The owner (or a district admin) shares a course code with another trainer."""
    require_author(user)
    if user.role != Role.district_admin and not is_owner(session, user, course.code):
        raise Forbidden(_("Only the course's owner can add co-owners."))
    other = session.scalar(select(User).where(User.username == username.strip()))
    if other is None or not other.is_active:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"username": _("There is no user with this username.")}
        )
    if other.role != Role.trainer:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"username": _("Only trainers can be co-owners.")}
        )
    ownership.add_owner(session, course.code, other.id, "co_owner")
    audit.record(session, "course.owner_add", actor_id=user.id, subject_type="course", subject_id=course.id,
                 after={"user_id": other.id})  # fmt: skip
    row = session.get(CourseOwner, (course.code, other.id))
    return Owner(other.id, other.username, other.display_name, row.role if row else "co_owner")


def remove_co_owner(session: Session, user: User, course: Course, user_id: int) -> None:
    require_author(user)
    if user.role != Role.district_admin and not is_owner(session, user, course.code):
        raise Forbidden(_("Only the course's owner can remove co-owners."))
    row = session.get(CourseOwner, (course.code, user_id))
    if row is None:
        raise NotFound(_("This co-owner does not exist."))
    if row.role == "owner":
        raise Conflict(_("The owner of a course cannot be removed."))
    session.delete(row)
    session.flush()
    audit.record(session, "course.owner_remove", actor_id=user.id, subject_type="course", subject_id=course.id,
                 before={"user_id": user_id})  # fmt: skip


# --- lessons -----------------------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"title": _("Enter a title of 1 to 200 characters.")}
        )
    return title


def add_lesson(session: Session, user: User, course: Course, kind: str, title: str, body_md: str = "") -> Lesson:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    if kind not in LESSON_KINDS:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"kind": _("Choose video, document or text.")}
        )
    lesson = Lesson(
        position=max((item.position for item in course.lessons), default=0) + 1,
        kind=kind,
        title=_clean_title(title),
        body_md=body_md.replace("\r\n", "\n"),
    )
    course.lessons.append(lesson)
    session.flush()
    return lesson


def update_lesson(session: Session, user: User, course: Course, lesson: Lesson, title: str, body_md: str) -> Lesson:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    lesson.title = _clean_title(title)
    lesson.body_md = body_md.replace("\r\n", "\n")
    session.flush()
    return lesson


def move_lesson(session: Session, user: User, course: Course, lesson: Lesson, direction: str) -> None:
    """Swaps a lesson with its neighbour. Positions are unique per course at every moment (both databases check
    the constraint row by row), so the swap goes through a free position 0."""
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    ordered = sorted(course.lessons, key=lambda item: item.position)
    index = ordered.index(lesson)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if direction not in ("up", "down"):
        raise InvalidInput(_("Move a lesson up or down."))
    if not 0 <= target < len(ordered):
        return
    other = ordered[target]
    mine, theirs = lesson.position, other.position
    lesson.position = 0
    session.flush()
    other.position = mine
    session.flush()
    lesson.position = theirs
    session.flush()
    course.lessons.sort(key=lambda item: item.position)


def delete_lesson(session: Session, user: User, course: Course, lesson: Lesson) -> None:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    removed = lesson.position
    course.lessons.remove(lesson)
    session.flush()
    for item in sorted(course.lessons, key=lambda x: x.position):
        if item.position > removed:
            item.position -= 1
            session.flush()


# --- media from uploads ------------------------------------------------------------------------------------------


class StoredMediaLike(Protocol):
    """What `backend.media.uploads.claim_upload` returns (its `StoredMedia`), as far as the studio reads it."""

    @property
    def key(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def duration_ms(self) -> int | None: ...
    @property
    def pages(self) -> int | None: ...
    @property
    def poster_key(self) -> str | None: ...


def claim_media(session: Session, user: User, upload_id: str, kind: str) -> StoredMediaLike:
    """The finished upload `upload_id` of `kind` (video | document | image), handed over to its new owner.

    The upload pipeline (backend.media.uploads) probes, stores and counts; the studio only records the result.
    """
    try:
        from backend.media import uploads
    except ImportError as exc:  # the upload pipeline is not installed in this build
        raise InvalidInput(_("Uploading files is not available yet.")) from exc
    stored: StoredMediaLike = uploads.claim_upload(session, user, upload_id, kind)
    return stored


def attach_lesson_media(session: Session, user: User, course: Course, lesson: Lesson, upload_id: str) -> Lesson:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    if lesson.kind not in ("video", "document"):
        raise Conflict(_("Only video and document lessons have a file."))
    if not upload_id.strip():
        raise InvalidInput(_("Please correct the marked fields."), fields={"upload_id": _("Upload a file first.")})
    stored = claim_media(session, user, upload_id.strip(), UPLOAD_KIND[lesson.kind])
    return set_lesson_media(session, user, course, lesson, stored)


def set_lesson_media(
    session: Session, user: User, course: Course, lesson: Lesson, stored: StoredMediaLike
) -> Lesson:
    """A video or document lesson's file from media already stored and probed by the upload pipeline: a claimed
    upload, or another domain's file (a workshop output promoted into the studio keeps pointing at its object)."""
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    if lesson.kind not in ("video", "document") or stored.kind != UPLOAD_KIND[lesson.kind]:
        raise Conflict(_("Only video and document lessons have a file."))
    lesson.media_key, lesson.media_type = stored.key, stored.content_type
    if lesson.kind == "video":
        lesson.duration_ms, lesson.poster_key, lesson.pages = stored.duration_ms, stored.poster_key, None
    else:
        lesson.pages, lesson.duration_ms, lesson.poster_key = stored.pages, None, None
    session.flush()
    return lesson


def attach_cover(session: Session, user: User, course: Course, upload_id: str) -> Course:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    if not upload_id.strip():
        raise InvalidInput(_("Please correct the marked fields."), fields={"upload_id": _("Upload a file first.")})
    course.cover_key = claim_media(session, user, upload_id.strip(), "image").key
    session.flush()
    return course


def remove_cover(session: Session, user: User, course: Course) -> None:
    ownership.require_editor(session, user, course)
    catalogue.require_draft(course)
    course.cover_key = None
    session.flush()


# --- how many hours the content supports -------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentEstimate:
    minutes: Decimal  # exact
    per_hour: int
    claimed: Decimal

    @property
    def whole_minutes(self) -> int:
        return int(self.minutes.to_integral_value(rounding=ROUND_DOWN))

    @property
    def max_hours(self) -> Decimal:
        # Rounded down: a course never claims a tenth of an hour its content does not fill.
        return (self.minutes / self.per_hour).quantize(Decimal("0.1"), rounding=ROUND_DOWN)

    @property
    def enough(self) -> bool:
        return self.minutes >= self.claimed * self.per_hour


def estimate_content(course: Course, policy: Policy) -> ContentEstimate:
    """Minutes of content (issue 4): video length + pages × minutes per page + text length ÷ reading speed."""
    minutes = Decimal(0)
    for lesson in course.lessons:
        if lesson.kind == "video":
            minutes += Decimal(lesson.duration_ms or 0) / 60_000
        elif lesson.kind == "document":
            minutes += Decimal(lesson.pages or 0) * policy.content.minutes_per_document_page
        else:
            minutes += Decimal(len(lesson.body_md or "")) / policy.content.text_chars_per_minute
    per_hour = policy.content.minutes_per_credit_hour
    return ContentEstimate(minutes=minutes, per_hour=per_hour, claimed=course.credit_hours)


def check_credit_hours(course: Course, policy: Policy) -> ContentEstimate:
    estimate = estimate_content(course, policy)
    if not estimate.enough:
        raise InvalidInput(
            _(
                "This course has about %(minutes)s minutes of content, enough for at most %(max_hours)s credit "
                "hours (%(per)s minutes per credit hour); %(hours)s credit hours are entered."
            ),
            fields={"credit_hours": _("More credit hours than the content supports.")},
            minutes=estimate.whole_minutes,
            max_hours=estimate.max_hours,
            per=estimate.per_hour,
            hours=course.credit_hours,
        )
    return estimate


@dataclass(frozen=True)
class Missing:
    """Something a course needs before review: a message id and its parameters (translated where shown)."""

    message: str
    params: dict[str, Any]


def missing_parts(course: Course) -> list[Missing]:
    """What a course needs before review; empty when it may be submitted."""
    problems = []
    if not course.lessons:
        problems.append(Missing(_("Add at least one lesson before submitting."), {}))
    for lesson in course.lessons:
        if lesson.kind == "video" and not lesson.media_key:
            problems.append(Missing(_("Lesson %(n)s has no video yet: attach it before submitting."),
                                    {"n": lesson.position}))
        elif lesson.kind == "document" and not lesson.media_key:
            problems.append(Missing(_("Lesson %(n)s has no document yet: attach it before submitting."),
                                    {"n": lesson.position}))
    return problems


def reload(session: Session, course_id: int) -> Course:
    """The course read again from the database with topics and lessons (after a change was rolled back)."""
    course = session.get(
        Course, course_id, options=[selectinload(Course.topics), selectinload(Course.lessons)], populate_existing=True
    )
    if course is None:
        raise NotFound(_("This course does not exist."))
    return course


# --- workflow ----------------------------------------------------------------------------------------------------


def _record(
    session: Session,
    course: Course,
    actor: User,
    to_status: str,
    comment: str = "",
    learners_moved: int | None = None,
    *,
    action: str,
) -> CourseReview:
    """A step of the review workflow: the course's own history (CourseReview) and the audit log (issue 18: every
    administrator's action, publishing included, is in the audit log)."""
    audit.record(
        session,
        action,
        actor_id=actor.id,
        subject_type="course",
        subject_id=course.id,
        before={"status": course.status},
        after={"status": to_status} | ({"comment": comment} if comment else {}),
    )
    review = CourseReview(
        course_id=course.id,
        actor_id=actor.id,
        from_status=course.status,
        to_status=to_status,
        comment=comment,
        learners_moved=learners_moved,
        created_at=clock.now(),
    )
    session.add(review)
    course.status = to_status
    session.flush()
    return review


def submit(session: Session, user: User, course: Course, policy: Policy) -> Course:
    ownership.require_editor(session, user, course)
    if course.status != "draft":
        raise Conflict(_("Only a draft can be submitted for review."))
    problems = missing_parts(course)
    if problems:
        raise InvalidInput(problems[0].message, **problems[0].params)
    check_credit_hours(course, policy)
    course.code_locked = True
    _record(session, course, user, "submitted", action="course.submit")
    return course


def withdraw(session: Session, user: User, course: Course) -> Course:
    ownership.require_editor(session, user, course)
    if course.status != "submitted":
        raise Conflict(_("Only a course under review can be withdrawn."))
    _record(session, course, user, "draft", action="course.withdraw")
    return course


def send_back(session: Session, user: User, course: Course, comment: str) -> Course:
    require_reviewer(user)
    if course.status != "submitted":
        raise Conflict(_("Only a course under review can be sent back."))
    comment = comment.strip()
    if not comment:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"comment": _("Tell the authors what to change before it can be published.")},
        )
    _record(session, course, user, "draft", comment, action="course.send_back")
    for owner_id in ownership.owner_ids(session, course.code):  # the authors learn it came back (issue 18)
        notices.notify(
            session, owner_id, _("Your course “%(title)s” was sent back for changes: %(comment)s"),
            link=f"/studio/courses/{course.id}", title=course.title, comment=comment,
        )  # fmt: skip
    return course


@dataclass(frozen=True)
class Published:
    course: Course
    superseded: list[Course]
    migrated: int


def publish(
    session: Session, user: User, course: Course, policy: Policy, *, migrate: bool = False, comment: str = ""
) -> Published:
    """Opens a submitted version to teachers. Older published versions of the code leave the catalogue; their
    learners keep them, unless `migrate`: then those who have not completed move to this version."""
    require_reviewer(user)
    if course.status != "submitted":
        raise Conflict(_("Only a course under review can be published."))
    now = clock.now()
    older = list(
        session.scalars(
            select(Course)
            .where(Course.code == course.code, Course.id != course.id, Course.status == "published")
            .options(selectinload(Course.lessons))
        )
    )
    superseded = []
    for previous in older:
        if previous.superseded_at is None:
            previous.superseded_at = now
            superseded.append(previous)
    course.published_at = now
    course.superseded_at = None
    review = _record(
        session, course, user, "published", comment.strip(), 0 if migrate else None, action="course.publish"
    )
    migrated = 0
    if migrate:
        for previous in older:
            if previous.version < course.version:
                migrated += learning.migrate_learners(session, previous, course, policy)
        review.learners_moved = migrated
        session.flush()
    return Published(course, superseded, migrated)


def archive(session: Session, user: User, course: Course, comment: str = "") -> Course:
    """The course leaves the catalogue; teachers enrolled keep access and certificates stay valid."""
    require_reviewer(user)
    if course.status != "published":
        raise Conflict(_("Only a published course can be archived."))
    _record(session, course, user, "archived", comment.strip(), action="course.archive")
    return course


# --- versions ----------------------------------------------------------------------------------------------------


class _QuestionCopy:
    """A stored question in the shape `quizzes.service.create_quiz` reads (true/false answers as a bool)."""

    def __init__(self, question: Any) -> None:
        self._question = question

    def __getattr__(self, name: str) -> Any:
        return getattr(self._question, name)

    @property
    def answer(self) -> list[int] | bool:
        if self._question.kind == "truefalse":
            return list(self._question.answer) == [0]
        return list(self._question.answer)

    @property
    def options(self) -> list[str]:
        return list(self._question.options)


class _QuizCopy:
    def __init__(self, quiz: Quiz) -> None:
        self._quiz = quiz
        self.questions = [_QuestionCopy(q) for q in quiz.questions]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._quiz, name)


def copy_assessment(session: Session, source_course_id: int, target_course_id: int) -> None:
    """A new version gets the same quiz (settings, questions, draws from banks) and assignments with their rubrics;
    attempts and submissions stay with the version they were made on."""
    quiz = quizzes.quiz_for_course(session, source_course_id)
    if quiz is not None:
        quizzes.create_quiz(session, target_course_id, _QuizCopy(quiz))
    assignments.copy_assignments(session, source_course_id, target_course_id)


def start_new_version(session: Session, user: User, course: Course) -> Course:
    """Editing a published course: a draft of the next version with the same fields, lessons, quiz and assignments.
    If a newer draft or submitted version exists already, that one is returned instead of making another."""
    require_author(user)
    ownership.require_editor(session, user, course)
    pending = session.scalar(
        select(Course)
        .where(Course.code == course.code, Course.status.in_(("draft", "submitted")))
        .order_by(Course.version.desc())
        .limit(1)
    )
    if pending is not None:
        return pending
    if course.status != "published" or course.superseded_at is not None:
        raise Conflict(_("Only the current published version of a course can be edited."))
    version = (session.scalar(select(func.max(Course.version)).where(Course.code == course.code)) or 0) + 1
    draft = Course(
        code=course.code,
        version=version,
        status="draft",
        created_at=clock.now(),
        code_locked=True,
        cover_key=course.cover_key,
    )
    draft.topics = []
    draft.lessons = [
        Lesson(
            position=lesson.position,
            kind=lesson.kind,
            title=lesson.title,
            body_md=lesson.body_md,
            media_key=lesson.media_key,
            media_type=lesson.media_type,
            duration_ms=lesson.duration_ms,
            pages=lesson.pages,
            poster_key=lesson.poster_key,
        )
        for lesson in course.lessons
    ]
    _apply(draft, parse_fields(fields_of(course)))
    session.add(draft)
    session.flush()
    copy_assessment(session, course.id, draft.id)
    return draft


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Courses as the audit log names them: title and version, linked to the studio (issue 18)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    rows = session.execute(select(Course.id, Course.title, Course.version).where(Course.id.in_(numbers))).all()
    return {
        str(cid): audit_describe.Subject(f"{title}（v{version}）", f"/studio/courses/{cid}")
        for cid, title, version in rows
    }


audit_describe.register_subject("course", _audit_names)
