"""The heartbeat hot path honours the session rules: watching keeps a session alive past the idle timeout, and
an idle or ended session is refused."""

from __future__ import annotations

from tests.learning.test_hotpath import world  # noqa: F401 - the shared fixture: a teacher, a course, a client


def test_watching_keeps_the_session_alive_and_idling_ends_it(world, clock) -> None:  # noqa: F811
    pb = world.start()
    # 34 minutes of beats a minute apart (a slow connection), rewatching: longer than the 30-minute idle timeout,
    # without a single page request.
    for seq in range(1, 35):
        r = world.beat(pb["playback_id"], seq, (seq * 15) % 60, after_s=60)
        assert r.status_code == 200, (seq, r.text)
    assert world.client.get("/api/v1/me").status_code == 200
    r = world.beat(pb["playback_id"], 35, 15, after_s=31 * 60)
    assert r.status_code == 401


def test_a_session_ended_everywhere_is_refused_by_the_hot_path(world, clock) -> None:  # noqa: F811
    pb = world.start()
    assert world.beat(pb["playback_id"], 1, 15).status_code == 200
    token = world.client.headers["X-CSRF-Token"]
    assert world.client.post("/account/logout-everywhere", data={"csrf_token": token}).status_code in (200, 303)
    assert world.beat(pb["playback_id"], 2, 30).status_code == 401
