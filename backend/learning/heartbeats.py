"""Accepting one heartbeat: the request-facing half of the hot path, shared by the FastAPI route (documented in
OpenAPI) and the ASGI fast lane that serves the same URL without the framework's per-request machinery
(backend/learning/heartbeat_lane.py). The writing half is backend/learning/hotpath.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from backend.accounts.credentials import Presented
from backend.kit.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from backend.kit.i18n import _
from backend.kit.numbers import BigInt, Bool, Int
from backend.learning import coverage, playbacks
from backend.learning.judge import Beat
from backend.learning.models import LessonProgress, PlaybackSession
from backend.policies.service import Policy

if TYPE_CHECKING:  # the writer imports this module
    from backend.learning.hotpath import HeartbeatWriter


class HeartbeatIn(BaseModel):
    """Strict (backend/kit/numbers.py): a string, a boolean or a fraction where a number belongs is refused."""

    seq: Annotated[Int, Field(ge=1, le=10_000_000)]
    position_ms: Annotated[Int, Field(ge=0, le=100 * 3600 * 1000)]
    playing: Bool
    visible: Bool
    ended: Bool = False
    client_ms: Annotated[BigInt, Field(ge=0)] | None = None


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


def credential(authorization: str, session_cookie: str | None) -> Presented:
    """The bearer token or session cookie the writer checks (backend.accounts.credentials, in the beat's batch)."""
    presented = Presented.of(authorization, session_cookie)
    if presented is None or not presented.digest:
        raise NotAuthenticated(_("Please log in first."))
    return presented


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


def follow_up(session: Session, playback_id: str, close: bool, lease: bool, policy: Policy) -> FollowUp:
    """The rare work after a beat is judged: close the playback (confirming its credit) or take over the lease.
    Run by the heartbeat writer inside its own batch transaction (`session` joins it), so the beat, the close and
    the lease commit together, before the beat is acknowledged."""
    completed, counting = False, None
    playback = session.get(PlaybackSession, playback_id)
    assert playback is not None
    if close:
        playback, completed = playbacks.close_by_id(session, playback.user_id, playback_id, policy)
    elif lease:
        counting = playbacks.take_over_lease(session, playback_id, policy)
    progress = session.get(LessonProgress, playback.progress_id)
    covered = progress is not None and progress.covered_at is not None
    session.flush()
    return FollowUp(covered, completed, counting)


async def accept(writer: HeartbeatWriter, playback_id: str, credential: Presented, body: HeartbeatIn) -> HeartbeatOut:
    """Acknowledged only after it is stored: returns after the batch holding the beat (and its follow-up, closing
    the playback or taking the lease) has committed."""
    beat = Beat(
        seq=body.seq,
        position_ms=body.position_ms,
        playing=body.playing,
        visible=body.visible,
        ended=body.ended,
        client_ms=body.client_ms,
    )
    outcome = await writer.submit(playback_id, credential, beat)
    if outcome.status in _BEAT_ERRORS:
        raise _BEAT_ERRORS[outcome.status]()
    if outcome.status == 422:
        raise InvalidInput(_("This heartbeat is impossible and was refused (%(reason)s)."), reason=outcome.error)
    return HeartbeatOut(
        seq=outcome.seq,
        credited_ms=outcome.credited_ms,
        note=outcome.note,
        duplicate=outcome.duplicate,
        counting=outcome.counting,
        session_credited_ms=outcome.session_credited_ms,
        covered_ms=coverage.total(outcome.coverage),
        duration_ms=outcome.duration_ms,
        coverage=outcome.coverage,
        lesson_covered=outcome.lesson_covered,
        course_completed=outcome.course_completed,
        prompt=PromptOut(id=outcome.prompt_id, seconds_left=outcome.prompt_seconds_left or 0)
        if outcome.prompt_id
        else None,
    )
