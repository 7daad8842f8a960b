"""The evidence behind credited hours, for school and district administrators (issue 3, "Evidence").

A read-only view across domains: it reads the ledger (credits, whose workflow decides the scope and lists
the entries), enrollments, playbacks, heartbeats and prompts
(learning), quiz attempts (quizzes), users and schools, and writes nothing. It has no tables of its own, so its
queries join the other domains' tables directly instead of going through their services, which return one
teacher's rows at a time and would turn every list here into N+1 queries.

Scope is decided by `backend.people.records.scope()`, as everywhere that lists teachers: a district admin sees every
school, a school admin only the teachers of their own school, anyone else is refused. Evidence outside the scope is
reported as not found, so a school admin cannot learn that an entry of another school exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from backend.accounts.models import User
from backend.catalogue.models import Course
from backend.credits import workflow
from backend.credits.models import LedgerEntry
from backend.kit.errors import NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page
from backend.learning.models import AttentionPrompt, Enrollment, Heartbeat, LessonProgress, PlaybackSession
from backend.people.models import School
from backend.people.records import scope
from backend.quizzes.models import Attempt, Quiz

COURSE_COMPLETION_PREFIX = "enrollment:"
BAR_WIDTH = 1000  # SVG user units across a coverage bar (the bar itself scales to the page width)

# Why heartbeat time was not credited (Heartbeat.note, set by backend.learning.judge), as gettext message ids.
NOTE_LABELS = {
    "paused": _("note_paused"),
    "hidden": _("note_hidden"),
    "rewound": _("note_rewound"),
    "seek_ahead": _("note_seek_ahead"),
    "beyond_furthest": _("note_beyond_furthest"),
    "other_playback": _("note_other_playback"),
    "prompt_missed": _("note_prompt_missed"),
    "daily_cap": _("note_daily_cap"),
    "lesson_done_today": _("note_lesson_done_today"),
    "late": _("note_late"),
    "position_out_of_range": _("note_position_out_of_range"),
    "time_travel": _("note_time_travel"),
}
# Beats without a note whose elapsed time the playhead did not match (e.g. a stall while buffering).
UNLABELLED_NOTE = _("note_none")
# Pending credit dropped when an attention prompt went unanswered: recorded on the prompt, not on a beat.
PROMPT_DROPPED_NOTE = _("note_prompt_dropped")

PROMPT_OUTCOME_LABELS = {
    "open": _("outcome_open"),
    "answered": _("outcome_answered"),
    "missed": _("outcome_missed"),
    "late": _("outcome_late"),
}


# ---------------------------------------------------------------------------------------------------------------
# Page 1: the list of credited-hour entries


def credited_hours(
    session: Session, actor: User, *, query: str | None = None, school_id: int | None = None, page: int = 1
) -> Page[workflow.QueueRow]:
    """Ledger entries of the teachers in the actor's scope, newest first, in every status: the credits queue
    without a status filter."""
    return workflow.queue(session, actor, workflow.QueueFilters(school_id=school_id, q=query), page)


# ---------------------------------------------------------------------------------------------------------------
# Page 2: the evidence of one entry


@dataclass(frozen=True)
class ReasonTotal:
    note: str | None
    label: str  # gettext message id
    beats: int  # heartbeats with this note (missed prompts, for dropped pending time)
    rejected_ms: int


@dataclass(frozen=True)
class PromptEvidence:
    issued_at: datetime
    deadline: datetime
    answered_at: datetime | None
    outcome: str
    label: str  # gettext message id
    confirmed_ms: int
    dropped_ms: int

    @property
    def response_ms(self) -> int | None:
        """How long the teacher took to answer, on the server's clock."""
        if self.answered_at is None:
            return None
        return max(0, int((self.answered_at - self.issued_at).total_seconds() * 1000))


@dataclass(frozen=True)
class PlaybackEvidence:
    id: str
    started_at: datetime
    last_beat_at: datetime
    ended_at: datetime | None
    credited_ms: int
    pending_ms: int
    rejected_ms: int
    beats: int
    elapsed_ms: int
    reasons: list[ReasonTotal]
    prompts: list[PromptEvidence]


