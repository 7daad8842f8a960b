"""Settling pending credit (issue 12), through the API on both databases: a close settles it at once, a check of a
closed playback confirms nothing, every confirmation checks the day's and the lesson's budgets as they stand, and the
attention-check schedule is the teacher's across playbacks."""

from __future__ import annotations

from datetime import timedelta

from backend.learning.models import AttentionPrompt, LearnerState
from backend.learning.playbacks import day_of
from tests.learning.test_hotpath import SECOND, world  # noqa: F401 - the fixture


def _check_due_in(world, pid: str, seconds: float, clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from backend.learning.models import PlaybackSession

    with world.sessions() as s:
        s.get(PlaybackSession, pid).prompt_due_at = clock.now() + timedelta(seconds=seconds)
        s.commit()


def _watch_until_a_check(world, clock) -> tuple[str, dict]:  # type: ignore[no-untyped-def]  # noqa: F811
    """30 s watched; the check shown on the second beat."""
    pid = world.start()["playback_id"]
    _check_due_in(world, pid, 20, clock)
    world.beat(pid, 1, 15)
    prompt = world.beat(pid, 2, 30).json()["prompt"]
    assert prompt is not None
    return pid, prompt


def test_closing_with_a_check_open_drops_its_credit_and_a_later_answer_confirms_nothing(world, clock) -> None:  # noqa: F811
    pid, prompt = _watch_until_a_check(world, clock)
    world.beat(pid, 3, 45)
    assert world.client.post(f"/api/v1/playbacks/{pid}/close").status_code == 200
    assert world.progress().credited_ms == 0 and world.playback(pid).pending_ms == 0
    # Later, while another playback of the lesson runs, the old check is answered: it confirms nothing.
    other = world.start()
    world.beat(other["playback_id"], 1, 15)
    late = world.client.post(f"/api/v1/playbacks/{pid}/prompts/{prompt['id']}")
    assert late.status_code == 409 and late.json()["detail"]
    assert world.progress().credited_ms == 0
    with world.sessions() as s:
        stored = s.get(AttentionPrompt, prompt["id"])
        assert stored.outcome == "missed" and stored.dropped_ms == 45 * SECOND and stored.confirmed_ms == 0


def test_an_answer_in_time_still_confirms_and_a_clean_close_confirms_the_rest(world, clock) -> None:  # noqa: F811
    pid, prompt = _watch_until_a_check(world, clock)
    answer = world.client.post(f"/api/v1/playbacks/{pid}/prompts/{prompt['id']}").json()
    assert answer["outcome"] == "answered" and answer["confirmed_ms"] == 30 * SECOND
    world.beat(pid, 3, 45)
    world.client.post(f"/api/v1/playbacks/{pid}/close")
    assert world.progress().credited_ms == 45 * SECOND


def test_the_check_schedule_goes_on_across_playbacks_and_is_not_reset_by_reopening(world, clock) -> None:  # noqa: F811
    first = world.start()["playback_id"]
    _check_due_in(world, first, 50, clock)
    world.beat(first, 1, 15)
    world.beat(first, 2, 30)  # 20 s of viewing left before the check
    clock.advance(5)
    world.client.post(f"/api/v1/playbacks/{first}/close")
    second = world.start(start_ms=30 * SECOND)["playback_id"]
    assert (world.playback(second).prompt_due_at - clock.now()) == timedelta(seconds=20)
    assert world.beat(second, 1, 45).json()["prompt"] is None
    assert world.beat(second, 2, 60).json()["prompt"] is not None  # 20 s into the reopened playback, not 10-20 min


def test_a_check_owed_when_a_playback_closes_is_shown_at_the_next_playbacks_first_beat(world, clock) -> None:  # noqa: F811
    first = world.start()["playback_id"]
    _check_due_in(world, first, 10, clock)
    assert world.beat(first, 1, 15).json()["prompt"] is not None
    world.client.post(f"/api/v1/playbacks/{first}/close")  # closed instead of answering
    second = world.start()["playback_id"]
    assert world.beat(second, 1, 15).json()["prompt"] is not None


def test_a_check_due_at_the_end_keeps_the_playback_open_until_answered(world, clock) -> None:  # noqa: F811
    pb = world.start()["playback_id"]
    _check_due_in(world, pb, 50, clock)
    for seq, pos in enumerate((15, 30, 45), start=1):
        world.beat(pb, seq, pos)
    r = world.beat(pb, 4, 60, ended=True).json()  # the check fell due on the last beat
    assert r["prompt"] is not None and world.playback(pb).ended_at is None
    assert world.client.post(f"/api/v1/playbacks/{pb}/prompts/{r['prompt']['id']}").json()["outcome"] == "answered"
    assert world.beat(pb, 5, 60, after_s=1, ended=True).json()["lesson_covered"] is True  # the player closes now
    assert world.progress().credited_ms == 60 * SECOND and world.playback(pb).ended_at is not None


def test_ending_playbacks_over_and_over_never_confirms_past_a_due_check(world, clock) -> None:  # noqa: F811
    first = world.start()["playback_id"]
    _check_due_in(world, first, 20, clock)
    world.beat(first, 1, 15)
    assert world.beat(first, 2, 30, ended=True).json()["prompt"] is not None  # due: shown, not closed
    world.client.post(f"/api/v1/playbacks/{first}/close")  # closed without answering: dropped
    second = world.start()["playback_id"]  # the check is still owed
    assert world.beat(second, 1, 15, ended=True).json()["prompt"] is not None
    assert world.progress().credited_ms == 0


def test_a_confirmation_checks_todays_budgets_as_they_stand_when_it_confirms(world, clock) -> None:  # noqa: F811
    pid = world.start()["playback_id"]
    for seq, pos in enumerate((15, 30), start=1):
        world.beat(pid, seq, pos)
    # Meanwhile today's credit grew elsewhere (the budgets of this playback were fixed when it took the lease).
    with world.sessions() as s:
        learner = s.get(LearnerState, world.playback(pid).user_id)
        learner.day, learner.day_credited_ms = day_of(clock.now()), 6 * 3_600_000 - 10 * SECOND
        s.commit()
    world.client.post(f"/api/v1/playbacks/{pid}/close")
    progress = world.progress()
    assert progress.credited_ms == 10 * SECOND and progress.covered_ms <= 10 * SECOND
    with world.sessions() as s:
        assert s.get(LearnerState, world.playback(pid).user_id).day_credited_ms == 6 * 3_600_000
    assert world.playback(pid).rejected_ms >= 20 * SECOND
