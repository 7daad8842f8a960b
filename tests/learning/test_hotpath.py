"""Heartbeats through the real HTTP stack and the group-commit writer, on SQLite and PostgreSQL.

Each test tries to gain credit it should not and checks, from the database, that it did not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.kit.state import state_of
from backend.learning.models import AttentionPrompt, Heartbeat, LessonProgress, PlaybackSession
from backend.policies.service import forget_cached_policy, set_policy
from backend.quizzes import service as quizzes
from tests.api.helpers import login
from tests.factories import correct_answers, make_course, make_user

SECOND = 1000


@pytest.fixture
def world(live_session_maker, live_client, clock):  # type: ignore[no-untyped-def]
    """A teacher enrolled in a one-video course (60 s), logged in; helpers to play it."""
    with live_session_maker() as s:
        teacher = make_user(s)
        course = make_course(s, video_ms=(60 * SECOND,), hours="4.0", topics=("family",))
        s.commit()
        lesson_id, course_id, username = course.lessons[0].id, course.id, teacher.username
    token = login(live_client, username)
    live_client.headers["X-CSRF-Token"] = token
    assert live_client.post(f"/api/v1/courses/{course_id}/enrollment").status_code == 201

    class World:
        client = live_client
        sessions = live_session_maker

        def __init__(self) -> None:
            self.lesson_id, self.course_id, self.username = lesson_id, course_id, username

        def start(self, client: TestClient | None = None, start_ms: int = 0) -> dict:
            r = (client or live_client).post(f"/api/v1/lessons/{lesson_id}/playbacks", json={"start_ms": start_ms})
            assert r.status_code == 201, r.text
            return r.json()

        def beat(
            self, pid: str, seq: int, pos_s: float, after_s: float = 15, client: TestClient | None = None, **kw: object
        ):  # type: ignore[no-untyped-def]
            clock.advance(after_s)
            body = {"seq": seq, "position_ms": int(pos_s * SECOND), "playing": True, "visible": True, **kw}
            return (client or live_client).post(f"/api/v1/playbacks/{pid}/heartbeats", json=body)

        def playback(self, pid: str) -> PlaybackSession:
            with live_session_maker() as s:
                return s.get(PlaybackSession, pid)

        def progress(self) -> LessonProgress:
            with live_session_maker() as s:
                return s.scalar(select(LessonProgress).where(LessonProgress.lesson_id == lesson_id))

    return World()


def test_teacher_watches_and_the_credit_is_confirmed_when_the_video_ends(world, clock) -> None:
    pb = world.start()
    assert pb["counting"] is True
    for seq, pos in enumerate((15, 30, 45), start=1):
        r = world.beat(pb["playback_id"], seq, pos)
        assert r.status_code == 200 and r.json()["credited_ms"] == 15 * SECOND
    r = world.beat(pb["playback_id"], 4, 60, ended=True)
    assert r.json()["lesson_covered"] is True
    progress = world.progress()
    assert progress.covered_ms == 60 * SECOND and progress.credited_ms == 60 * SECOND
    assert progress.covered_at is not None


def test_the_closing_beat_closes_the_playback_in_the_writers_own_transaction(world, clock) -> None:
    """Issue 14: no second transaction on another engine in a thread: with the request path's sessions unusable,
    the closing beat still confirms the credit and ends the playback, acknowledged with the lesson covered."""
    pb = world.start()
    for seq, pos in enumerate((15, 30, 45), start=1):
        assert world.beat(pb["playback_id"], seq, pos).status_code == 200

    def no_second_session():  # type: ignore[no-untyped-def]
        raise AssertionError("the heartbeat path opened a session of the request stack")

    state = state_of(world.client.app)
    real, state.sessionmaker = state.sessionmaker, no_second_session
    try:
        r = world.beat(pb["playback_id"], 4, 60, ended=True)
    finally:
        state.sessionmaker = real
    assert r.status_code == 200 and r.json()["lesson_covered"] is True
    assert world.playback(pb["playback_id"]).ended_at is not None
    assert world.progress().credited_ms == 60 * SECOND


def test_an_acknowledged_heartbeat_is_in_the_database(world, clock) -> None:
    pb = world.start()
    r = world.beat(pb["playback_id"], 1, 15)
    assert r.status_code == 200
    with world.sessions() as s:
        stored = s.scalar(select(Heartbeat).where(Heartbeat.playback_id == pb["playback_id"], Heartbeat.seq == 1))
        assert stored is not None and stored.credited_ms == 15 * SECOND and stored.elapsed_ms == 15 * SECOND


def test_a_retried_heartbeat_is_answered_again_but_counted_once(world, clock) -> None:
    pb = world.start()
    first = world.beat(pb["playback_id"], 1, 15).json()
    again = world.beat(pb["playback_id"], 1, 15, after_s=2).json()
    assert again["duplicate"] is True and again["credited_ms"] == 0
    assert again["session_credited_ms"] == first["session_credited_ms"] == 15 * SECOND
    with world.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(Heartbeat).where(Heartbeat.playback_id == pb["playback_id"])) == 1
        )


def test_an_old_or_replayed_sequence_number_is_refused(world, clock) -> None:
    pb = world.start()
    world.beat(pb["playback_id"], 5, 15)
    r = world.beat(pb["playback_id"], 3, 16)
    assert r.status_code == 409 and r.json()["detail"]
    forged = world.beat(pb["playback_id"], 5, 40)  # same seq, different claim
    assert forged.status_code == 409
    assert world.playback(pb["playback_id"]).pending_ms == 15 * SECOND


def test_an_impossible_heartbeat_is_refused_and_its_reason_recorded(world, clock) -> None:
    pb = world.start()
    r = world.beat(pb["playback_id"], 1, 3600)
    assert r.status_code == 422 and "position_out_of_range" in r.json()["detail"]
    with world.sessions() as s:
        stored = s.scalar(select(Heartbeat).where(Heartbeat.playback_id == pb["playback_id"]))
        assert stored.note == "position_out_of_range" and stored.credited_ms == 0


def test_another_teacher_cannot_send_heartbeats_for_my_playback(world, live_client, live_session_maker) -> None:
    pb = world.start()
    with live_session_maker() as s:
        intruder = make_user(s)
        s.commit()
    other = TestClient(live_client.app)
    token = login(other, intruder.username)
    r = other.post(
        f"/api/v1/playbacks/{pb['playback_id']}/heartbeats",
        json={"seq": 1, "position_ms": 15000, "playing": True, "visible": True},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 404
    anonymous = TestClient(live_client.app)
    r = anonymous.post(
        f"/api/v1/playbacks/{pb['playback_id']}/heartbeats",
        json={"seq": 1, "position_ms": 15000, "playing": True, "visible": True},
    )
    assert r.status_code in (401, 403)


def test_two_tabs_only_one_counts_and_the_lease_passes_when_the_first_stops(world, live_client, clock) -> None:
    first = world.start()
    second_tab = TestClient(live_client.app)
    second_tab.cookies = live_client.cookies
    second_tab.headers["X-CSRF-Token"] = live_client.headers["X-CSRF-Token"]
    second = world.start(client=second_tab)
    assert second["counting"] is False and second["note"] == "other_playback"
    a = world.beat(first["playback_id"], 1, 15).json()
    b = world.beat(second["playback_id"], 1, 0, after_s=0, client=second_tab).json()
    assert a["credited_ms"] == 15 * SECOND and b["credited_ms"] == 0 and b["note"] == "other_playback"
    assert b["counting"] is False
    assert live_client.post(f"/api/v1/playbacks/{first['playback_id']}/close").status_code == 200
    taken = world.beat(second["playback_id"], 2, 15, client=second_tab).json()
    assert taken["counting"] is True
    r = world.beat(second["playback_id"], 3, 30, client=second_tab).json()
    assert r["credited_ms"] == 15 * SECOND and r["note"] is None


def test_a_silent_first_tab_lets_go_of_the_lease(world, live_client, clock) -> None:
    first = world.start()
    world.beat(first["playback_id"], 1, 15)
    clock.advance(120)  # the first tab went quiet (phone locked)
    second = world.start()
    assert second["counting"] is True
    assert world.playback(first["playback_id"]).ended_at is not None


def test_a_missed_attention_prompt_costs_the_pending_time(world, live_session_maker, clock) -> None:
    pb = world.start()
    with live_session_maker() as s:
        row = s.get(PlaybackSession, pb["playback_id"])
        row.prompt_due_at = clock.now() + timedelta(seconds=20)
        s.commit()
    world.beat(pb["playback_id"], 1, 15)
    r = world.beat(pb["playback_id"], 2, 30).json()
    assert r["prompt"] is not None and r["prompt"]["seconds_left"] == 60
    seq = 3
    for pos in (45, 60):
        world.beat(pb["playback_id"], seq, pos, after_s=15)
        seq += 1
    r = world.beat(pb["playback_id"], seq, 60, after_s=40, playing=False).json()
    assert r["note"] == "prompt_missed" and r["session_credited_ms"] == 0
    prompt_id = world.playback(pb["playback_id"]).prompt_id
    late = world.client.post(f"/api/v1/playbacks/{pb['playback_id']}/prompts/{prompt_id}")
    assert late.json()["outcome"] == "late" and late.json()["confirmed_ms"] == 0
    with live_session_maker() as s:
        prompt = s.scalar(select(AttentionPrompt).where(AttentionPrompt.playback_id == pb["playback_id"]))
        assert prompt.outcome == "missed" and prompt.dropped_ms == 60 * SECOND
    assert world.progress().credited_ms == 0


def test_an_answered_prompt_confirms_the_time(world, live_session_maker, clock) -> None:
    pb = world.start()
    with live_session_maker() as s:
        s.get(PlaybackSession, pb["playback_id"]).prompt_due_at = clock.now() + timedelta(seconds=20)
        s.commit()
    world.beat(pb["playback_id"], 1, 15)
    prompt = world.beat(pb["playback_id"], 2, 30).json()["prompt"]
    clock.advance(10)
    answer = world.client.post(f"/api/v1/playbacks/{pb['playback_id']}/prompts/{prompt['id']}").json()
    assert answer == {"outcome": "answered", "confirmed_ms": 30 * SECOND, "course_completed": False}
    assert world.progress().credited_ms == 30 * SECOND


def test_the_same_lesson_is_not_credited_twice_a_day(world, clock) -> None:
    pb = world.start()
    for seq, pos in enumerate((15, 30, 45, 60), start=1):
        world.beat(pb["playback_id"], seq, pos)
    world.client.post(f"/api/v1/playbacks/{pb['playback_id']}/close")
    again = world.start()
    r = world.beat(again["playback_id"], 1, 15).json()
    assert r["credited_ms"] == 0 and r["note"] == "lesson_done_today"
    clock.advance(24 * 3600)
    world.client.headers["X-CSRF-Token"] = login(world.client, world.username)  # yesterday's session has ended
    tomorrow = world.start()
    assert world.beat(tomorrow["playback_id"], 1, 15).json()["credited_ms"] == 15 * SECOND


def test_daily_cap_stops_credit(world, live_session_maker, clock) -> None:
    with live_session_maker() as s:
        set_policy(s, "daily_cap_hours", "0.01", None)  # 36 s
        s.commit()
    forget_cached_policy()
    try:
        pb = world.start()
        world.beat(pb["playback_id"], 1, 15)
        world.beat(pb["playback_id"], 2, 30)
        r = world.beat(pb["playback_id"], 3, 45).json()
        assert r["credited_ms"] == 6 * SECOND and r["note"] == "daily_cap"
    finally:
        with live_session_maker() as s:
            set_policy(s, "daily_cap_hours", "6", None)
            s.commit()
        forget_cached_policy()


def test_teacher_completes_course_and_earns_hours_over_the_api(world, live_session_maker, clock) -> None:
    pb = world.start()
    for seq, pos in enumerate((15, 30, 45, 55), start=1):
        world.beat(pb["playback_id"], seq, pos)
    closed = world.client.post(f"/api/v1/playbacks/{pb['playback_id']}/close").json()
    assert closed["credited_ms"] == 55 * SECOND and closed["course_completed"] is False
    with live_session_maker() as s:
        quiz = quizzes.quiz_for_course(s, world.course_id)
        answers = {str(k): v for k, v in correct_answers(quiz).items()}
    result = world.client.post(f"/api/v1/courses/{world.course_id}/quiz/attempts", json={"answers": answers}).json()
    assert result["passed"] and result["course_completed"]
    learning = world.client.get("/api/v1/me/learning").json()
    # Completion writes 4.0 hours awaiting certification: they count (and cover the topic) once certified (issue 13).
    assert learning["hours_this_year_awaiting"] == "4.0" and float(learning["hours_this_year"]) == 0
    assert "family" in learning["induction_missing_topics"]


def test_a_heartbeat_for_an_unknown_playback_gets_a_clear_404(world) -> None:
    r = world.client.post(
        "/api/v1/playbacks/no-such-playback/heartbeats",
        json={"seq": 1, "position_ms": 0, "playing": True, "visible": True},
    )
    assert r.status_code == 404 and r.json()["detail"]
