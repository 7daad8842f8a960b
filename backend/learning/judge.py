"""The heartbeat judge: a pure function from (playback state, beat, server time, policy) to the new state and
the record of what was credited and why not. No I/O, so every rule is tested by trying to cheat it directly, and
the hot path (`backend.learning.hotpath`) only loads rows, calls this and writes the result back.

Rules (issue 3; DOMAIN.md "What a credit hour must mean"), each bounded by the server's own clock:
1. Credit never exceeds server time that passed while playing (carried forward at most `late_beat_window_seconds`
   for beats that were queued while offline), nor the playhead's advance at the allowed playback rate.
2. Coverage is the set of unique milliseconds played; a jump ahead, and (unless seeking ahead is allowed) playing
   beyond the furthest point reached, add none. A beat covers no more than it credited at the allowed rate (issue
   12): the position slack lets a playhead run a little ahead of the clock (network jitter) without being called a
   jump, but a beat's lead over the clock is left uncovered until a later beat's time pays for it (`_unpaid_lead`),
   so jitter costs an honest viewer nothing and a playhead that outruns the clock covers only the clock's worth.
3. Paused, hidden, rewound, other-playback and prompt-missed intervals earn nothing.
4. Attention prompts: due at a random moment, answered within `prompt_answer_seconds`; a missed one drops all
   pending credit since the last confirmation and stops credit until answered.
5. Daily cap and once-a-day per lesson: budgets fixed when the playback took the lease (and checked again when
   pending credit is confirmed, `backend.learning.playbacks.confirm`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from backend.learning import coverage
from backend.policies.service import Policy

_random = secrets.SystemRandom()

# Why a beat earned less than the time that passed. Shown to the teacher (translated) and kept as evidence.
NOTES = (
    "paused", "hidden", "rewound", "seek_ahead", "beyond_furthest", "other_playback", "prompt_missed",
    "daily_cap", "lesson_done_today", "late", "ended",
)
IMPOSSIBLE = ("position_out_of_range", "time_travel")
# Server time since the previous beat counts at most a day: what a record (INTEGER milliseconds) can hold however
# long a playback was left open, and more than any rule needs (the late-beat window is minutes).
MAX_ELAPSED_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class State:
    duration_ms: int
    last_seq: int
    last_beat_at: datetime
    last_position_ms: int
    last_client_ms: int | None
    bank_ms: int
    credited_ms: int
    pending_ms: int
    pending_coverage: list[list[int]]
    known_coverage: list[list[int]]
    rejected_ms: int
    prompt_state: str
    prompt_id: str | None
    prompt_due_at: datetime | None
    prompt_deadline: datetime | None
    holds_lease: bool
    day_budget_ms: int
    lesson_budget_ms: int
    ended: bool = False

    @property
    def seen_coverage(self) -> list[list[int]]:
        merged = self.known_coverage
        for lo, hi in self.pending_coverage:
            merged = coverage.add_interval(merged, lo, hi)
        return merged


@dataclass(frozen=True)
class Beat:
    seq: int
    position_ms: int
    playing: bool
    visible: bool
    ended: bool = False
    client_ms: int | None = None  # the browser's clock, used only to spot replays and time travel


@dataclass(frozen=True)
class Verdict:
    state: State
    elapsed_ms: int
    credited_ms: int
    rejected_ms: int
    covered: tuple[int, int] | None
    note: str | None
    prompt_issued: bool = False
    prompt_missed_ms: int | None = None  # pending credit dropped by a missed prompt
    impossible: str | None = None  # the beat was refused; its reason is recorded


def next_prompt_due(now: datetime, policy: Policy) -> datetime:
    low, high = policy.viewing.prompt_min_minutes * 60, policy.viewing.prompt_max_minutes * 60
    return now + timedelta(seconds=_random.uniform(low, high))


def prompt_missed(prompt_state: str, deadline: datetime | None, now: datetime) -> bool:
    """Rule 4: an open attention check is missed once its answer time has passed."""
    return prompt_state == "open" and deadline is not None and now > deadline


@dataclass(frozen=True)
class MissedPrompt:
    """A playback's pending credit after a missed check: what the playback keeps, and what was dropped."""

    pending_ms: int
    pending_coverage: list[list[int]]
    rejected_ms: int
    dropped_ms: int
    prompt_state: str = "missed"


def drop_for_missed_prompt(pending_ms: int, rejected_ms: int) -> MissedPrompt:
    """Rule 4, the one copy: a missed attention check drops all credit and coverage pending since the last
    confirmation (counted as rejected) and stops credit until the check is answered. The judge applies it to a
    beat after the deadline; `playbacks` to a late answer and to a playback closed with a check open."""
    return MissedPrompt(pending_ms=0, pending_coverage=[], rejected_ms=rejected_ms + pending_ms, dropped_ms=pending_ms)


