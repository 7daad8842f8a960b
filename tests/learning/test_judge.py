"""Every way of cheating the viewing clock, tried against the judge directly: none gains a second."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backend.learning.judge import Beat, State, judge
from backend.policies.service import DEFAULT_POLICY, Policy

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
MIN = 60_000


def fresh(**kw: object) -> State:
    base = State(
        duration_ms=30 * MIN, last_seq=0, last_beat_at=T0, last_position_ms=0, last_client_ms=None, bank_ms=0,
        credited_ms=0, pending_ms=0, pending_coverage=[], known_coverage=[], rejected_ms=0, prompt_state="none",
        prompt_id=None, prompt_due_at=T0 + timedelta(hours=5), prompt_deadline=None, holds_lease=True,
        day_budget_ms=6 * 60 * MIN, lesson_budget_ms=30 * MIN,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


class Viewer:
    """Sends beats `step` seconds apart on the server clock; returns every verdict."""

    def __init__(self, state: State | None = None, policy: Policy = DEFAULT_POLICY) -> None:
        self.state, self.now, self.seq, self.policy, self.verdicts = state or fresh(), T0, 0, policy, []

    def beat(self, after_s: float, position_s: float, playing: bool = True, visible: bool = True, **kw: object):  # type: ignore[no-untyped-def]
        self.now += timedelta(seconds=after_s)
        self.seq += 1
        v = judge(self.state, Beat(self.seq, int(position_s * 1000), playing, visible, **kw), self.now, self.policy)  # type: ignore[arg-type]
        self.state = v.state
        self.verdicts.append(v)
        return v

    @property
    def credited(self) -> int:
        return self.state.pending_ms + self.state.credited_ms


def test_honest_viewing_earns_what_passed_and_covers_what_played() -> None:
    v = Viewer()
    for i in range(1, 5):
        v.beat(15, 15 * i)
    assert v.credited == 60_000
    assert v.state.pending_coverage == [[0, 60_000]]
    assert all(x.note is None for x in v.verdicts)


def test_fast_forward_earns_nothing_and_covers_nothing() -> None:
    v = Viewer()
    r = v.beat(15, 600)
    assert (r.credited_ms, r.note, r.covered) == (0, "seek_ahead", None)
    r = v.beat(15, 615)  # playing on after the jump: beyond anything watched
    assert (r.credited_ms, r.note) == (0, "beyond_furthest")
    assert v.state.pending_coverage == []


def test_seeking_ahead_can_be_allowed_by_policy_but_the_jump_still_earns_nothing() -> None:
    v = Viewer(policy=DEFAULT_POLICY.with_values(allow_seek_ahead=True))
    assert v.beat(15, 600).credited_ms == 0
    r = v.beat(15, 615)
    assert r.credited_ms == 15_000 and v.state.pending_coverage == [[600_000, 615_000]]


@pytest.mark.parametrize("rate", [1.25, 1.5, 2.0, 16.0])
def test_playing_faster_never_finishes_sooner(rate: float) -> None:
    v = Viewer()
    for i in range(1, 9):
        v.beat(15, 15 * rate * i)
    assert v.credited == 0 and v.state.pending_coverage == []


def test_allowed_faster_rate_still_credits_only_wall_clock_time() -> None:
    v = Viewer(policy=DEFAULT_POLICY.with_values(max_playback_rate=2.0))
    for i in range(1, 5):
        v.beat(15, 30 * i)
    assert v.credited == 60_000  # 4 × 15 s of wall clock, though 120 s of video were covered
    assert v.state.pending_coverage == [[0, 120_000]]


def test_paused_hidden_and_rewound_intervals_earn_nothing() -> None:
    v = Viewer()
    assert v.beat(15, 0, playing=False).note == "paused"
    assert v.beat(15, 15, visible=False).note == "hidden"
    assert v.beat(15, 5).note == "rewound"
    assert v.credited == 0


def test_rewatching_adds_time_but_no_coverage() -> None:
    v = Viewer()
    v.beat(15, 15)
    v.beat(15, 30)
    v.beat(1, 0, playing=False)  # sought back to the start
    v.beat(15, 15)
    assert v.credited == 45_000 and v.state.pending_coverage == [[0, 30_000]]


def test_a_script_claiming_progress_faster_than_the_clock_is_capped() -> None:
    v = Viewer()
    for _ in range(20):
        v.beat(0.5, v.state.last_position_ms / 1000 + 15)  # claims 15 s of video every half second
    assert v.credited <= int(20 * 0.5 * 1000) + 20 * DEFAULT_POLICY.viewing.position_slack_ms
    assert v.credited <= (v.now - T0).total_seconds() * 1000


def test_credit_never_exceeds_server_time_passed_whatever_the_beats_claim() -> None:
    v = Viewer()
    for step, pos in [(10, 11), (10, 22.5), (3, 24), (30, 54), (0.1, 55), (20, 75)]:
        v.beat(step, pos)
    assert v.credited <= (v.now - T0).total_seconds() * 1000


def test_beats_queued_offline_are_credited_once_when_they_arrive_late() -> None:
    v = Viewer()
    v.beat(15, 15)
    # Network lost for 60 s: four beats queued, then delivered together.
    v.beat(60.2, 30)
    for pos in (45, 60, 75):
        v.beat(0.05, pos)
    assert v.credited == 75_000 and v.state.pending_coverage == [[0, 75_000]]
    assert v.credited <= (v.now - T0).total_seconds() * 1000


def test_late_beats_beyond_the_window_are_not_credited() -> None:
    v = Viewer(policy=DEFAULT_POLICY.with_values(late_beat_window_seconds=30))
    v.beat(15, 15)
    v.beat(600, 30)  # ten minutes late
    for pos in (45, 60, 75, 90):
        v.beat(0.05, pos)
    assert v.credited <= 15_000 + 30_000 + 4 * 50


def test_impossible_positions_and_time_travel_are_refused_and_recorded() -> None:
    v = Viewer()
    assert v.beat(15, 31 * 60).impossible == "position_out_of_range"
    v.beat(15, 15, client_ms=10_000)
    r = v.beat(15, 30, client_ms=5_000)
    assert r.impossible == "time_travel" and r.credited_ms == 0


def test_a_second_playback_without_the_lease_earns_nothing() -> None:
    v = Viewer(fresh(holds_lease=False))
    assert v.beat(15, 15).note == "other_playback" and v.credited == 0


def test_a_missed_attention_prompt_drops_everything_since_the_last_confirmation() -> None:
    v = Viewer(fresh(prompt_due_at=T0 + timedelta(seconds=40)))
    v.beat(15, 15)
    v.beat(15, 30)
    r = v.beat(15, 45)
    assert r.prompt_issued and v.state.prompt_state == "open"
    for pos in (60, 75, 90, 105):
        assert v.beat(15, pos).credited_ms == 15_000  # still pending while the prompt is open
    r = v.beat(15, 120)  # 75 s after the prompt, unanswered
    assert r.prompt_missed_ms == 105_000 and r.note == "prompt_missed"
    assert v.state.pending_ms == 0 and v.state.pending_coverage == []
    assert v.beat(15, 135).credited_ms == 0  # nothing more until the teacher answers


def test_daily_cap_and_once_a_day_lesson_budget_stop_credit_and_coverage() -> None:
    v = Viewer(fresh(day_budget_ms=20_000))
    v.beat(15, 15)
    r = v.beat(15, 30)
    assert r.credited_ms == 5_000 and r.note == "daily_cap"
    assert v.state.pending_coverage == [[0, 20_000]]
    assert v.beat(15, 45).credited_ms == 0
    w = Viewer(fresh(lesson_budget_ms=0))
    assert w.beat(15, 15).note == "lesson_done_today" and w.credited == 0


def test_a_playhead_at_twice_the_clock_within_the_slack_covers_only_what_the_clock_allows() -> None:
    v = Viewer(fresh(duration_ms=MIN, lesson_budget_ms=MIN))
    for i in range(1, 21):
        r = v.beat(1, 2 * i)  # 2 s of video every second: each beat within the 1.5-s slack of the clock
        assert r.covered is None or r.covered[1] - r.covered[0] <= r.credited_ms
    assert v.credited <= 20_000 and sum(hi - lo for lo, hi in v.state.pending_coverage) <= v.credited


def test_a_burst_of_small_beats_covers_no_more_than_the_second_it_took() -> None:
    """Issue 12: 56 s of a 60 s lesson were covered in about a second by beats each within the slack."""
    v = Viewer(fresh(duration_ms=MIN, lesson_budget_ms=MIN))
    for _ in range(40):
        v.beat(0.025, min(60, v.state.last_position_ms / 1000 + 1.4))
    assert v.credited <= 1_000
    assert sum(hi - lo for lo, hi in v.state.pending_coverage) <= v.credited


def test_jitter_costs_an_honest_viewer_nothing() -> None:
    v = Viewer()
    for i, after in enumerate((14.9, 15.1, 14.8, 15.2, 15.0), start=1):
        v.beat(after, 15 * i)  # beats delivered a little early or late
    assert v.credited == 75_000 and v.state.pending_coverage[0][0] == 0
    assert sum(hi - lo for lo, hi in v.state.pending_coverage) >= 75_000 - 200


def test_a_playback_left_open_for_weeks_records_at_most_a_day() -> None:
    v = Viewer()
    r = v.beat(40 * 24 * 3600, 0, playing=False)
    assert r.elapsed_ms == r.rejected_ms == 24 * 3600 * 1000
