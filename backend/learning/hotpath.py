"""The heartbeat hot path: group commit.

Every viewer sends a heartbeat every 15 s, so this is the busiest request by far. Concurrent heartbeats are
queued and written in batches: one transaction reads the playback rows of the whole batch (locked), the pure
judge (`backend.learning.judge`) decides each beat, and the rows and heartbeat records are written back with
one array statement each (PostgreSQL) or one `executemany` each (SQLite). Every request is answered only after
its batch has committed, so an acknowledged heartbeat is durable; a crash before the commit loses only
unacknowledged beats, which the player resends.

Rare follow-ups (closing a playback, taking over the lease) go through the slow path after the commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, event, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from backend.accounts.models import ApiToken, AuthSession
from backend.kit import clock, load
from backend.learning.judge import Beat, State, Verdict, judge
from backend.learning.models import AttentionPrompt, Heartbeat, LearnerState, PlaybackSession
from backend.policies.models import PolicySetting
from backend.policies.service import Policy, policy_from_rows

log = logging.getLogger("portal.hotpath")
P = PlaybackSession.__table__
H = Heartbeat.__table__
MAX_BATCH = 512
WRITERS = 2
_POLICY_SECONDS = 10.0


def async_url(url: str) -> str:
    if url.startswith("sqlite:"):
        return url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


@dataclass
class BeatRequest:
    playback_id: str
    token_hash: str
    beat: Beat
    future: asyncio.Future[BeatOutcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(frozen=True)
class BeatOutcome:
    status: int  # 200 accepted or duplicate; 401/404 unknown; 409 old or ended; 422 impossible (recorded)
    error: str | None = None
    seq: int = 0
    user_id: int | None = None
    credited_ms: int = 0
    note: str | None = None
    duplicate: bool = False
    session_credited_ms: int = 0
    coverage: list[list[int]] = field(default_factory=list)
    duration_ms: int = 0
    counting: bool = False
    prompt_id: str | None = None
    prompt_seconds_left: int | None = None
    wants_close: bool = False
    wants_lease: bool = False


def _pad(items: list[str]) -> list[str]:
    """Pads an IN-list to a power of two, so the database sees a handful of statement shapes, not hundreds."""
    size = 1
    while size < len(items):
        size *= 2
    return items + [items[-1]] * (size - len(items))


_holder = P.alias("holder")
_learner = LearnerState.__table__
_LOAD = select(
    P, _holder.c.last_beat_at.label("holder_beat_at"), _holder.c.ended_at.label("holder_ended_at"),
    _learner.c.active_playback_id,
).select_from(
    P.outerjoin(_learner, _learner.c.user_id == P.c.user_id).outerjoin(
        _holder, _holder.c.id == _learner.c.active_playback_id
    )
)
# Only signed-in sessions ("active", not half-way through a second factor) within both timeouts (issue 6).
_AUTH_SESSION = select(
    AuthSession.token_hash, AuthSession.user_id, AuthSession.expires_at, AuthSession.last_seen_at,
    AuthSession.created_at,
).where(AuthSession.stage == "active")
# A viewer's beats keep the session alive; last-seen is written at most once a minute (service.TOUCH_SECONDS).
_TOUCH_SECONDS = 60
_AUTH_TOKEN = select(ApiToken.token_hash, ApiToken.user_id, ApiToken.expires_at, ApiToken.revoked_at)

# PostgreSQL batch writes (HeartbeatWriter._store). Column lists name the keys of _row_values and _record.
_UPDATE_COLUMNS = (
    "b_id", "last_seq", "last_beat_at", "last_position_ms", "last_client_ms", "bank_ms", "pending_ms",
    "pending_coverage", "rejected_ms", "prompt_state", "prompt_id", "prompt_deadline", "day_budget_ms",
    "lesson_budget_ms", "last_note",
)
_UPDATE_SQL = """
UPDATE playback_sessions AS p SET last_seq = u.last_seq, last_beat_at = u.last_beat_at,
  last_position_ms = u.last_position_ms, last_client_ms = u.last_client_ms, bank_ms = u.bank_ms,
  pending_ms = u.pending_ms, pending_coverage = u.pending_coverage::json, rejected_ms = u.rejected_ms,
  prompt_state = u.prompt_state, prompt_id = u.prompt_id, prompt_deadline = u.prompt_deadline,
  day_budget_ms = u.day_budget_ms, lesson_budget_ms = u.lesson_budget_ms, last_note = u.last_note
FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::bigint[], $6::int[], $7::int[], $8::text[],
            $9::int[], $10::text[], $11::text[], $12::timestamptz[], $13::int[], $14::int[], $15::text[])
  AS u(id, last_seq, last_beat_at, last_position_ms, last_client_ms, bank_ms, pending_ms, pending_coverage,
       rejected_ms, prompt_state, prompt_id, prompt_deadline, day_budget_ms, lesson_budget_ms, last_note)