@dataclass(frozen=True)
class LessonEvidence:
    lesson_id: int
    position: int
    title: str
    duration_ms: int
    coverage: list[list[int]]
    covered_ms: int
    credited_ms: int
    covered_at: datetime | None
    playbacks: list[PlaybackEvidence] = field(default_factory=list)

    @property
    def coverage_percent(self) -> int:
        if not self.duration_ms:
            return 0
        return min(100, int(self.covered_ms * 100 / self.duration_ms))

    @property
    def bar(self) -> list[tuple[float, float]]:
        """The covered intervals as (x, width) in SVG units of a bar `BAR_WIDTH` wide."""
        if not self.duration_ms:
            return []
        scale = BAR_WIDTH / self.duration_ms
        bar = []
        for lo, hi in self.coverage:
            lo, hi = max(0, lo), min(self.duration_ms, hi)
            if hi > lo:
                bar.append((round(lo * scale, 2), round(max((hi - lo) * scale, 0.5), 2)))
        return bar


@dataclass(frozen=True)
class AttemptEvidence:
    number: int
    submitted_at: datetime | None  # None: an attempt still in progress
    correct_count: int
    question_count: int
    score_percent: int
    passed: bool


@dataclass(frozen=True)
class Evidence:
    entry: LedgerEntry
    teacher: User
    school_name: str | None
    course: Course | None
    enrollment: Enrollment | None
    lessons: list[LessonEvidence]
    attempts: list[AttemptEvidence]
    pass_mark: int | None

    @property
    def credited_ms(self) -> int:
        return sum(lesson.credited_ms for lesson in self.lessons)


def evidence_for(session: Session, actor: User, entry_id: int) -> Evidence:
    """Everything recorded behind one ledger entry, in a fixed handful of queries whatever the number of
    playbacks: entry, course, progress, playbacks, heartbeat totals, prompts, attempts."""
    found = session.execute(
        select(LedgerEntry, User, School.name)
        .join(User, User.id == LedgerEntry.user_id)
        .outerjoin(School, School.id == User.school_id)
        .where(LedgerEntry.id == entry_id, scope(actor))
    ).one_or_none()
    if found is None:
        raise NotFound(_("This credit hour entry does not exist."))
    entry, teacher, school_name = found

    enrollment = _enrollment_of(session, entry)
    if enrollment is None:
        course = session.get(Course, entry.course_id) if entry.course_id is not None else None
        return Evidence(entry, teacher, school_name, course, None, [], [], None)

    course = session.scalars(
        select(Course).where(Course.id == enrollment.course_id).options(selectinload(Course.lessons))
    ).one()
    videos = [lesson for lesson in course.lessons if lesson.kind == "video"]
    progress = {
        p.lesson_id: p
        for p in session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id))
    }
    # By progress row, not by lesson: a learner moved to a newer version keeps the progress (and so the playbacks)
    # of a carried-over video, while the playbacks still name the earlier version's lesson.
    playbacks_of = _playbacks(session, enrollment.user_id, [p.id for p in progress.values()])

    lessons = []
    for lesson in videos:
        p = progress.get(lesson.id)
        lessons.append(
            LessonEvidence(
                lesson_id=lesson.id,
                position=lesson.position,
                title=lesson.title,
                duration_ms=lesson.duration_ms or 0,
                coverage=[list(i) for i in (p.coverage if p else [])],
                covered_ms=p.covered_ms if p else 0,
                credited_ms=p.credited_ms if p else 0,
                covered_at=p.covered_at if p else None,
                playbacks=playbacks_of.get(p.id, []) if p else [],
            )
        )

    quiz = session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    attempts: list[AttemptEvidence] = []
    if quiz is not None:
        attempts = [
            AttemptEvidence(a.number, a.submitted_at, a.correct_count, a.question_count, a.score_percent, a.passed)
            for a in session.scalars(
                select(Attempt)
                .where(Attempt.quiz_id == quiz.id, Attempt.user_id == enrollment.user_id)
                .order_by(Attempt.number)
            )
        ]
    return Evidence(
        entry, teacher, school_name, course, enrollment, lessons, attempts, quiz.pass_mark if quiz else None
    )


