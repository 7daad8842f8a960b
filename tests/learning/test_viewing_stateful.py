"""Several teachers, random viewing through the real API (the heartbeat lane and its group-commit writer, the
playback endpoints), on SQLite and PostgreSQL: Hypothesis drives starts, beats of every kind (honest, ahead of the
clock within the slack, bursts, jumps, rewinds, pauses, hidden tabs, endings), closes, reopenings, answers to open and
to closed playbacks' checks, and idle time; after every step the invariants of issue 12 are read from the database:

- a teacher's credit never exceeds the server time that passed while their beats said "playing and visible";
- coverage never exceeds credit (at the allowed rate 1.0), pending or confirmed, for every lesson;
- today's cap and the once-a-day lesson budget are never exceeded, whatever the order of closes and answers;
- credit confirmed without an answered check never exceeds one check interval, however often playbacks are closed,
  ended and reopened, and an answer to a closed playback's check confirms nothing;
- one teacher's beat never changes another teacher's rows;
- no request ends in a server error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from backend.accounts.models import User
from backend.accounts.service import create_api_token
from backend.learning import coverage
from backend.learning.models import AttentionPrompt, Enrollment, LearnerState, LessonProgress, PlaybackSession
from backend.learning.playbacks import day_of
from backend.policies.models import PolicySetting
from backend.policies.service import forget_cached_policy, set_policy
from tests.factories import make_course, make_user

TEACHERS = 2
# Short enough that checks, the daily cap (108 s, below the two lessons' 150 s) and the late-beat window all come
# into play within a few dozen steps. Checks every 30 s exactly: no randomness, so a failing walk replays the same.
POLICY = {"prompt_min_minutes": "0.5", "prompt_max_minutes": "0.5", "daily_cap_hours": "0.03",
          "late_beat_window_seconds": "30"}
PROMPT_MAX_MS, CAP_MS, SLACK_MS = 30_000, 108_000, 1500


@dataclass
class Playback:
    id: str
    teacher: int
    duration_ms: int
    seq: int = 0
    position_ms: int = 0
    last_at_ms: int = 0  # server time of the last beat the judge saw (or the start)
    prompt_id: str | None = None
    closed: bool = False


@dataclass
class Teacher:
    user_id: int
    headers: dict[str, str]
    credited_ms: int = 0  # every credit a beat was given, dropped ones included
    playing: list[list[int]] = field(default_factory=list)  # server time while beats said playing and visible
    confirmed_at_last_answer: int = 0


def test_many_teachers_viewing_at_random_keep_every_invariant(live_client, live_session_maker, clock) -> None:
    sessions = live_session_maker
    with sessions() as s:
        saved = {key: s.get(PolicySetting, key) for key in POLICY}
        saved = {key: (row.value if row is not None else None) for key, row in saved.items()}
        for key, value in POLICY.items():
            set_policy(s, key, value, None)
        s.commit()
    forget_cached_policy()
    start_of_test = clock.now()

    def now_ms() -> int:  # exact: float seconds would lose a millisecond now and then
        return (clock.now() - start_of_test) // timedelta(milliseconds=1)

    class Viewing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock.current = start_of_test  # every walk starts at the same moment, with teachers of its own
            self.teachers: list[Teacher] = []
            self.playbacks: dict[str, Playback] = {}
            with sessions() as s:
                course = make_course(s, video_ms=(60_000, 90_000), with_quiz=False)
                self.lessons = [(lesson.id, lesson.duration_ms) for lesson in course.lessons]
                for _ in range(TEACHERS):
                    user = make_user(s)
                    s.flush()
                    token = create_api_token(s, user, "stateful test")
                    self.teachers.append(Teacher(user.id, {"Authorization": f"Bearer {token}"}))
                s.commit()
                course_id = course.id
            for teacher in self.teachers:
                assert live_client.post(f"/api/v1/courses/{course_id}/enrollment", headers=teacher.headers).is_success

        # --- what the teachers do -------------------------------------------------------------------------------
        @rule(who=st.integers(0, TEACHERS - 1), lesson=st.integers(0, 1), resume=st.booleans())
        def start(self, who: int, lesson: int, resume: bool) -> None:
            lesson_id, duration = self.lessons[lesson]
            teacher = self.teachers[who]
            r = live_client.post(f"/api/v1/lessons/{lesson_id}/playbacks", headers=teacher.headers,
                                 json={"start_ms": self.furthest(who, lesson_id) if resume else 0})
            assert r.status_code == 201, r.text
            body = r.json()
            self.playbacks[body["playback_id"]] = Playback(
                body["playback_id"], who, duration, position_ms=body["start_ms"], last_at_ms=now_ms()
            )

        @precondition(lambda self: self.playbacks)
        @rule(
            data=st.data(),
            kind=st.sampled_from(["honest", "honest", "honest", "ahead", "ahead", "burst", "jump", "back", "paused",
                                  "hidden", "ended"]),
            after_ms=st.sampled_from([15_000, 15_000, 14_900, 15_100, 1_000, 25, 40_000]),
            count=st.integers(1, 4),
        )
        def play(self, data: st.DataObject, kind: str, after_ms: int, count: int) -> None:
            """A few beats of one kind from one of the teachers' playbacks (mostly one still open)."""
            open_ones = sorted(p for p, v in self.playbacks.items() if not v.closed)
            chosen = data.draw(st.sampled_from(open_ones if open_ones and data.draw(st.integers(0, 3)) else
                                               sorted(self.playbacks)))
            for _ in range(count):
                self.beat(self.playbacks[chosen], kind, after_ms)

        def beat(self, pb: Playback, kind: str, after_ms: int) -> None:
            teacher = self.teachers[pb.teacher]
            moves = {"honest": after_ms, "ahead": after_ms + SLACK_MS, "burst": SLACK_MS, "jump": 30_000,
                     "back": -10_000, "paused": 0, "hidden": after_ms, "ended": after_ms}
            position = max(0, min(pb.duration_ms, pb.position_ms + moves[kind]))
            if kind == "ended":
                position = pb.duration_ms
            playing, visible = kind != "paused", kind != "hidden"
            clock.advance(after_ms / 1000)
            others = self.snapshot(exclude=pb.teacher)
            pb.seq += 1
            r = live_client.post(f"/api/v1/playbacks/{pb.id}/heartbeats", headers=teacher.headers, json={
                "seq": pb.seq, "position_ms": position, "playing": playing, "visible": visible,
                "ended": kind == "ended",
            })
            assert r.status_code in (200, 409), r.text  # 409: the playback was closed
            assert self.snapshot(exclude=pb.teacher) == others, "one teacher's beat changed another's rows"
            if r.status_code != 200:
                return
            body = r.json()
            if playing and visible:
                teacher.playing = coverage.add_interval(teacher.playing, pb.last_at_ms, now_ms())
            teacher.credited_ms += body["credited_ms"]
            pb.position_ms, pb.last_at_ms = position, now_ms()
            if body["prompt"]:
                pb.prompt_id = body["prompt"]["id"]
            if kind == "ended" and not body["prompt"]:
                pb.closed = True  # (with a check open, the playback stays open until it is answered)

        @rule(who=st.integers(0, TEACHERS - 1), lesson=st.integers(0, 1), beats=st.integers(1, 2))
        def watch_a_little_and_leave(self, who: int, lesson: int, beats: int) -> None:
            """Open, watch honestly for a beat or two, close: over and over, the way checks were stepped around."""
            self.start(who, lesson, resume=True)
            pb = list(self.playbacks.values())[-1]
            for _ in range(beats):
                self.beat(pb, "honest", 15_000)
            r = live_client.post(f"/api/v1/playbacks/{pb.id}/close", headers=self.teachers[who].headers)
            assert r.status_code == 200, r.text
            pb.closed = True

        @precondition(lambda self: self.playbacks)
        @rule(data=st.data())
        def close(self, data: st.DataObject) -> None:
            pb = self.playbacks[data.draw(st.sampled_from(sorted(self.playbacks)))]
            r = live_client.post(f"/api/v1/playbacks/{pb.id}/close", headers=self.teachers[pb.teacher].headers)
            assert r.status_code == 200, r.text
            pb.closed = True

        @precondition(lambda self: any(pb.prompt_id for pb in self.playbacks.values()))
        @rule(data=st.data(), delay_s=st.sampled_from([0, 5, 70]))
        def answer(self, data: st.DataObject, delay_s: int) -> None:
            """An answer in time, late, or to a check of a closed playback (which confirms nothing)."""
            pb = self.playbacks[data.draw(st.sampled_from(sorted(p for p, v in self.playbacks.items() if v.prompt_id)))]
            teacher = self.teachers[pb.teacher]
            clock.advance(delay_s)
            confirmed_before = self.confirmed(pb.teacher)
            r = live_client.post(f"/api/v1/playbacks/{pb.id}/prompts/{pb.prompt_id}", headers=teacher.headers)
            assert r.status_code in (200, 409), r.text
            assert r.status_code == 409 or not pb.closed, "a closed playback's check was answered"
            if r.status_code == 200:
                teacher.confirmed_at_last_answer = self.confirmed(pb.teacher)
                pb.prompt_id = None
            else:
                assert self.confirmed(pb.teacher) == confirmed_before  # a refused answer confirms nothing

        @rule(seconds=st.sampled_from([30, 60, 600]))
        def idle(self, seconds: int) -> None:
            clock.advance(seconds)
            # A personal token ends after the policy's idle minutes, as a sign-in does: back at the screen, each
            # teacher signs in again (a fresh token), or the next request would be refused before the judge saw it.
            with sessions() as s:
                for teacher in self.teachers:
                    token = create_api_token(s, s.get(User, teacher.user_id), "stateful test")
                    teacher.headers = {"Authorization": f"Bearer {token}"}
                s.commit()

        # --- what must always hold --------------------------------------------------------------------------------
        @invariant()
        def credit_coverage_budgets_and_checks(self) -> None:
            today = day_of(clock.now())
            with sessions() as s:
                for who, teacher in enumerate(self.teachers):
                    progress = self.progress_rows(s, who)
                    open_playbacks = list(s.scalars(select(PlaybackSession).where(
                        PlaybackSession.user_id == teacher.user_id, PlaybackSession.ended_at.is_(None))))
                    confirmed = sum(p.credited_ms for p in progress)
                    pending = sum(p.pending_ms for p in open_playbacks)
                    # Credit: never more than the clock gave while the teacher's beats said playing and visible.
                    assert confirmed + pending <= teacher.credited_ms <= coverage.total(teacher.playing)
                    # Coverage: never more than credit, confirmed or pending.
                    for p in progress:
                        assert p.covered_ms == coverage.total(p.coverage) <= p.credited_ms
                    for pb in open_playbacks:
                        assert coverage.total(pb.pending_coverage) <= pb.pending_ms
                    # Budgets: today's cap and once a day per lesson.
                    learner = s.get(LearnerState, teacher.user_id)
                    if learner is not None and learner.day == today:
                        assert learner.day_credited_ms <= CAP_MS
                    for p in progress:
                        duration = dict(self.lessons)[p.lesson_id]
                        assert p.day != today or p.day_credited_ms <= duration
                    # Checks: closing and reopening does not confirm more than one interval without an answer.
                    assert confirmed - teacher.confirmed_at_last_answer <= PROMPT_MAX_MS

        # --- reading the database ---------------------------------------------------------------------------------
        def progress_rows(self, s: Any, who: int) -> list[LessonProgress]:
            return list(s.scalars(select(LessonProgress).join(Enrollment).where(
                Enrollment.user_id == self.teachers[who].user_id)))

        def furthest(self, who: int, lesson_id: int) -> int:
            with sessions() as s:
                rows = [p for p in self.progress_rows(s, who) if p.lesson_id == lesson_id]
                return coverage.furthest(rows[0].coverage) if rows else 0

        def confirmed(self, who: int) -> int:
            with sessions() as s:
                return sum(p.credited_ms for p in self.progress_rows(s, who))

        def snapshot(self, exclude: int) -> list[Any]:
            ids = [t.user_id for i, t in enumerate(self.teachers) if i != exclude]
            with sessions() as s:
                pbs = s.execute(select(PlaybackSession.__table__).where(PlaybackSession.user_id.in_(ids))
                                .order_by(PlaybackSession.id)).all()
                progress = s.execute(select(LessonProgress.__table__).join(Enrollment).where(
                    Enrollment.user_id.in_(ids)).order_by(LessonProgress.id)).all()
                learners = s.execute(select(LearnerState.__table__).where(LearnerState.user_id.in_(ids))
                                     .order_by(LearnerState.user_id)).all()
                prompts = s.execute(select(AttentionPrompt.__table__).join(PlaybackSession).where(
                    PlaybackSession.user_id.in_(ids)).order_by(AttentionPrompt.id)).all()
            return [list(map(tuple, rows)) for rows in (pbs, progress, learners, prompts)]

    try:
        run_state_machine_as_test(Viewing, settings=settings(
            # Reproducible (derandomized): the same walks every run, long enough to reach every rule above.
            max_examples=8, stateful_step_count=30, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        ))
    finally:
        with sessions() as s:
            for key, value in saved.items():
                if value is None:
                    row = s.get(PolicySetting, key)
                    if row is not None:
                        s.delete(row)
                else:
                    set_policy(s, key, value, None)
            s.commit()
        forget_cached_policy()
