"""Playback lifecycle (the slow path): starting a playback, the one-lease-per-teacher rule, daily budgets,
confirming pending credit into lesson progress, attention-prompt answers and closing playbacks.

Heartbeats themselves go through `backend.learning.hotpath`; everything here happens a few times per playback.

Settling pending credit (issue 12): a playback's pending credit is confirmed by an attention check answered in time
or by a clean close, and dropped by a missed check or by a close while a check is open or missed; a close settles
it at once, so nothing of a closed playback is ever confirmed later. (The beat that ends a video does not close a
playback with a check open: the player closes it after the answer.) Every confirmation checks the day's and the
lesson's budgets at that moment (`_budgets`), whatever was budgeted when the lease was taken. The check schedule is
the teacher's: only the lease holder has one, and it goes on from holder to holder (`LearnerState.prompt_due_in_ms`),
so closing and reopening never restarts it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.catalogue import service as catalogue
from backend.catalogue.models import Lesson
from backend.kit import clock
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Conflict, NotFound
from backend.kit.i18n import _
from backend.kit.numbers import INT_MAX
from backend.learning import coverage
from backend.learning import service as learning
from backend.learning.judge import drop_for_missed_prompt, next_prompt_due, prompt_missed
from backend.learning.models import AttentionPrompt, Enrollment, LearnerState, LessonProgress, PlaybackSession
from backend.policies.service import Policy


def day_of(moment: datetime) -> int:
    """The Shanghai calendar day as yyyymmdd: caps and once-a-day rules follow the teacher's day."""
    local = moment.astimezone(SHANGHAI)
    return local.year * 10000 + local.month * 100 + local.day


@dataclass(frozen=True)
class PlaybackStart:
    playback: PlaybackSession
    progress: LessonProgress
    lesson: Lesson


def _learner(session: Session, user_id: int) -> LearnerState:
    state = session.get(LearnerState, user_id, with_for_update=True)
    if state is None:
        try:
            with session.begin_nested():
                session.add(LearnerState(user_id=user_id, active_playback_id=None, day=0, day_credited_ms=0))
        except IntegrityError:
            pass
        state = session.get(LearnerState, user_id, with_for_update=True)
    assert state is not None
    return state


def start_playback(session: Session, user_id: int, lesson_id: int, policy: Policy, start_ms: int = 0) -> PlaybackStart:
    lesson = catalogue.get_lesson(session, lesson_id)
    if lesson.kind != "video" or not lesson.media_key or not lesson.duration_ms:
        raise Conflict(_("This lesson has no video to play."))
    enrollment = learning.require_enrollment(session, user_id, lesson.course_id)
    learning.require_prerequisite(session, user_id, catalogue.get_course(session, lesson.course_id, with_lessons=False))
    progress = learning._progress(session, enrollment, lesson)
    now = clock.now()
    learner = _learner(session, user_id)
    close_stale_playbacks(session, user_id, policy, now)
    # Resuming is allowed only inside what was already covered, so a resume point cannot skip ahead.
    if start_ms and not coverage.contains(progress.coverage, start_ms, slack=1000):
        start_ms = min(coverage.furthest(progress.coverage), start_ms) if progress.coverage else 0
    start_ms = max(0, min(start_ms, lesson.duration_ms))
    playback = PlaybackSession(
        id=str(uuid.uuid4()),
        user_id=user_id,
        lesson_id=lesson.id,
        progress_id=progress.id,
        duration_ms=lesson.duration_ms,
        started_at=now,
        last_seq=0,
        last_beat_at=now,
        last_position_ms=start_ms,
        bank_ms=0,
        credited_ms=0,
        pending_ms=0,
        pending_coverage=[],
        known_coverage=progress.coverage,
        rejected_ms=0,
        confirmed_at=now,
        prompt_state="none",
        prompt_due_at=None,  # checks are for the lease holder, on the teacher's schedule (_grant_lease)
        holds_lease=False,
        budget_day=0,
        day_budget_ms=0,
        lesson_budget_ms=0,
    )
    session.add(playback)
    session.flush()
    holder = session.get(PlaybackSession, learner.active_playback_id) if learner.active_playback_id else None
    if holder is None or not _holds_live_lease(holder, now, policy):
        _grant_lease(session, learner, playback, progress, policy, now)
    session.flush()
    return PlaybackStart(playback, progress, lesson)


def _holds_live_lease(playback: PlaybackSession, now: datetime, policy: Policy) -> bool:
    return (
        playback.ended_at is None
        and playback.holds_lease
        and playback.last_beat_at >= now - timedelta(seconds=policy.viewing.lease_seconds)
    )


