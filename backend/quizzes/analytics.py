"""Course analytics for its trainers: enrollments, the completion funnel, video coverage and drop-off, and how each
quiz question performs. Read-only; like `backend.evidence`, it reads learning's records and writes nothing.

Definitions (the page and the Excel export say the same):
- Funnel: enrolled → watched lesson k (its confirmed coverage reached the policy threshold) for each video lesson
  in order → quiz passed (the counted attempt passed) → required assignments passed → completed. Each step counts
  the enrolled teachers who reached it, so a drop between two steps shows where teachers stop.
- Average coverage of a video lesson: the mean share of the video covered, over its viewers (teachers with any
  confirmed coverage of it).
- Drop-off: for each 10% mark of the video, the share of its viewers whose confirmed coverage includes the moment
  just before that mark.
- Difficulty of a question: the share correct (for an essay: the mean share of its points), over graded attempts
  that showed it. Discrimination: that share in the top 27% of graded attempts by total score minus the share in
  the bottom 27% (Kelley's groups); None with fewer than two graded attempts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.catalogue.models import Course
from backend.learning import coverage
from backend.learning.models import Enrollment, LessonProgress
from backend.quizzes import assignments as assignment_rules
from backend.quizzes import service
from backend.quizzes.models import Assignment, Attempt, Question, Submission

KELLEY_SHARE = 0.27  # Kelley (1939): upper and lower 27% groups for the discrimination index
MARKS = 10  # drop-off at every 10% of a video


@dataclass(frozen=True)
class Step:
    kind: str  # enrolled | lesson | quiz | assignment | completed
    title: str
    count: int
    share: float  # of the enrolled, 0..1


@dataclass(frozen=True)
class VideoStats:
    lesson_id: int
    position: int
    title: str
    duration_ms: int
    viewers: int
    average_coverage: float  # 0..1
    reach: list[float]  # share of viewers at each 10% mark, 10% … 100%


@dataclass(frozen=True)
class QuestionStats:
    question_id: int
    number: int
    kind: str
    prompt: str
    source: str  # quiz | bank
    answered: int
    difficulty: float | None
    discrimination: float | None


@dataclass
class CourseAnalytics:
    course_id: int
    title: str
    enrolled: int
    completed: int
    graded_attempts: int
    funnel: list[Step] = field(default_factory=list)
    videos: list[VideoStats] = field(default_factory=list)
    questions: list[QuestionStats] = field(default_factory=list)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def course_analytics(session: Session, course: Course) -> CourseAnalytics:
    """Requires `course.lessons` loaded."""
    enrollments = list(session.scalars(select(Enrollment).where(Enrollment.course_id == course.id)))
    enrolled = len(enrollments)
    by_enrollment = {e.id: e for e in enrollments}
    progress = list(
        session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id.in_(list(by_enrollment) or [0])))
    )
    progress_by_lesson: dict[int, list[LessonProgress]] = defaultdict(list)
    for p in progress:
        progress_by_lesson[p.lesson_id].append(p)

    result = CourseAnalytics(
        course_id=course.id, title=course.title, enrolled=enrolled,
        completed=sum(1 for e in enrollments if e.completed_at is not None), graded_attempts=0,
    )
    result.funnel.append(Step("enrolled", "", enrolled, 1.0 if enrolled else 0.0))
    videos = [lesson for lesson in course.lessons if lesson.kind == "video"]
    for lesson in videos:
        rows = progress_by_lesson.get(lesson.id, [])
        watched = sum(1 for p in rows if p.covered_at is not None)
        result.funnel.append(Step("lesson", lesson.title, watched, _share(watched, enrolled)))
        result.videos.append(_video_stats(lesson.id, lesson.position, lesson.title, lesson.duration_ms or 0, rows))

    quiz = service.quiz_for_course(session, course.id)
    learners = {e.user_id for e in enrollments}
    if quiz is not None:
        attempts = list(session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id).order_by(Attempt.id)))
        per_user: dict[int, list[Attempt]] = defaultdict(list)
        for a in attempts:
            per_user[a.user_id].append(a)
        passed = 0
        for user_id in learners:
            counted = service.counted_attempt(sorted(per_user.get(user_id, []), key=lambda a: a.number), quiz.counting)
            passed += bool(counted and counted.passed)
        result.funnel.append(Step("quiz", quiz.title, passed, _share(passed, enrolled)))
        graded = [a for a in attempts if a.status == "graded"]
        result.graded_attempts = len(graded)
        result.questions = _question_stats(session, quiz, graded)

    required = list(session.scalars(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.required.is_(True))
    ))
    for assignment in required:
        subs: dict[int, list[Submission]] = defaultdict(list)
        for s in session.scalars(
            select(Submission).where(Submission.assignment_id == assignment.id).order_by(Submission.number)
        ):
            subs[s.user_id].append(s)
        count = sum(1 for u in learners if assignment_rules.passed(assignment, subs.get(u, [])))
        result.funnel.append(Step("assignment", assignment.title, count, _share(count, enrolled)))

    result.funnel.append(Step("completed", "", result.completed, _share(result.completed, enrolled)))
    return result


def _video_stats(lesson_id: int, position: int, title: str, duration: int, rows: list[LessonProgress]) -> VideoStats:
    viewers = [p for p in rows if p.coverage]
    if not duration or not viewers:
        return VideoStats(lesson_id, position, title, duration, len(viewers), 0.0, [0.0] * MARKS)
    average = sum(min(1.0, coverage.total(p.coverage) / duration) for p in viewers) / len(viewers)
    reach = []
    for mark in range(1, MARKS + 1):
        point = max(0, duration * mark // MARKS - 1)
        reached = sum(1 for p in viewers if any(lo <= point < hi for lo, hi in p.coverage))
        reach.append(reached / len(viewers))
    return VideoStats(lesson_id, position, title, duration, len(viewers), average, reach)


def _ratios(attempt: Attempt, questions: dict[int, Question]) -> dict[int, float]:
    """Per question shown: the share of its points earned. Attempts from before results were stored are scored
    again from their answers."""
    if attempt.results is not None:
        return {
            int(qid): (r["earned"] or 0) / r["max"] for qid, r in attempt.results.items() if r.get("max")
        }
    out = {}
    for qid_text, answer in attempt.answers.items():
        q = questions.get(int(qid_text))
        if q is not None and q.points:
            out[q.id] = (service.score_question(q, answer) or 0) / q.points
    return out


def _question_stats(session: Session, quiz: Any, graded: list[Attempt]) -> list[QuestionStats]:
    ratios = {a.id: _ratios(a, {q.id: q for q in quiz.questions}) for a in graded}
    seen: list[int] = [q.id for q in quiz.questions]
    for a in graded:
        seen.extend(qid for qid in ratios[a.id] if qid not in seen)
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(seen or [0])))}
    ranked = sorted(graded, key=lambda a: (-a.score_percent, a.id))
    k = max(1, round(len(ranked) * KELLEY_SHARE)) if len(ranked) >= 2 else 0
    top, bottom = ranked[:k], ranked[len(ranked) - k:] if k else []

    def mean_for(group: list[Attempt], qid: int) -> float | None:
        values = [ratios[a.id][qid] for a in group if qid in ratios[a.id]]
        return sum(values) / len(values) if values else None

    stats = []
    for number, qid in enumerate(seen, start=1):
        q = questions.get(qid)
        if q is None:
            continue
        overall = mean_for(graded, qid)
        answered = sum(1 for a in graded if qid in ratios[a.id])
        hi, lo = (mean_for(top, qid), mean_for(bottom, qid)) if k else (None, None)
        stats.append(
            QuestionStats(
                question_id=qid, number=number, kind=q.kind, prompt=q.prompt,
                source="quiz" if q.quiz_id is not None else "bank", answered=answered, difficulty=overall,
                discrimination=hi - lo if hi is not None and lo is not None else None,
            )
        )
    return stats