WHERE p.id = u.id
"""
_INSERT_COLUMNS = (
    "playback_id", "seq", "received_at", "position_ms", "playing", "visible", "client_ms", "elapsed_ms",
    "credited_ms", "rejected_ms", "covered_from_ms", "covered_to_ms", "note",
)
_INSERT_SQL = """
INSERT INTO heartbeats (playback_id, seq, received_at, position_ms, playing, visible, client_ms, elapsed_ms,
  credited_ms, rejected_ms, covered_from_ms, covered_to_ms, note)
SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::bool[], $6::bool[], $7::bigint[],
  $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::text[])
"""


class HeartbeatWriter:
    def __init__(self, database_url: str) -> None:
        url = async_url(database_url)
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"pool_size": 4, "max_overflow": 4} if not self.is_sqlite else {}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_immediate(self.engine)
        self.queue: asyncio.Queue[BeatRequest] = asyncio.Queue()
        # PostgreSQL: WRITERS batches in flight at once, each on its own connection, so the next batch is judged
        # while the last one waits for its commit (a batch's time is mostly round trips, not CPU). Row locks
        # (FOR UPDATE, taken in id order) keep two batches holding beats of one playback in order. SQLite has
        # one writer at a time anyway (BEGIN IMMEDIATE).
        self.writers = 1 if self.is_sqlite else WRITERS
        self.tasks: list[asyncio.Task[None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.policy: Policy | None = None
        self.policy_at = 0.0

    async def start(self) -> None:
        if not self.tasks:
            self.loop = asyncio.get_running_loop()
            self.tasks = [
                asyncio.create_task(self._run(), name=f"heartbeat-writer-{i}") for i in range(self.writers)
            ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.tasks = []
        await self.engine.dispose()

    async def submit(self, playback_id: str, token_hash: str, beat: Beat) -> BeatOutcome:
        if asyncio.get_running_loop() is not self.loop:
            # Called from another event loop (a second test client): hand over to the writer's loop.
            handed = asyncio.run_coroutine_threadsafe(self._submit_here(playback_id, token_hash, beat), self.loop)
            return await asyncio.wrap_future(handed)
        return await self._submit_here(playback_id, token_hash, beat)

    async def _submit_here(self, playback_id: str, token_hash: str, beat: Beat) -> BeatOutcome:
        request = BeatRequest(playback_id, token_hash, beat)
        await self.queue.put(request)
        return await request.future

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                outcomes = await self._write(batch)
            except Exception as exc:  # the whole batch failed: nobody is acknowledged, clients resend
                log.exception("heartbeat batch of %d failed", len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request, outcome in zip(batch, outcomes, strict=True):
                if not request.future.done():
                    request.future.set_result(outcome)
            load.heartbeats.add(len(batch))

    async def _current_policy(self, conn: AsyncConnection) -> Policy:
        if self.policy is None or time.monotonic() - self.policy_at > _POLICY_SECONDS:
            rows = (await conn.execute(select(PolicySetting.key, PolicySetting.value))).all()
            self.policy, self.policy_at = policy_from_rows((k, v) for k, v in rows), time.monotonic()
        return self.policy

    async def _write(self, batch: list[BeatRequest]) -> list[BeatOutcome]:
        async with self.engine.begin() as conn:
            policy = await self._current_policy(conn)
            now = clock.now()
            users = await self._authenticate(conn, {r.token_hash for r in batch}, now, policy)
            rows = await self._load(conn, sorted({r.playback_id for r in batch}))
            outcomes: list[BeatOutcome | None] = [None] * len(batch)
            by_playback: dict[str, list[int]] = defaultdict(list)
            for index, request in enumerate(batch):
                row = rows.get(request.playback_id)
                user = users.get(request.token_hash)
                if user is None:
                    outcomes[index] = BeatOutcome(401, "not_authenticated")
                elif row is None or row["user_id"] != user:
                    outcomes[index] = BeatOutcome(404, "not_found")
                else:
                    by_playback[request.playback_id].append(index)

            updates: list[dict[str, Any]] = []
            records: list[dict[str, Any]] = []
            prompts_issued: list[dict[str, Any]] = []
            prompts_missed: list[dict[str, Any]] = []
            for playback_id, indices in by_playback.items():
                row = rows[playback_id]
                state = _state(row)
                ended = row["ended_at"] is not None
                changed = False
                for index in sorted(indices, key=lambda i: batch[i].beat.seq):
                    beat = batch[index].beat
                    if beat.seq <= state.last_seq:
                        outcomes[index] = await self._repeat(conn, row, state, beat)
                        continue
                    if ended:
                        outcomes[index] = BeatOutcome(409, "playback_ended", seq=beat.seq)
                        continue
                    verdict = judge(state, beat, now, policy)
                    state, changed = verdict.state, True
                    records.append(_record(playback_id, beat, now, verdict))
                    if verdict.prompt_issued:
                        prompts_issued.append({"id": state.prompt_id, "playback_id": playback_id, "issued_at": now,
                                               "deadline": state.prompt_deadline})
                    if verdict.prompt_missed_ms is not None and row["prompt_id"]:
                        prompts_missed.append({"b_id": row["prompt_id"], "dropped_ms": verdict.prompt_missed_ms})
                    outcomes[index] = _outcome(row, state, beat, verdict, now, policy)
                if changed:
                    updates.append(_row_values(playback_id, state, verdict.note))

            await self._store(conn, updates, records)
            if prompts_issued:
                await conn.execute(insert(AttentionPrompt.__table__), [
                    {**p, "outcome": "open", "confirmed_ms": 0, "dropped_ms": 0} for p in prompts_issued
                ])
            if prompts_missed:
                ap = AttentionPrompt.__table__
                await conn.execute(
                    update(ap).where(ap.c.id == bindparam("b_id"), ap.c.outcome == "open")
                    .values(outcome="missed", dropped_ms=bindparam("dropped_ms")),
                    prompts_missed,
                )
        return [o if o is not None else BeatOutcome(500, "internal") for o in outcomes]

    async def _authenticate(self, conn: AsyncConnection, hashes: set[str], now: Any, policy: Policy) -> dict[str, int]:
        found: dict[str, int] = {}
        idle_since = now - timedelta(minutes=policy.session_idle_minutes)
        touch_before = now - timedelta(seconds=_TOUCH_SECONDS)
        stale: set[str] = set()
        rows = (await conn.execute(*self._by_keys(_AUTH_SESSION, hashes))).all()
        for token_hash, user_id, expires_at, last_seen_at, created_at in rows:
            seen = last_seen_at or created_at
            if expires_at > now and seen > idle_since:
                found[token_hash] = user_id
                if seen <= touch_before:
                    stale.add(token_hash)
        if stale:
            touch = update(AuthSession).values(last_seen_at=now)
            key = AuthSession.token_hash
            if self.is_sqlite:
                await conn.execute(touch.where(key.in_(_pad(sorted(stale)))))
            else:
                await conn.execute(touch.where(key == any_(bindparam("keys", type_=ARRAY(String)))),
                                   {"keys": list(stale)})  # fmt: skip
        missing = {h for h in hashes if h not in found}
        if missing:
            for token_hash, user_id, expires_at, revoked_at in (
                await conn.execute(*self._by_keys(_AUTH_TOKEN, missing))
            ).all():
                if expires_at > now and revoked_at is None:
                    found[token_hash] = user_id
        return found

    async def _load(self, conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
        stmt, params = self._by_keys(
            _LOAD if self.is_sqlite else _LOAD.order_by(P.c.id).with_for_update(of=P), set(ids)
        )
        return {row["id"]: dict(row) for row in (await conn.execute(stmt, params)).mappings()}

    def _by_keys(self, query: Select[Any], keys: set[str]) -> tuple[Select[Any], dict[str, Any]]:
        """`query` restricted to rows whose key (its first column) is one of `keys`. PostgreSQL: one array
        parameter, so every batch is the same prepared statement. SQLite: an IN list padded to a power of two,
        so it sees a handful of statement shapes, not hundreds."""
        key = query.selected_columns[0]
        if self.is_sqlite:
            return query.where(key.in_(_pad(sorted(keys)))), {}
        return query.where(key == any_(bindparam("keys", type_=ARRAY(String)))), {"keys": list(keys)}

    async def _store(self, conn: AsyncConnection, updates: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
        """The batch's playback rows and heartbeat records: on PostgreSQL one `UPDATE … FROM unnest(…)` and one
        `INSERT … SELECT unnest(…)` on the transaction's own connection (a fraction of the cost of executemany);
        elsewhere one executemany each."""
        if self.is_sqlite:
            if updates:
                await conn.execute(
                    update(P).where(P.c.id == bindparam("b_id")).values(
                        {c: bindparam(c) for c in updates[0] if c != "b_id"}
                    ),
                    updates,
                )
            if records:
                await conn.execute(insert(H), records)
            return
        driver = (await conn.get_raw_connection()).driver_connection
        if updates:
            columns = [[row[c] for row in updates] for c in _UPDATE_COLUMNS]
            coverage_at = _UPDATE_COLUMNS.index("pending_coverage")
            columns[coverage_at] = [json.dumps(v) for v in columns[coverage_at]]
            await driver.execute(_UPDATE_SQL, *columns)
        if records:
            await driver.execute(_INSERT_SQL, *[[row[c] for row in records] for c in _INSERT_COLUMNS])

    async def _repeat(self, conn: AsyncConnection, row: dict[str, Any], state: State, beat: Beat) -> BeatOutcome:
        stored = (
            await conn.execute(
                select(H.c.position_ms, H.c.credited_ms, H.c.note)
                .where(H.c.playback_id == row["id"], H.c.seq == beat.seq)
            )
        ).first()
        if stored is None or stored.position_ms != beat.position_ms:
            return BeatOutcome(409, "old_heartbeat", seq=beat.seq)
        # A retry of a stored beat: answered as before, nothing counted twice.
        return BeatOutcome(
            200, seq=beat.seq, user_id=row["user_id"], credited_ms=0, note=stored.note, duplicate=True,
            session_credited_ms=state.credited_ms + state.pending_ms, coverage=state.seen_coverage,
            duration_ms=state.duration_ms, counting=state.holds_lease and state.prompt_state != "missed",
        )


def _state(row: dict[str, Any]) -> State:
    return State(
        duration_ms=row["duration_ms"],
        last_seq=row["last_seq"],
        last_beat_at=row["last_beat_at"],
        last_position_ms=row["last_position_ms"],
        last_client_ms=row["last_client_ms"],
        bank_ms=row["bank_ms"],
        credited_ms=row["credited_ms"],
        pending_ms=row["pending_ms"],
        pending_coverage=row["pending_coverage"] or [],
        known_coverage=row["known_coverage"] or [],
        rejected_ms=row["rejected_ms"],
        prompt_state=row["prompt_state"],
        prompt_id=row["prompt_id"],
        prompt_due_at=row["prompt_due_at"],
        prompt_deadline=row["prompt_deadline"],
        holds_lease=row["holds_lease"],
        day_budget_ms=row["day_budget_ms"],
        lesson_budget_ms=row["lesson_budget_ms"],
    )


def _row_values(playback_id: str, s: State, note: str | None) -> dict[str, Any]:
    return {
        "b_id": playback_id,
        "last_seq": s.last_seq,
        "last_beat_at": s.last_beat_at,
        "last_position_ms": s.last_position_ms,
        "last_client_ms": s.last_client_ms,
        "bank_ms": s.bank_ms,
        "pending_ms": s.pending_ms,
        "pending_coverage": s.pending_coverage,
        "rejected_ms": s.rejected_ms,
        "prompt_state": s.prompt_state,
        "prompt_id": s.prompt_id,
        "prompt_deadline": s.prompt_deadline,
        "day_budget_ms": s.day_budget_ms,
        "lesson_budget_ms": s.lesson_budget_ms,
        "last_note": note,
    }


def _record(playback_id: str, beat: Beat, now: Any, v: Verdict) -> dict[str, Any]:
    return {
        "playback_id": playback_id,
        "seq": beat.seq,
        "received_at": now,
        "position_ms": beat.position_ms,
        "playing": beat.playing,
        "visible": beat.visible,
        "client_ms": beat.client_ms,
        "elapsed_ms": v.elapsed_ms,
        "credited_ms": v.credited_ms,
        "rejected_ms": v.rejected_ms,
        "covered_from_ms": v.covered[0] if v.covered else None,
        "covered_to_ms": v.covered[1] if v.covered else None,
        "note": v.note,
    }


def _outcome(row: dict[str, Any], s: State, beat: Beat, v: Verdict, now: Any, policy: Policy) -> BeatOutcome:
    holder_live = (
        row["active_playback_id"] is not None
        and row["active_playback_id"] != row["id"]
        and row["holder_ended_at"] is None
        and row["holder_beat_at"] is not None
        and (now - row["holder_beat_at"]).total_seconds() < policy.lease_seconds
    )
    from backend.learning.playbacks import day_of

    new_day = s.holds_lease and row["budget_day"] != day_of(now)
    seconds_left = None
    if s.prompt_state == "open" and s.prompt_deadline is not None:
        seconds_left = max(0, int((s.prompt_deadline - now).total_seconds()))
    return BeatOutcome(
        status=422 if v.impossible else 200,
        error=v.impossible,
        seq=beat.seq,
        user_id=row["user_id"],
        credited_ms=v.credited_ms,
        note=v.note,
        session_credited_ms=s.credited_ms + s.pending_ms,
        coverage=s.seen_coverage,
        duration_ms=s.duration_ms,
        counting=s.holds_lease and s.prompt_state != "missed",
        prompt_id=s.prompt_id if s.prompt_state == "open" else None,
        prompt_seconds_left=seconds_left,
        wants_close=beat.ended,
        wants_lease=(not s.holds_lease and not holder_live) or new_day,
    )


def _sqlite_immediate(engine: AsyncEngine) -> None:
    """SQLite: take the write lock at BEGIN, so a batch's reads cannot go stale before its writes."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")