def _enrollment_of(session: Session, entry: LedgerEntry) -> Enrollment | None:
    """The enrollment a course-completion entry credits (source_ref "enrollment:<id>"); None for other sources."""
    if entry.source != "course_completion" or not entry.source_ref.startswith(COURSE_COMPLETION_PREFIX):
        return None
    ref = entry.source_ref.removeprefix(COURSE_COMPLETION_PREFIX)
    if not ref.isdigit():
        return None
    enrollment = session.get(Enrollment, int(ref))
    # The entry names its teacher; an enrollment of someone else is not evidence for it.
    return enrollment if enrollment is not None and enrollment.user_id == entry.user_id else None


def _playbacks(session: Session, user_id: int, progress_ids: list[int]) -> dict[int, list[PlaybackEvidence]]:
    """Every playback by this teacher that counted toward these lesson progress rows, by progress id, oldest
    first, with heartbeat totals per reason and prompts: three queries in all."""
    if not progress_ids:
        return {}
    which = (PlaybackSession.user_id == user_id, PlaybackSession.progress_id.in_(progress_ids))
    ids = select(PlaybackSession.id).where(*which).scalar_subquery()
    sessions = list(
        session.scalars(select(PlaybackSession).where(*which).order_by(PlaybackSession.started_at, PlaybackSession.id))
    )
    if not sessions:
        return {}

    totals: dict[str, list[tuple[str | None, int, int, int]]] = {}
    for playback_id, note, beats, elapsed, rejected in session.execute(
        select(
            Heartbeat.playback_id,
            Heartbeat.note,
            func.count(),
            func.coalesce(func.sum(Heartbeat.elapsed_ms), 0),
            func.coalesce(func.sum(Heartbeat.rejected_ms), 0),
        )
        .where(Heartbeat.playback_id.in_(ids))
        .group_by(Heartbeat.playback_id, Heartbeat.note)
    ):
        totals.setdefault(playback_id, []).append((note, int(beats), int(elapsed), int(rejected)))

    prompts: dict[str, list[AttentionPrompt]] = {}
    for prompt in session.scalars(
        select(AttentionPrompt)
        .where(AttentionPrompt.playback_id.in_(ids))
        .order_by(AttentionPrompt.issued_at, AttentionPrompt.id)
    ):
        prompts.setdefault(prompt.playback_id, []).append(prompt)

    result: dict[int, list[PlaybackEvidence]] = {}
    for playback in sessions:
        rows = totals.get(playback.id, [])
        its_prompts = prompts.get(playback.id, [])
        result.setdefault(playback.progress_id, []).append(
            PlaybackEvidence(
                id=playback.id,
                started_at=playback.started_at,
                last_beat_at=playback.last_beat_at,
                ended_at=playback.ended_at,
                credited_ms=playback.credited_ms,
                pending_ms=playback.pending_ms,
                rejected_ms=playback.rejected_ms,
                beats=sum(r[1] for r in rows),
                elapsed_ms=sum(r[2] for r in rows),
                reasons=_reasons(rows, its_prompts),
                prompts=[
                    PromptEvidence(
                        issued_at=p.issued_at,
                        deadline=p.deadline,
                        answered_at=p.answered_at,
                        outcome=p.outcome,
                        label=PROMPT_OUTCOME_LABELS.get(p.outcome, p.outcome),
                        confirmed_ms=p.confirmed_ms,
                        dropped_ms=p.dropped_ms,
                    )
                    for p in its_prompts
                ],
            )
        )
    return result


def _reasons(rows: list[tuple[str | None, int, int, int]], prompts: list[AttentionPrompt]) -> list[ReasonTotal]:
    """Rejected time by reason, largest first. Beats with a note are listed even when they lost no time (a late
    beat may still be credited); plain beats only when time was lost."""
    reasons = [
        ReasonTotal(note, NOTE_LABELS.get(note, note) if note else UNLABELLED_NOTE, beats, rejected)
        for note, beats, _elapsed, rejected in rows
        if note is not None or rejected > 0
    ]
    dropped = [p for p in prompts if p.dropped_ms > 0]
    if dropped:
        lost = sum(p.dropped_ms for p in dropped)
        reasons.append(ReasonTotal("prompt_dropped", PROMPT_DROPPED_NOTE, len(dropped), lost))
    return sorted(reasons, key=lambda r: (-r.rejected_ms, r.note or ""))
