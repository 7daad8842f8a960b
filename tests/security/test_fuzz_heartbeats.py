"""Schemathesis on the busiest request, `POST /api/v1/playbacks/{id}/heartbeats`, which the heartbeat lane answers on
its own database connections (backend/learning/heartbeat_lane.py): so on committed rows, as the playback's own
teacher, not inside the rolled-back world of test_fuzz_api.py. No 5xx; every documented answer matches its schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from schemathesis.python.asgi import get_client

from tests.api.helpers import login
from tests.factories import make_course, make_user
from tests.security.test_fuzz_api import CHECKS, DATABASES, EXAMPLES, HEARTBEATS, fuzz_settings


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_heartbeats_never_fail_and_answer_as_declared(live_session_maker, live_client) -> None:  # type: ignore[no-untyped-def]
    with live_session_maker() as s:
        teacher = make_user(s)
        course = make_course(s, video_ms=(60_000,))
        s.commit()
        course_id, lesson_id, username = course.id, course.lessons[0].id, teacher.username
    token = login(live_client, username)
    headers = {"X-CSRF-Token": token}
    assert live_client.post(f"/api/v1/courses/{course_id}/enrollment", headers=headers).status_code == 201
    started = live_client.post(f"/api/v1/lessons/{lesson_id}/playbacks", json={"start_ms": 0}, headers=headers)
    assert started.status_code == 201, started.text
    playback_id = started.json()["playback_id"]
    cookies = dict(live_client.cookies)
    app = live_client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == HEARTBEATS)
    client = get_client(app)

    @fuzz_settings(max(EXAMPLES * 2, 6))
    @given(case=operation.as_strategy(path_parameters={"playback_id": playback_id}))
    def run(case: schemathesis.Case) -> None:
        response = case.call(session=client, headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
