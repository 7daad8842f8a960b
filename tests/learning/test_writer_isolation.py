"""One bad beat never fails a batch of other teachers' beats (issue 12), on both databases.

The API refuses every value a column cannot hold (tests/security/test_api_numbers.py); this is the second line: a
beat the database refuses anyway is written apart from the rest of its batch, so only its sender gets an error.
"""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from backend.kit.state import state_of
from backend.learning import heartbeats
from backend.learning.hotpath import BeatRequest, _database_failed, writer_of
from backend.learning.judge import Beat
from backend.learning.models import Heartbeat
from tests.api.helpers import login
from tests.factories import make_user
from tests.learning.test_hotpath import world  # noqa: F401 - the fixture


def test_a_beat_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(world, live_client) -> None:  # noqa: F811
    app = live_client.app
    cookie = state_of(app).settings.session_cookie_name
    playbacks, hashes = [], []
    for _ in range(3):  # three teachers watching the same lesson
        client = TestClient(app)
        with world.sessions() as s:
            teacher = make_user(s)
            s.commit()
        client.headers["X-CSRF-Token"] = login(client, teacher.username)
        assert client.post(f"/api/v1/courses/{world.course_id}/enrollment").status_code == 201
        playbacks.append(world.start(client=client)["playback_id"])
        hashes.append(heartbeats.credential("", client.cookies.get(cookie)))
    writer = writer_of(app)

    async def one_batch() -> list[object]:
        batch = [
            BeatRequest(playbacks[0], hashes[0], Beat(1, 0, True, True, client_ms=1_000)),
            BeatRequest(playbacks[1], hashes[1], Beat(1, 0, True, True, client_ms=2**63)),  # no column holds it
            BeatRequest(playbacks[2], hashes[2], Beat(1, 0, True, True, client_ms=3_000)),
        ]
        await writer._write_isolated(batch)
        return [r.future.exception() or r.future.result() for r in batch]

    first, bad, third = asyncio.run_coroutine_threadsafe(one_batch(), writer.loop).result(timeout=60)
    assert isinstance(bad, Exception)
    assert first.status == third.status == 200  # type: ignore[attr-defined]
    with world.sessions() as s:
        stored = set(s.scalars(select(Heartbeat.playback_id).where(Heartbeat.playback_id.in_(playbacks))))
    assert stored == {playbacks[0], playbacks[2]}


def test_when_the_database_itself_fails_the_batch_fails_whole() -> None:
    """Connection-level failures are not split beat by beat (that would only multiply the failed attempts)."""
    assert _database_failed(OperationalError("select 1", {}, Exception("database is locked")))
    assert _database_failed(ConnectionRefusedError()) and not _database_failed(OverflowError("too large"))
