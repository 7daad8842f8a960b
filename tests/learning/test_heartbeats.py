"""A teacher watches a lesson; the server credits only time it saw pass and seconds really played."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.credits.models import LedgerEntry
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.learning import service
from backend.learning.models import Heartbeat
from backend.policies.service import load_policy
from backend.quizzes import service as quizzes
from tests.factories import correct_answers, make_course, make_user


def watch(session, clock, user, playback_id, start_seq, positions, step=15, **flags):  # type: ignore[no-untyped-def]
    policy = load_policy(session)
    result = None
    for i, pos in enumerate(positions):
        clock.advance(step)
        beat = service.BeatInput(seq=start_seq + i, position_ms=pos, playing=flags.get("playing", True),
                                 visible=flags.get("visible", True))
        result = service.record_heartbeat(session, user.id, playback_id, beat, policy)
    return result


@pytest.fixture
def setup(session, clock):  # type: ignore[no-untyped-def]
    user = make_user(session)
    course = make_course(session, video_ms=(60_000,))
    service.enroll(session, user.id, course)
    started = service.start_playback(session, user.id, course.lessons[0].id)
    return user, course, started.playback.id


def test_watching_in_real_time_credits_time_and_coverage(session, clock, setup) -> None:
    user, course, pid = setup
    r = watch(session, clock, user, pid, 1, [15_000, 30_000])
    assert r.credited_ms == 15_000 and r.session_credited_ms == 30_000
    assert r.covered_ms == 30_000 and r.coverage == [[0, 30_000]]
    assert not r.lesson_covered


def test_skipping_ahead_earns_neither_time_nor_coverage(session, clock, setup) -> None:
    user, course, pid = setup
    r = watch(session, clock, user, pid, 1, [55_000])  # 15 s of wall clock, 55 s of playhead
    assert r.credited_ms == 0 and r.note == "seek_ahead" and r.covered_ms == 0


def test_speeding_up_never_covers_faster_than_the_clock(session, clock, setup) -> None:
    user, course, pid = setup
    # 2x speed: every 15 s the playhead moves 30 s.
    r = watch(session, clock, user, pid, 1, [30_000, 60_000])
    assert r.covered_ms == 0 and r.session_credited_ms == 0


def test_paused_or_hidden_time_is_not_credited(session, clock, setup) -> None:
    user, course, pid = setup
    assert watch(session, clock, user, pid, 1, [0], playing=False).note == "paused"
    assert watch(session, clock, user, pid, 2, [15_000], visible=False).note == "hidden"
    r = watch(session, clock, user, pid, 3, [30_000])
    assert r.session_credited_ms == 15_000
    assert r.coverage == [[15_000, 30_000]]


def test_a_long_silence_is_not_credited(session, clock, setup) -> None:
    user, course, pid = setup
    r = watch(session, clock, user, pid, 1, [15_000], step=600)
    assert r.credited_ms == 0 and r.note == "gap_too_long"


def test_rewatching_adds_time_but_no_coverage(session, clock, setup) -> None:
    user, course, pid = setup
    watch(session, clock, user, pid, 1, [15_000, 30_000])
    policy = load_policy(session)
    clock.advance(1)
    service.record_heartbeat(session, user.id, pid, service.BeatInput(3, 0, False, True), policy)  # seeked back
    r = watch(session, clock, user, pid, 4, [15_000])
    assert r.credited_ms == 15_000 and r.covered_ms == 30_000


def test_a_retried_heartbeat_is_not_counted_twice(session, clock, setup) -> None:
    user, course, pid = setup
    first = watch(session, clock, user, pid, 1, [15_000])
    clock.advance(3)
    again = service.record_heartbeat(session, user.id, pid, service.BeatInput(1, 15_000, True, True),
                                     load_policy(session))
    assert again.duplicate and again.credited_ms == 0
    assert again.session_credited_ms == first.session_credited_ms
    assert session.scalar(select(Heartbeat).where(Heartbeat.playback_id == pid, Heartbeat.seq == 1)) is not None


def test_an_old_or_forged_sequence_number_is_refused(session, clock, setup) -> None:
    user, course, pid = setup
    watch(session, clock, user, pid, 5, [15_000])
    with pytest.raises(Conflict):
        watch(session, clock, user, pid, 3, [16_000])


def test_a_position_outside_the_video_is_refused(session, clock, setup) -> None:
    user, course, pid = setup
    with pytest.raises(InvalidInput):
        watch(session, clock, user, pid, 1, [61_000 + 5_000])


def test_another_teacher_cannot_report_on_my_playback(session, clock, setup) -> None:
    user, course, pid = setup
    intruder = make_user(session)
    with pytest.raises(NotFound):
        watch(session, clock, intruder, pid, 1, [15_000])


def test_playback_needs_enrollment(session, clock) -> None:
    user = make_user(session)
    course = make_course(session)
    with pytest.raises(Forbidden):
        service.start_playback(session, user.id, course.lessons[0].id)


def test_resume_point_cannot_skip_past_what_was_watched(session, clock, setup) -> None:
    user, course, pid = setup
    watch(session, clock, user, pid, 1, [15_000])
    resumed = service.start_playback(session, user.id, course.lessons[0].id, start_ms=50_000)
    assert resumed.playback.last_position_ms == 15_000
    resumed = service.start_playback(session, user.id, course.lessons[0].id, start_ms=10_000)
    assert resumed.playback.last_position_ms == 10_000


def test_teacher_completes_course_and_earns_hours(session, clock, setup) -> None:
    user, course, pid = setup
    r = watch(session, clock, user, pid, 1, [15_000, 30_000, 45_000, 55_000])
    assert r.lesson_covered and not r.course_completed  # quiz still to pass
    enrollment = service.enrollment_for(session, user.id, course.id)
    assert enrollment.completed_at is None
    quiz = quizzes.quiz_for_course(session, course.id)
    attempt = quizzes.submit_attempt(session, quiz, user.id, correct_answers(quiz))
    assert attempt.passed
    assert service.evaluate_completion(session, enrollment, load_policy(session))
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()
    assert [(str(e.hours), e.source, e.status) for e in entries] == [("4.0", "course_completion", "pending")]
    # Evaluating again writes nothing more.
    assert not service.evaluate_completion(session, enrollment, load_policy(session))
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()) == 1


def test_coverage_below_the_threshold_does_not_complete(session, clock, setup) -> None:
    user, course, pid = setup
    r = watch(session, clock, user, pid, 1, [15_000, 30_000, 45_000, 52_000])  # 52/60 = 87% < 90%
    assert not r.lesson_covered
    quiz = quizzes.quiz_for_course(session, course.id)
    quizzes.submit_attempt(session, quiz, user.id, correct_answers(quiz))
    enrollment = service.enrollment_for(session, user.id, course.id)
    assert not service.evaluate_completion(session, enrollment, load_policy(session))
