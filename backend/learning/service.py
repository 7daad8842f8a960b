"""Learning rules: enrollment, lesson progress and course completion.

Completion is decided here and nowhere else, from the server's own records (confirmed coverage from
`backend.learning.playbacks`, quiz attempts). No endpoint accepts "I finished".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.catalogue import service as catalogue
from backend.catalogue.models import Course, Lesson
from backend.credits import certificates
from backend.credits import ledger as credits
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, NotFound
from backend.kit.i18n import _
from backend.learning.models import Enrollment, LessonProgress
from backend.policies.service import Policy, load_policy
from backend.quizzes import events as quiz_events
from backend.quizzes import service as quizzes


def course_has_learners(session: Session, course_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course_id)))


def visible_course(session: Session, user: User, course_id: int) -> Course:
    """Who may see a course (every page and API of a course asks this). Published courses are open to everyone; an
    archived one only to teachers enrolled in it (they keep access); drafts and courses under review only to
    trainers and district admins. Teachers never see those."""
    course = catalogue.get_course(session, course_id)
    if course.status == "published" or user.role in (Role.trainer, Role.district_admin):
        return course
    if course.status == "archived" and enrollment_for(session, user.id, course.id) is not None:
        return course
    raise NotFound(_("This course does not exist."))


def enrollment_for(session: Session, user_id: int, course_id: int) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id))


def enroll(session: Session, user_id: int, course: Course, *, assigned: bool = False) -> Enrollment:
    """Idempotent: enrolling twice returns the first enrollment.

    A course with a prerequisite refuses a teacher who has not completed it, naming it; except an enrolment made
    because the course was assigned to the teacher (`assigned`, issue 16): the course is then on their list, and
    starting it is refused until the prerequisite is complete (`require_prerequisite`, asked by the lesson page and
    every playback start)."""
    existing = enrollment_for(session, user_id, course.id)
    if existing is not None:
        return existing
    if not catalogue.is_open_to_learners(course) or course.superseded_at is not None:
        raise Conflict(_("This course is not open for enrollment."))
    if not assigned:
        require_prerequisite(session, user_id, course)
    enrollment = Enrollment(user_id=user_id, course_id=course.id, enrolled_at=clock.now())
    try:
        with session.begin_nested():
            session.add(enrollment)
    except IntegrityError:
        found = enrollment_for(session, user_id, course.id)
        assert found is not None
        return found
    return enrollment


# --- prerequisites (issue 16): a course may require another completed first --------------------------------------


def has_completed(session: Session, user_id: int, code: str) -> bool:
    """Whether the teacher completed any version of the course `code`."""
    return (
        session.scalar(
            select(Enrollment.id)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.user_id == user_id, Course.code == code, Enrollment.completed_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def missing_prerequisite(session: Session, user_id: int, course: Course) -> Course | None:
    """The course the teacher must complete before `course` (its newest version, for its title), or None (also when
    the prerequisite's code no longer exists: a course that is gone blocks nobody)."""
    code = course.prerequisite_code
    if not code or has_completed(session, user_id, code):
        return None
    return catalogue.newest_version(session, code)


def require_prerequisite(session: Session, user_id: int, course: Course) -> None:
    missing = missing_prerequisite(session, user_id, course)
    if missing is not None:
        raise Conflict(_("Complete the course %(title)s first: this course builds on it."), title=missing.title)


# --- reading many learners at once (assigned learning, issue 16) -------------------------------------------------


@dataclass(frozen=True)
class LearnerStatus:
    state: str  # completed | in_progress | not_started (enrolled or not)
    completed_at: datetime | None


def statuses(session: Session, code: str, user_ids: list[int]) -> dict[int, LearnerStatus]:
    """Each learner's status in the course `code` (any version; a completed one wins): completed, in progress (some
    lesson watched or read, or a quiz attempted is not counted: watching is), or not started."""
    found: dict[int, LearnerStatus] = {uid: LearnerStatus("not_started", None) for uid in user_ids}
    for i in range(0, len(user_ids), 900):
        chunk = user_ids[i : i + 900]
        started = select(LessonProgress.enrollment_id).where(LessonProgress.covered_ms > 0)
        rows = session.execute(
            select(Enrollment.user_id, Enrollment.completed_at, Enrollment.id.in_(started))
            .join(Course, Course.id == Enrollment.course_id)
            .where(Course.code == code, Enrollment.user_id.in_(chunk))
        )
        for user_id, completed_at, was_started in rows:
            if completed_at is not None:
                best = found[user_id]
                if best.completed_at is None or completed_at < best.completed_at:
                    found[user_id] = LearnerStatus("completed", completed_at)
            elif was_started and found[user_id].state == "not_started":
                found[user_id] = LearnerStatus("in_progress", None)
    return found


def enrolled_among(session: Session, course_id: int, user_ids: list[int]) -> set[int]:
    """Which of these learners are enrolled in the course (this version)."""
    found: set[int] = set()
    for i in range(0, len(user_ids), 900):
        found.update(
            session.scalars(
                select(Enrollment.user_id).where(
                    Enrollment.course_id == course_id, Enrollment.user_id.in_(user_ids[i : i + 900])
                )
            )
        )
    return found


# Sections other packages put at the top of "My learning" (the organisation's assigned courses, issue 16): learning
# sits below them, so it does not import them; each registers a function (session, user) → (template, context).
HomeSection = Callable[[Session, User], tuple[str, dict[str, Any]] | None]
home_sections: list[HomeSection] = []


def home_extra_sections(session: Session, user: User) -> list[tuple[str, dict[str, Any]]]:
    return [found for section in home_sections if (found := section(session, user)) is not None]


def my_enrollments(session: Session, user_id: int) -> list[Enrollment]:
    return list(
        session.scalars(
            select(Enrollment).where(Enrollment.user_id == user_id).order_by(Enrollment.enrolled_at.desc())
        )
    )


def completed_course_ids(session: Session, user_id: int) -> list[int]:
    """The courses the teacher has completed, the most recently enrolled first (for their course certificates)."""
    return [e.course_id for e in my_enrollments(session, user_id) if e.completed_at is not None]


certificates.completed_courses.append(completed_course_ids)


def require_enrollment(session: Session, user_id: int, course_id: int) -> Enrollment:
    enrollment = enrollment_for(session, user_id, course_id)
    if enrollment is None:
        raise Forbidden(_("Enroll in this course first."))
    return enrollment


def progress_by_lesson(session: Session, enrollment_id: int) -> dict[int, LessonProgress]:
    rows = session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment_id))
    return {p.lesson_id: p for p in rows}


