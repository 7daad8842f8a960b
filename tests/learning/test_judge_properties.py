"""The judge's invariants, for any sequence of beats and server times (Hypothesis), not for chosen examples:

- credit never exceeds the server time that passed while the beats said "playing and visible";
- coverage never exceeds credit × the allowed rate (per beat, pending, and everything ever covered together);
- the day's and the lesson's budgets are never exceeded, and never go below zero;
- nothing is credited to a playback without the lease, with a missed check, paused or hidden;
- coverage stays inside the video.

Beats are drawn as a mix of honest steps, playheads running ahead of the clock by less than the slack, bursts of
tiny beats, jumps, rewinds, pauses, hidden tabs, late deliveries and clock tricks, under varied policies; answering an
open check is modelled as the slow path does it (pending credit confirmed, a new check scheduled).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.learning import coverage
from backend.learning.judge import MAX_ELAPSED_MS, Beat, State, judge
from backend.policies.service import DEFAULT_POLICY, Policy

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
PROPERTIES = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Step:
    after_ms: int  # server time since the previous beat
    kind: str  # how the position moves
    amount: int
    playing: bool
    visible: bool
    client_back: bool  # the browser's clock goes backwards
    answer: bool  # the teacher answers an open check before this beat


policies = st.builds(
    lambda rate, slack, seek, late, low: DEFAULT_POLICY.with_values(
        max_playback_rate=rate, position_slack_ms=slack, allow_seek_ahead=seek,
        late_beat_window_seconds=late, prompt_min_minutes=low, prompt_max_minutes=low * 2, prompt_answer_seconds=60,
    ),
    st.sampled_from([1.0, 1.0, 1.25, 1.5, 2.0]),
    st.sampled_from([0, 250, 1500, 5000]),
    st.booleans(),
    st.sampled_from([30, 300]),
    st.sampled_from([0.5, 2.0, 10.0]),
)

steps = st.builds(
    Step,
    after_ms=st.one_of(
        st.integers(0, 50), st.integers(0, 2_000), st.integers(10_000, 20_000), st.integers(0, 900_000),
        st.just(MAX_ELAPSED_MS * 2),
    ),
    kind=st.sampled_from(["honest", "honest", "ahead", "burst", "jump", "back", "set", "same"]),
    amount=st.integers(0, 40_000),
    playing=st.booleans() | st.just(True),
    visible=st.booleans() | st.just(True),
    client_back=st.sampled_from([False] * 7 + [True]),
    answer=st.booleans(),
)


@st.composite
def starts(draw: st.DrawFn) -> State:
    duration = draw(st.integers(1_000, 30 * 60_000))
    known_to = draw(st.integers(0, duration))
    return State(
        duration_ms=duration, last_seq=0, last_beat_at=T0,
        last_position_ms=draw(st.integers(0, known_to)), last_client_ms=None, bank_ms=0, credited_ms=0,
        pending_ms=0, pending_coverage=[], known_coverage=[[0, known_to]] if known_to else [], rejected_ms=0,
        prompt_state="none", prompt_id=None,
        prompt_due_at=draw(st.none() | st.integers(0, 3_600_000).map(lambda ms: T0 + timedelta(milliseconds=ms))),
        prompt_deadline=None, holds_lease=draw(st.booleans() | st.just(True)),
        day_budget_ms=draw(st.integers(0, 6 * 3_600_000)), lesson_budget_ms=draw(st.integers(0, duration)),
    )


def position(state: State, step: Step, after_ms: int, policy: Policy) -> int:
    last, slack = state.last_position_ms, policy.viewing.position_slack_ms
    moves = {
        "honest": last + int(after_ms * policy.viewing.max_playback_rate),
        "ahead": last + int(after_ms * policy.viewing.max_playback_rate) + min(step.amount, slack),
        "burst": last + min(step.amount, slack + 1),
        "jump": last + step.amount * 10,
        "back": last - step.amount,
        "set": step.amount * 50,
        "same": last,
    }
    return max(0, min(moves[step.kind], state.duration_ms + slack + 1))


def answer(state: State, now: datetime, policy: Policy) -> State:
    """The slow path's answer in time (backend.learning.playbacks.answer_prompt + confirm), as far as the judge's
    state goes."""
    known = state.known_coverage
    for lo, hi in state.pending_coverage:
        known = coverage.add_interval(known, lo, hi)
    return replace(
        state, credited_ms=state.credited_ms + state.pending_ms, pending_ms=0, pending_coverage=[],
        known_coverage=known, prompt_state="none", prompt_id=None, prompt_deadline=None, bank_ms=0,
        prompt_due_at=now + timedelta(minutes=policy.viewing.prompt_min_minutes),
    )


@PROPERTIES
@given(start=starts(), policy=policies, plan=st.lists(steps, min_size=1, max_size=60))
def test_no_sequence_of_beats_outruns_the_clock_the_rate_or_the_budgets(
    start: State, policy: Policy, plan: list[Step]
) -> None:
    state, now, client = start, T0, 1_000_000
    played_ms = credited_ms = 0  # server time while playing and visible; credit ever given (dropped included)
    ever_covered: list[list[int]] = []
    rate = policy.viewing.max_playback_rate
    for seq, step in enumerate(plan, start=1):
        if step.answer and state.prompt_state == "open" and state.prompt_deadline and now <= state.prompt_deadline:
            state = answer(state, now, policy)
        now += timedelta(milliseconds=step.after_ms)
        client += -5_000 if step.client_back else step.after_ms
        beat = Beat(seq, position(state, step, step.after_ms, policy), step.playing, step.visible, client_ms=client)
        before = state
        verdict = judge(state, beat, now, policy)
        state = verdict.state

        elapsed = min(MAX_ELAPSED_MS, int((now - before.last_beat_at).total_seconds() * 1000))
        assert verdict.elapsed_ms == elapsed
        if step.playing and step.visible and verdict.impossible is None:
            played_ms += elapsed
        credited_ms += verdict.credited_ms
        # Credit: never more than the clock gave while playing and visible.
        assert 0 <= verdict.credited_ms and credited_ms <= played_ms
        if verdict.credited_ms:
            assert before.holds_lease and before.prompt_state != "missed" and step.playing and step.visible
            assert verdict.note != "prompt_missed"
        # Coverage: never more than the credit paid for at the allowed rate.
        if verdict.covered is not None:
            lo, hi = verdict.covered
            assert 0 <= lo <= hi <= state.duration_ms
            assert hi - lo <= verdict.credited_ms * rate
            ever_covered = coverage.add_interval(ever_covered, lo, hi)
        else:
            assert verdict.credited_ms == 0
        assert coverage.total(state.pending_coverage) <= state.pending_ms * rate
        assert coverage.total(ever_covered) <= credited_ms * rate
        # Budgets: fixed at the lease, never exceeded, never negative.
        assert credited_ms <= start.day_budget_ms and credited_ms <= start.lesson_budget_ms
        assert state.day_budget_ms == start.day_budget_ms - credited_ms >= 0
        assert state.lesson_budget_ms == start.lesson_budget_ms - credited_ms >= 0
        # Records fit their columns however long a playback was left open.
        late_ms = policy.viewing.late_beat_window_seconds * 1000
        assert 0 <= verdict.rejected_ms <= MAX_ELAPSED_MS and state.bank_ms <= late_ms


@PROPERTIES
@given(
    start=starts(), policy=policies.filter(lambda p: p.viewing.position_slack_ms > 0),  # slack 0 refuses any jitter
    plan=st.lists(st.tuples(st.integers(1_000, 20_000), st.integers(0, 3)), min_size=1, max_size=40),
)
def test_an_honest_viewer_is_credited_what_passed_and_covers_what_was_credited(
    start: State, policy: Policy, plan: list[tuple[int, int]]
) -> None:
    """Playing at the allowed rate, delivered a few milliseconds early or late: nothing is lost to the jitter
    beyond the lead of the last beat, and coverage matches credit."""
    state = replace(start, holds_lease=True, prompt_due_at=None, last_position_ms=0, known_coverage=[],
                    day_budget_ms=10**9, lesson_budget_ms=10**9, duration_ms=10**9)
    now, played, true_position = T0, 0, 0
    for seq, (after_ms, jitter_ms) in enumerate(plan, start=1):
        played += after_ms
        true_position += int(after_ms * policy.viewing.max_playback_rate)
        now = T0 + timedelta(milliseconds=played - (jitter_ms if seq < len(plan) else 0))
        state = judge(state, Beat(seq, true_position, True, True), now, policy).state
    assert played - 3 - len(plan) <= state.pending_ms <= played
    rate = policy.viewing.max_playback_rate
    assert coverage.total(state.pending_coverage) <= state.pending_ms * rate
    assert coverage.total(state.pending_coverage) >= true_position - 3 * rate - 2 * len(plan)