def judge(state: State, beat: Beat, now: datetime, policy: Policy) -> Verdict:
    """Judges one beat with `beat.seq > state.last_seq` (the caller answers retries and refuses old ones)."""
    elapsed = min(MAX_ELAPSED_MS, max(0, int((now - state.last_beat_at).total_seconds() * 1000)))
    if beat.position_ms < 0 or beat.position_ms > state.duration_ms + policy.viewing.position_slack_ms:
        return _refuse(state, beat, now, elapsed, "position_out_of_range")
    if beat.client_ms is not None and state.last_client_ms is not None and beat.client_ms < state.last_client_ms:
        return _refuse(state, beat, now, elapsed, "time_travel")

    start, end = state.last_position_ms, min(beat.position_ms, state.duration_ms)
    advance = end - start
    # Time that passed while the video was said to play, plus what earlier beats could not yet use (late beats).
    window = min(elapsed + state.bank_ms, policy.viewing.late_beat_window_seconds * 1000)
    late = elapsed + state.bank_ms > window
    allowed_advance = int(window * policy.viewing.max_playback_rate) + policy.viewing.position_slack_ms

    prompt_state, prompt_missed_ms = state.prompt_state, None
    pending_ms, pending_cov, rejected_ms = state.pending_ms, state.pending_coverage, state.rejected_ms
    if prompt_missed(state.prompt_state, state.prompt_deadline, now):
        drop = drop_for_missed_prompt(pending_ms, rejected_ms)
        prompt_state, prompt_missed_ms = drop.prompt_state, drop.dropped_ms
        pending_ms, pending_cov, rejected_ms = drop.pending_ms, drop.pending_coverage, drop.rejected_ms

    credit, bank, note, covered = 0, 0, None, None
    if prompt_state == "missed":
        note = "prompt_missed"
    elif not state.holds_lease:
        note = "other_playback"
    elif not beat.playing:
        note = "paused"
    elif not beat.visible:
        note = "hidden"
    elif advance < 0:
        note = "rewound"
    elif advance > allowed_advance:
        note = "seek_ahead"
    elif not policy.viewing.allow_seek_ahead and not _continues_coverage(state, start, policy):
        note = "beyond_furthest"
    else:
        # What this beat may pay for: its advance, and the lead an earlier beat took over the clock (left uncovered).
        pay_from = start - _unpaid_lead(state.seen_coverage, start, policy.viewing.position_slack_ms)
        full = min(int((end - pay_from) / policy.viewing.max_playback_rate), window)
        credit = max(0, min(full, state.lesson_budget_ms, state.day_budget_ms))
        if credit < full:
            note = "daily_cap" if state.day_budget_ms <= state.lesson_budget_ms else "lesson_done_today"
        if credit > 0:
            # Coverage only for the part that was paid for with credit at the allowed rate, never more.
            covered = (pay_from, pay_from + min(end - pay_from, int(credit * policy.viewing.max_playback_rate)))
            pending_cov = coverage.add_interval(pending_cov, *covered)
            bank = window - credit
        note = note or ("late" if late else None)

    issued = False
    prompt_id, prompt_due_at, prompt_deadline = state.prompt_id, state.prompt_due_at, state.prompt_deadline
    if prompt_state == "none" and prompt_due_at is not None and now >= prompt_due_at and beat.playing:
        issued, prompt_state = True, "open"
        prompt_id = secrets.token_hex(8)
        prompt_deadline = now + timedelta(seconds=policy.viewing.prompt_answer_seconds)

    new_state = replace(
        state,
        last_seq=beat.seq,
        last_beat_at=now,
        last_position_ms=end,
        last_client_ms=beat.client_ms if beat.client_ms is not None else state.last_client_ms,
        bank_ms=bank,
        pending_ms=pending_ms + credit,
        pending_coverage=pending_cov,
        rejected_ms=rejected_ms + max(0, elapsed - credit),
        prompt_state=prompt_state,
        prompt_id=prompt_id,
        prompt_due_at=prompt_due_at,
        prompt_deadline=prompt_deadline,
        day_budget_ms=state.day_budget_ms - credit,
        lesson_budget_ms=state.lesson_budget_ms - credit,
        ended=state.ended or beat.ended,
    )
    return Verdict(
        state=new_state,
        elapsed_ms=elapsed,
        credited_ms=credit,
        rejected_ms=max(0, elapsed - credit),
        covered=covered,
        note=note,
        prompt_issued=issued,
        prompt_missed_ms=prompt_missed_ms,
    )


def _continues_coverage(state: State, start: int, policy: Policy) -> bool:
    """Playing may only extend what was reached: from inside the covered part, or from the very start."""
    slack = policy.viewing.position_slack_ms
    return start <= slack or coverage.contains(state.seen_coverage, start, slack)


def _unpaid_lead(seen: list[list[int]], start: int, slack: int) -> int:
    """How far `start` lies beyond the end of the covered part, when no further than the slack: the lead a playhead
    took over the clock (network jitter), uncovered until a beat's time pays for it."""
    if coverage.contains(seen, start):
        return 0
    reached = max((hi for _, hi in seen if hi < start), default=None)
    return start - reached if reached is not None and start - reached <= slack else 0


def _refuse(state: State, beat: Beat, now: datetime, elapsed: int, reason: str) -> Verdict:
    # The sequence number is used up (a replay of it is refused too), the baseline is not moved.
    new_state = replace(state, last_seq=beat.seq, last_beat_at=now, bank_ms=0,
                        rejected_ms=state.rejected_ms + elapsed)
    return Verdict(new_state, elapsed, 0, elapsed, None, reason, impossible=reason)