def _progress(session: Session, enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    found = session.scalar(
        select(LessonProgress).where(
            LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id
        )
    )
    if found is not None:
        return found
    progress = LessonProgress(
        enrollment_id=enrollment.id, lesson_id=lesson.id, coverage=[], covered_ms=0, credited_ms=0
    )
    try:
        with session.begin_nested():
            session.add(progress)
    except IntegrityError:
        return _progress(session, enrollment, lesson)
    return progress


@dataclass(frozen=True)
class CourseProgress:
    enrollment: Enrollment | None
    video_lessons: int
    covered_lessons: int
    quiz_required: bool
    quiz_passed: bool
    progress: dict[int, LessonProgress]

    @property
    def completed(self) -> bool:
        return self.enrollment is not None and self.enrollment.completed_at is not None

    @property
    def percent(self) -> int:
        steps = self.video_lessons + (1 if self.quiz_required else 0)
        done = self.covered_lessons + (1 if self.quiz_required and self.quiz_passed else 0)
        return round(100 * done / steps) if steps else 0


def course_progress(session: Session, user_id: int, course: Course) -> CourseProgress:
    """Requires `course.lessons` loaded."""
    enrollment = enrollment_for(session, user_id, course.id)
    progress = progress_by_lesson(session, enrollment.id) if enrollment else {}
    videos = [lesson for lesson in course.lessons if lesson.kind == "video"]
    quiz = quizzes.quiz_for_course(session, course.id)
    return CourseProgress(
        enrollment=enrollment,
        video_lessons=len(videos),
        covered_lessons=sum(1 for v in videos if v.id in progress and progress[v.id].covered_at is not None),
        quiz_required=quiz is not None,
        quiz_passed=bool(quiz and quizzes.has_passed(session, quiz.id, user_id)),
        progress=progress,
    )


def evaluate_completion(session: Session, enrollment: Enrollment, policy: Policy) -> bool:
    """Completes the course and writes its hours to the ledger when every video is covered and the quiz passed.

    Returns True only when this call completed it.
    """
    if enrollment.completed_at is not None:
        return False
    course = catalogue.get_course(session, enrollment.course_id)
    state = course_progress(session, enrollment.user_id, course)
    if state.covered_lessons < state.video_lessons or (state.quiz_required and not state.quiz_passed):
        return False
    if quizzes.assignment_passed(session, enrollment.user_id, course.id) is False:  # a required assignment
        return False
    enrollment.completed_at = clock.now()
    credits.record_course_completion(
        session,
        user_id=enrollment.user_id,
        course_id=course.id,
        enrollment_id=enrollment.id,
        hours=course.credit_hours,
        category=course.credit_category,
    )
    session.flush()
    return True


def follow_completion(session: Session, course_id: int, user_id: int) -> bool:
    """The one entry point for "a learner's result changed: is the course complete now?" (quizzes announce it on
    quizzes.events.result_changed). Nothing happens for a learner not enrolled."""
    enrollment = enrollment_for(session, user_id, course_id)
    if enrollment is None:
        return False
    return evaluate_completion(session, enrollment, load_policy(session))


quiz_events.result_changed.listen(follow_completion)


# --- a new version of a course ------------------------------------------------------------------------------------


def unfinished_in_earlier_versions(session: Session, course: Course) -> int:
    """Teachers part-way through an earlier published version of `course`'s code (completed ones are never moved)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .join(Course, Course.id == Enrollment.course_id)
            .where(
                Course.code == course.code,
                Course.id != course.id,
                Course.version < course.version,
                Course.status == "published",
                Enrollment.completed_at.is_(None),
            )
        )
        or 0
    )


def migrate_learners(session: Session, old: Course, new: Course, policy: Policy) -> int:
    """Moves unfinished enrollments from `old` to `new` (both with lessons loaded); returns how many moved.

    Progress goes with a lesson when the lesson at the same position has the same media key (the same video); other
    progress rows stay on the enrollment, pointing at the old lessons, as the record of what was watched (playbacks
    and their heartbeats keep pointing at the progress row, so the evidence behind it stays findable). Completed
    enrollments are never moved, and no credit hours are written or changed here: hours already earned never change.
    """
    new_by_position = {lesson.position: lesson for lesson in new.lessons}
    carried: dict[int, int] = {}
    for lesson in old.lessons:
        match = new_by_position.get(lesson.position)
        if match is not None and lesson.media_key and match.media_key == lesson.media_key and match.kind == lesson.kind:
            carried[lesson.id] = match.id
    moved = 0
    enrollments = list(
        session.scalars(select(Enrollment).where(Enrollment.course_id == old.id, Enrollment.completed_at.is_(None)))
    )
    for enrollment in enrollments:
        if enrollment_for(session, enrollment.user_id, new.id) is not None:
            continue  # already learning the new version: keep both as they are
        enrollment.course_id = new.id
        for progress in session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id)):
            if progress.lesson_id in carried:
                progress.lesson_id = carried[progress.lesson_id]
        session.flush()
        moved += 1
        # Everything the new version asks for may already be done (same videos, no quiz).
        evaluate_completion(session, enrollment, policy)
    return moved
