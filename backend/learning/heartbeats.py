"""Accepting one heartbeat: the request-facing half of the hot path, shared by the FastAPI route (documented in
OpenAPI) and the ASGI fast lane that serves the same URL without the framework's per-request machinery
(backend/learning/heartbeat_lane.py). The writing half is backend/learning/hotpath.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from backend.accounts.service import digest_token
from backend.db import begin_for_write
from backend.kit.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from backend.kit.i18n import _
from backend.learning import coverage, playbacks
from backend.learning.judge import Beat
from backend.learning.models import LessonProgress, PlaybackSession
from backend.policies.service import load_policy


class HeartbeatIn(BaseModel):
    seq: int = Field(ge=1, le=10_000_000)
    position_ms: int = Field(ge=0, le=100 * 3600 * 1000)
    playing: bool
    visible: bool
    ended: bool = False
    client_ms: int | None = Field(None, ge=0)


class PromptOut(BaseModel):
    id: str
    seconds_left: int


class HeartbeatOut(BaseModel):
    seq: int
    credited_ms: int
    note: str | None
    duplicate: bool
    counting: bool
    session_credited_ms: int
    covered_ms: int
    duration_ms: int
    coverage: list[list[int]]
    lesson_covered: bool
    course_completed: bool
    prompt: PromptOut | None


def credential(authorization: str, session_cookie: str | None) -> str:
    """The hashed bearer token or session cookie the writer authenticates (in the same transaction as the beat)."""
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    token = token or session_cookie
    if not token:
        raise NotAuthenticated(_("Please log in first."))
    return digest_token(token)


_BEAT_ERRORS = {
    401: lambda: NotAuthenticated(_("Please log in first.")),
    404: lambda: NotFound(_("This playback session does not exist.")),
    409: lambda: Conflict(_("This heartbeat is older than one already received, or the playback has ended.")),
}


@dataclass(frozen=True)
class FollowUp:
    lesson_covered: bool
    course_completed: bool
    counting: bool | None


def _follow_up(app: Any, playback_id: str, close: bool, lease: bool) -> FollowUp:
    """The slow path after a committed beat: close the playback (confirming its credit) or take over the lease."""
    with app.state.sessionmaker() as session:
        begin_for_write(session)  # SQLite: it reads, then writes rows the heartbeat writer also writes
        policy = load_policy(session)
        completed, counting = False, None
        playback = session.get(PlaybackSession, playback_id)
        assert playback is not None
        if close:
            playback, completed = playbacks.close_by_id(session, playback.user_id, playback_id, policy)
        elif lease:
            counting = playbacks.take_over_lease(session, playback_id, policy)
        progress = session.get(LessonProgress, playback.progress_id)
        covered = progress is not None and progress.covered_at is not None
        session.commit()
        return FollowUp(covered, completed, counting)


async def accept(app: Any, playback_id: str, token_hash: str, body: HeartbeatIn) -> HeartbeatOut:
    """Acknowledged only after it is stored: returns after the batch holding the beat has committed."""
    beat = Beat(
        seq=body.seq, position_ms=body.position_ms, playing=body.playing, visible=body.visible, ended=body.ended,
        client_ms=body.client_ms,
    )
    outcome = await app.state.heartbeats.submit(playback_id, token_hash, beat)
    if outcome.status in _BEAT_ERRORS:
        raise _BEAT_ERRORS[outcome.status]()
    if outcome.status == 422:
        raise InvalidInput(_("This heartbeat is impossible and was refused (%(reason)s)."), reason=outcome.error)
    follow = FollowUp(False, False, None)
    if outcome.wants_close or outcome.wants_lease:
        follow = await run_in_threadpool(_follow_up, app, playback_id, outcome.wants_close, outcome.wants_lease)
    return HeartbeatOut(
        seq=outcome.seq,
        credited_ms=outcome.credited_ms,
        note=outcome.note,
        duplicate=outcome.duplicate,
        counting=outcome.counting if follow.counting is None else follow.counting,
        session_credited_ms=outcome.session_credited_ms,
        covered_ms=coverage.total(outcome.coverage),
        duration_ms=outcome.duration_ms,
        coverage=outcome.coverage,
        lesson_covered=follow.lesson_covered,
        course_completed=follow.course_completed,
        prompt=PromptOut(id=outcome.prompt_id, seconds_left=outcome.prompt_seconds_left or 0)
        if outcome.prompt_id else None,
    )