def _grant_lease(
    session: Session, learner: LearnerState, playback: PlaybackSession, progress: LessonProgress, policy: Policy,
    now: datetime,
) -> None:
    previous = learner.active_playback_id
    if previous and previous != playback.id:
        old = session.get(PlaybackSession, previous, with_for_update=True)
        if old is not None and old.ended_at is None:
            close_playback(session, old, policy, now)
    today = day_of(now)
    if not playback.holds_lease:
        # The teacher's check schedule goes on here from where the last holder left it.
        left = learner.prompt_due_in_ms
        playback.prompt_due_at = next_prompt_due(now, policy) if left is None else now + timedelta(milliseconds=left)
    learner.active_playback_id = playback.id
    playback.holds_lease = True
    playback.budget_day = today
    playback.day_budget_ms, playback.lesson_budget_ms = _budgets(learner, progress, playback, policy, today)


def _budgets(
    learner: LearnerState, progress: LessonProgress, playback: PlaybackSession, policy: Policy, today: int
) -> tuple[int, int]:
    """Credit still allowed today: by the daily cap, and for this lesson (once a day). The one home of both rules,
    used when a lease is granted and again at every confirmation."""
    day_credited = learner.day_credited_ms if learner.day == today else 0
    lesson_credited = progress.day_credited_ms if progress.day == today else 0
    return (
        max(0, int(policy.viewing.daily_cap_hours * 3_600_000) - day_credited),
        max(0, playback.duration_ms - lesson_credited),
    )


def take_over_lease(session: Session, playback_id: str, policy: Policy) -> bool:
    """A waiting playback takes the lease once the holder has stopped (or re-budgets on a new day)."""
    playback = session.get(PlaybackSession, playback_id, with_for_update=True)
    if playback is None or playback.ended_at is not None:
        return False
    learner = _learner(session, playback.user_id)
    now = clock.now()
    holder = session.get(PlaybackSession, learner.active_playback_id) if learner.active_playback_id else None
    if holder is not None and holder.id != playback.id and _holds_live_lease(holder, now, policy):
        return False
    if holder is not None and holder.id == playback.id and playback.budget_day == day_of(now):
        return True
    if holder is not None and holder.id == playback.id and playback.prompt_state == "none":
        confirm(session, playback, policy, now)  # a new day: today's budgets start from what is confirmed
    progress = session.get(LessonProgress, playback.progress_id, with_for_update=True)
    assert progress is not None
    _grant_lease(session, learner, playback, progress, policy, now)
    playback.known_coverage = progress.coverage  # what the previous holder confirmed counts as reached
    session.flush()
    return True


def confirm(session: Session, playback: PlaybackSession, policy: Policy, now: datetime) -> bool:
    """Moves pending credit and coverage into the lesson's progress, within today's budgets as they stand now (what
    exceeds them is rejected, and coverage is cut to what the confirmed credit paid for). True if the course got
    completed by it."""
    progress = session.get(LessonProgress, playback.progress_id, with_for_update=True)
    assert progress is not None
    pending, pending_coverage = playback.pending_ms, playback.pending_coverage
    if pending or pending_coverage:
        today = day_of(now)
        learner = _learner(session, playback.user_id)
        day_left, lesson_left = _budgets(learner, progress, playback, policy, today)
        if pending > min(day_left, lesson_left):
            playback.rejected_ms += pending - min(day_left, lesson_left)
            pending = min(day_left, lesson_left)
            pending_coverage = coverage.clip(pending_coverage, int(pending * policy.viewing.max_playback_rate))
        for lo, hi in pending_coverage:
            progress.coverage = coverage.add_interval(progress.coverage, lo, hi)
        progress.covered_ms = coverage.total(progress.coverage)
        progress.credited_ms += pending
        if progress.day != today:
            progress.day, progress.day_credited_ms = today, 0
        progress.day_credited_ms += pending
        if learner.day != today:
            learner.day, learner.day_credited_ms = today, 0
        learner.day_credited_ms += pending
        playback.credited_ms += pending
    playback.pending_ms, playback.pending_coverage = 0, []
    playback.known_coverage = progress.coverage
    playback.confirmed_at = now
    completed = False
    if progress.covered_at is None and progress.covered_ms >= policy.viewing.coverage_threshold * playback.duration_ms:
        progress.covered_at = now
        session.flush()
        enrollment = session.get(Enrollment, progress.enrollment_id)
        assert enrollment is not None
        completed = learning.evaluate_completion(session, enrollment, policy)
    session.flush()
    return completed


