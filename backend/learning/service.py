"""Learning rules: enrollment, playback sessions, heartbeats, coverage and course completion.

The server decides everything from its own records: credited time is bounded by the server's clock between
accepted heartbeats and by how far the playhead may move at the allowed playback rate; coverage only grows by
segments that were plausibly played; completion is evaluated here and nowhere else. No endpoint accepts
"I finished".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.catalogue import service as catalogue
from backend.catalogue.models import Course, Lesson
from backend.credits import service as credits
from backend.kit import clock
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.learning import coverage
from backend.learning.models import Enrollment, Heartbeat, LessonProgress, PlaybackSession
from backend.policies.service import Policy
from backend.quizzes import service as quizzes


def course_has_learners(session: Session, course_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course_id)))


def enrollment_for(session: Session, user_id: int, course_id: int) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id))


def enroll(session: Session, user_id: int, course: Course) -> Enrollment:
    """Idempotent: enrolling twice returns the first enrollment."""
    existing = enrollment_for(session, user_id, course.id)
    if existing is not None:
        return existing
    if not catalogue.is_open_to_learners(course) or course.superseded_at is not None:
        raise Conflict(_("This course is not open for enrollment."))
    enrollment = Enrollment(user_id=user_id, course_id=course.id, enrolled_at=clock.now())
    try:
        with session.begin_nested():
            session.add(enrollment)
    except IntegrityError:
        found = enrollment_for(session, user_id, course.id)
        assert found is not None
        return found
    return enrollment


def my_enrollments(session: Session, user_id: int) -> list[Enrollment]:
    return list(
        session.scalars(
            select(Enrollment).where(Enrollment.user_id == user_id).order_by(Enrollment.enrolled_at.desc())
        )
    )


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
class PlaybackStart:
    playback: PlaybackSession
    progress: LessonProgress
    lesson: Lesson


def start_playback(session: Session, user_id: int, lesson_id: int, start_ms: int = 0) -> PlaybackStart:
    lesson = catalogue.get_lesson(session, lesson_id)
    if lesson.kind != "video" or not lesson.media_key or not lesson.duration_ms:
        raise Conflict(_("This lesson has no video to play."))
    enrollment = require_enrollment(session, user_id, lesson.course_id)
    progress = _progress(session, enrollment, lesson)
    # Resuming is allowed only inside what was already covered, so a resume point cannot skip ahead.
    if start_ms and not coverage.contains(progress.coverage, start_ms, slack=1000):
        start_ms = min(coverage.furthest(progress.coverage), start_ms) if progress.coverage else 0
    start_ms = max(0, min(start_ms, lesson.duration_ms))
    now = clock.now()
    playback = PlaybackSession(
        id=str(uuid.uuid4()),
        user_id=user_id,
        lesson_id=lesson.id,
        progress_id=progress.id,
        started_at=now,
        last_seq=0,
        last_beat_at=now,
        last_position_ms=start_ms,
        credited_ms=0,
    )
    session.add(playback)
    session.flush()
    return PlaybackStart(playback, progress, lesson)


@dataclass(frozen=True)
class BeatInput:
    seq: int
    position_ms: int
    playing: bool
    visible: bool
    ended: bool = False


@dataclass(frozen=True)
class BeatResult:
    seq: int
    credited_ms: int
    note: str | None
    session_credited_ms: int
    covered_ms: int
    duration_ms: int
    coverage: list[list[int]]
    lesson_covered: bool
    course_completed: bool
    duplicate: bool = False


def record_heartbeat(
    session: Session, user_id: int, playback_id: str, beat: BeatInput, policy: Policy
) -> BeatResult:
    playback = session.get(PlaybackSession, playback_id, with_for_update=True)
    if playback is None or playback.user_id != user_id:
        raise NotFound(_("This playback session does not exist."))
    progress = session.get(LessonProgress, playback.progress_id, with_for_update=True)
    lesson = session.get(Lesson, playback.lesson_id)
    assert progress is not None and lesson is not None and lesson.duration_ms is not None
    duration = lesson.duration_ms

    if beat.seq <= playback.last_seq:
        stored = session.scalar(
            select(Heartbeat).where(Heartbeat.playback_id == playback.id, Heartbeat.seq == beat.seq)
        )
        if stored is None or stored.position_ms != beat.position_ms:
            raise Conflict(_("This heartbeat is older than one already received."))
        # A retry of a stored beat: answer as before, count nothing twice.
        return _result(session, playback, progress, duration, stored.seq, 0, stored.note, duplicate=True)
    if playback.ended_at is not None:
        raise Conflict(_("This playback session has ended."))
    if beat.position_ms < 0 or beat.position_ms > duration + policy.position_slack_ms:
        raise InvalidInput(_("The reported position is outside the video."))

    now = clock.now()
    elapsed = max(0, int((now - playback.last_beat_at).total_seconds() * 1000))
    start, end = playback.last_position_ms, min(beat.position_ms, duration)
    advance = end - start
    allowed = int(elapsed * policy.max_playback_rate) + policy.position_slack_ms
    credited, note, covered_from, covered_to = 0, None, None, None
    if elapsed > policy.max_beat_gap_seconds * 1000:
        note = "gap_too_long"
    elif not beat.playing:
        note = "paused"
    elif not beat.visible:
        note = "hidden"
    elif advance < 0:
        note = "rewound"
    elif advance > allowed:
        # Further than the allowed rate could carry the playhead: a seek or a sped-up player; the jump earns nothing.
        note = "seek_ahead"
    else:
        # Credit is bounded by wall-clock time and by the playhead's advance at the allowed rate.
        credited = min(elapsed, int(advance / policy.max_playback_rate))
        covered_from, covered_to = start, end
        progress.coverage = coverage.add_interval(progress.coverage, start, end)
        progress.covered_ms = coverage.total(progress.coverage)

    playback.last_seq = beat.seq
    playback.last_beat_at = now
    playback.last_position_ms = end
    playback.credited_ms += credited
    progress.credited_ms += credited
    if beat.ended:
        playback.ended_at = now
    session.add(
        Heartbeat(
            playback_id=playback.id,
            seq=beat.seq,
            received_at=now,
            position_ms=beat.position_ms,
            playing=beat.playing,
            visible=beat.visible,
            credited_ms=credited,
            covered_from_ms=covered_from,
            covered_to_ms=covered_to,
            note=note,
        )
    )
    newly_covered = progress.covered_at is None and progress.covered_ms >= policy.coverage_threshold * duration
    course_completed = False
    if newly_covered:
        progress.covered_at = now
        session.flush()
        enrollment = session.get(Enrollment, progress.enrollment_id)
        assert enrollment is not None
        course_completed = evaluate_completion(session, enrollment, policy)
    session.flush()
    return _result(session, playback, progress, duration, beat.seq, credited, note, completed=course_completed)


def _result(
    session: Session,
    playback: PlaybackSession,
    progress: LessonProgress,
    duration: int,
    seq: int,
    credited: int,
    note: str | None,
    *,
    duplicate: bool = False,
    completed: bool = False,
) -> BeatResult:
    return BeatResult(
        seq=seq,
        credited_ms=credited,
        note=note,
        session_credited_ms=playback.credited_ms,
        covered_ms=progress.covered_ms,
        duration_ms=duration,
        coverage=progress.coverage,
        lesson_covered=progress.covered_at is not None,
        course_completed=completed,
        duplicate=duplicate,
    )


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


def last_playback_position(session: Session, user_id: int, lesson_id: int) -> int:
    return (
        session.scalar(
            select(PlaybackSession.last_position_ms)
            .where(PlaybackSession.user_id == user_id, PlaybackSession.lesson_id == lesson_id)
            .order_by(PlaybackSession.last_beat_at.desc())
            .limit(1)
        )
        or 0
    )