def close_playback(session: Session, playback: PlaybackSession, policy: Policy, now: datetime) -> bool:
    """Ends a playback and settles its pending credit at once: confirmed if no attention check is open, dropped if
    one is open (answered it was not, and an answer after the close confirms nothing) or was missed."""
    if playback.ended_at is not None:
        return False
    completed = False
    if playback.prompt_state == "none":
        completed = confirm(session, playback, policy, now)
    else:
        _drop_for_missed_prompt(session, playback)
    playback.ended_at = now
    if playback.holds_lease:
        playback.holds_lease = False
        session.execute(
            update(LearnerState)
            .where(LearnerState.user_id == playback.user_id, LearnerState.active_playback_id == playback.id)
            .values(active_playback_id=None, prompt_due_in_ms=_schedule_left(playback))
        )
    session.flush()
    return completed


def _schedule_left(playback: PlaybackSession) -> int | None:
    """Viewing time left until the holder's next check, counted to its last beat (the time it stopped playing); 0
    while a check is open or missed, so the next holder shows one at once."""
    if playback.prompt_state != "none":
        return 0
    if playback.prompt_due_at is None:
        return None
    left = (playback.prompt_due_at - playback.last_beat_at).total_seconds() * 1000
    return max(0, min(int(left), INT_MAX))


def close_by_id(session: Session, user_id: int, playback_id: str, policy: Policy) -> tuple[PlaybackSession, bool]:
    playback = session.get(PlaybackSession, playback_id, with_for_update=True)
    if playback is None or playback.user_id != user_id:
        raise NotFound(_("This playback session does not exist."))
    completed = close_playback(session, playback, policy, clock.now())
    return playback, completed


def close_stale_playbacks(session: Session, user_id: int, policy: Policy, now: datetime | None = None) -> None:
    """Closes this teacher's playbacks that stopped reporting (tab closed, phone locked)."""
    now = now or clock.now()
    cutoff = now - timedelta(seconds=policy.viewing.lease_seconds)
    for playback in session.scalars(
        select(PlaybackSession)
        .where(
            PlaybackSession.user_id == user_id,
            PlaybackSession.ended_at.is_(None),
            PlaybackSession.last_beat_at < cutoff,
        )
        .with_for_update()
    ):
        close_playback(session, playback, policy, now)


def _drop_for_missed_prompt(session: Session, playback: PlaybackSession) -> None:
    """The judge's missed-check rule (`judge.drop_for_missed_prompt`) applied to a playback row and its prompt."""
    drop = drop_for_missed_prompt(playback.pending_ms, playback.rejected_ms)
    playback.pending_ms, playback.pending_coverage = drop.pending_ms, drop.pending_coverage
    playback.rejected_ms, playback.prompt_state = drop.rejected_ms, drop.prompt_state
    prompt = session.get(AttentionPrompt, playback.prompt_id) if playback.prompt_id else None
    if prompt is not None and prompt.outcome == "open":
        prompt.outcome, prompt.dropped_ms = "missed", drop.dropped_ms


@dataclass(frozen=True)
class PromptAnswer:
    outcome: str  # answered | late
    confirmed_ms: int
    course_completed: bool


def answer_prompt(
    session: Session, user_id: int, playback_id: str, prompt_id: str, policy: Policy
) -> PromptAnswer:
    playback = session.get(PlaybackSession, playback_id, with_for_update=True)
    if playback is None or playback.user_id != user_id:
        raise NotFound(_("This playback session does not exist."))
    if playback.prompt_id != prompt_id or playback.prompt_state == "none" or playback.ended_at is not None:
        # A closed playback's check was settled by the close: answering it now confirms nothing.
        raise Conflict(_("This attention check is no longer open."))
    now = clock.now()
    prompt = session.get(AttentionPrompt, prompt_id)
    completed, confirmed = False, 0
    deadline = playback.prompt_deadline
    in_time = deadline is not None and not prompt_missed(playback.prompt_state, deadline, now)
    if playback.prompt_state == "open" and in_time:
        confirmed = playback.pending_ms
        completed = confirm(session, playback, policy, now)
        outcome = "answered"
    else:
        if playback.prompt_state == "open":
            _drop_for_missed_prompt(session, playback)
        outcome = "late"
        playback.confirmed_at = now  # the teacher is back: credit resumes from here
    if prompt is not None:
        prompt.answered_at = now
        prompt.confirmed_ms = confirmed
        prompt.outcome = "answered" if outcome == "answered" else "late" if prompt.outcome == "open" else prompt.outcome
    playback.prompt_state = "none"
    playback.prompt_due_at = next_prompt_due(now, policy)
    playback.bank_ms = 0
    session.flush()
    return PromptAnswer(outcome, confirmed, completed)


def pending_ms(session: Session, user_id: int, lesson_id: int) -> int:
    """Credit still waiting for confirmation in this teacher's open playbacks of a lesson."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PlaybackSession.pending_ms), 0)).where(
                PlaybackSession.user_id == user_id,
                PlaybackSession.lesson_id == lesson_id,
                PlaybackSession.ended_at.is_(None),
            )
        )
        or 0
    )


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
