"""The heartbeat hot path: group commit.

Every viewer sends a heartbeat every 15 s, so this is the busiest request by far. Concurrent heartbeats are
queued and written in batches: one transaction reads the playback rows of the whole batch (locked), the pure
judge (`backend.learning.judge`) decides each beat, and the rows and heartbeat records are written back with
one array statement each (PostgreSQL) or one `executemany` each (SQLite). Every request is answered only after
its batch has committed, so an acknowledged heartbeat is durable; a crash before the commit loses only
unacknowledged beats, which the player resends.

Rare follow-ups (closing a playback, taking over the lease) run in the same transaction, after the batch's rows are
written (`heartbeats.follow_up`, through an ORM session on the writer's own connection): the beat and its
follow-up commit together, before the beat is acknowledged (issue 14: before, a closing beat opened a second
transaction on a second engine in a thread).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import Session

from backend.accounts import credentials
from backend.accounts.credentials import Presented, Purpose
from backend.db import configure_sqlite, watch_pool, where_key_in
from backend.kit import clock, load, metrics
from backend.kit.state import state_of
from backend.learning import heartbeats
from backend.learning.judge import Beat, State, Verdict, judge
from backend.learning.models import AttentionPrompt, Heartbeat, LearnerState, PlaybackSession
from backend.policies.service import Policy, load_policy_async

log = logging.getLogger("portal.hotpath")
P = PlaybackSession.__table__
H = Heartbeat.__table__
MAX_BATCH = 512
WRITERS = 2


def async_url(url: str) -> str:
    if url.startswith("sqlite:"):
        return url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@dataclass
class BeatRequest:
    playback_id: str
    credential: Presented
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
    lesson_covered: bool = False
    course_completed: bool = False


_holder = P.alias("holder")
_learner = LearnerState.__table__
_LOAD = select(
    P,
    _holder.c.last_beat_at.label("holder_beat_at"),
    _holder.c.ended_at.label("holder_ended_at"),
    _learner.c.active_playback_id,
).select_from(
    P.outerjoin(_learner, _learner.c.user_id == P.c.user_id).outerjoin(
        _holder, _holder.c.id == _learner.c.active_playback_id
    )
)

# PostgreSQL batch writes (HeartbeatWriter._store). Column lists name the keys of _row_values and _record.
_UPDATE_COLUMNS = (
    "b_id",
    "last_seq",
    "last_beat_at",
    "last_position_ms",
    "last_client_ms",
    "bank_ms",
    "pending_ms",
    "pending_coverage",
    "rejected_ms",
    "prompt_state",
    "prompt_id",
    "prompt_deadline",
    "day_budget_ms",
    "lesson_budget_ms",
    "last_note",
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
    "playback_id",
    "seq",
    "received_at",
    "position_ms",
    "playing",
    "visible",
    "client_ms",
    "elapsed_ms",
    "credited_ms",
    "rejected_ms",
    "covered_from_ms",
    "covered_to_ms",
    "note",
)
_INSERT_SQL = """
INSERT INTO heartbeats (playback_id, seq, received_at, position_ms, playing, visible, client_ms, elapsed_ms,
  credited_ms, rejected_ms, covered_from_ms, covered_to_ms, note)
SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::bool[], $6::bool[], $7::bigint[],
  $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::text[])
"""


def writer_of(app: Any) -> HeartbeatWriter:
    """The application's heartbeat writer, started by the app's lifespan (backend/kit/state.py keeps it untyped:
    the ground imports no domain)."""
    writer: HeartbeatWriter = state_of(app).heartbeats
    return writer


class HeartbeatWriter:
    def __init__(self, database_url: str, meter: load.RateMeter | None = None) -> None:
        # Counts the heartbeats written, for work that gives way to them (the app passes the hashing pool's meter).
        self.meter = meter or load.RateMeter()
        url = async_url(database_url)
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"pool_size": 4, "max_overflow": 4} if not self.is_sqlite else {}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            # SQLite: the write lock at BEGIN, so a batch's reads cannot go stale before its writes.
            configure_sqlite(self.engine.sync_engine, always_immediate=True)
        watch_pool(self.engine.sync_engine, "heartbeats")
        self.queue: asyncio.Queue[BeatRequest] = asyncio.Queue()
        # PostgreSQL: WRITERS batches in flight at once, each on its own connection, so the next batch is judged
        # while the last one waits for its commit (a batch's time is mostly round trips, not CPU). Row locks
        # (FOR UPDATE, taken in id order) keep two batches holding beats of one playback in order. SQLite has
        # one writer at a time anyway (BEGIN IMMEDIATE).
        self.writers = 1 if self.is_sqlite else WRITERS
        self.tasks: list[asyncio.Task[None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        if not self.tasks:
            self.loop = asyncio.get_running_loop()
            self.tasks = [asyncio.create_task(self._run(), name=f"heartbeat-writer-{i}") for i in range(self.writers)]

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

    async def submit(self, playback_id: str, credential: Presented, beat: Beat) -> BeatOutcome:
        if asyncio.get_running_loop() is not self.loop:
            # Called from another event loop (a second test client): hand over to the writer's loop.
            handed = asyncio.run_coroutine_threadsafe(self._submit_here(playback_id, credential, beat), self.loop)
            return await asyncio.wrap_future(handed)
        return await self._submit_here(playback_id, credential, beat)

    async def _submit_here(self, playback_id: str, credential: Presented, beat: Beat) -> BeatOutcome:
        request = BeatRequest(playback_id, credential, beat)
        await self.queue.put(request)
        return await request.future

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            metrics.QUEUE_LENGTH.labels("heartbeats").set(self.queue.qsize())
            await self._write_isolated(batch)
            self.meter.add(len(batch))

    async def _write_isolated(self, batch: list[BeatRequest]) -> None:
        """Writes a batch and answers its beats. When the database refuses the batch for the sake of one beat's
        values, the batch is split by playback and its halves written apart, until the bad beat fails alone and every
        other teacher's beat is stored (issue 12). When the database itself failed (connection lost, locked), the
        whole batch fails: nobody is acknowledged, clients resend."""
        started = time.perf_counter()
        try:
            outcomes = await self._write(batch)
        except Exception as exc:
            groups = list(_by_playback(batch).values())
            if len(groups) < 2 or _database_failed(exc):
                metrics.WRITER_FAILURES.inc()
                log.exception("heartbeat batch of %d failed", len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                return
            log.warning("heartbeat batch of %d refused (%s): written in parts", len(batch), type(exc).__name__)
            half = len(groups) // 2
            await self._write_isolated([r for group in groups[:half] for r in group])
            await self._write_isolated([r for group in groups[half:] for r in group])
            return
        for request, outcome in zip(batch, outcomes, strict=True):
            if not request.future.done():
                request.future.set_result(outcome)
        metrics.count_heartbeats(Tally(map(_outcome_label, outcomes)), len(batch), time.perf_counter() - started)

    async def _write(self, batch: list[BeatRequest]) -> list[BeatOutcome]:
        async with self.engine.begin() as conn:
            policy = await load_policy_async(conn)  # the process's one policy cache
            now = clock.now()
            # The one credential check (backend.accounts.credentials), for the whole batch in this transaction.
            users = await credentials.check_batch(
                conn, {r.credential for r in batch}, Purpose.heartbeat, policy, sqlite=self.is_sqlite
            )
            rows = await self._load(conn, sorted({r.playback_id for r in batch}))
            outcomes: list[BeatOutcome | None] = [None] * len(batch)
            by_playback: dict[str, list[int]] = defaultdict(list)
            for index, request in enumerate(batch):
                row = rows.get(request.playback_id)
                user = users.get(request.credential)
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
                        prompts_issued.append(
                            {
                                "id": state.prompt_id,
                                "playback_id": playback_id,
                                "issued_at": now,
                                "deadline": state.prompt_deadline,
                            }
                        )
                    if verdict.prompt_missed_ms is not None and row["prompt_id"]:
                        prompts_missed.append({"b_id": row["prompt_id"], "dropped_ms": verdict.prompt_missed_ms})
                    outcomes[index] = _outcome(row, state, beat, verdict, now, policy)
                if changed:
                    updates.append(_row_values(playback_id, state, verdict.note))

            await self._store(conn, updates, records)
            if prompts_issued:
                await conn.execute(
                    insert(AttentionPrompt.__table__),
                    [{**p, "outcome": "open", "confirmed_ms": 0, "dropped_ms": 0} for p in prompts_issued],
                )
            if prompts_missed:
                ap = AttentionPrompt.__table__
                await conn.execute(
                    update(ap)
                    .where(ap.c.id == bindparam("b_id"), ap.c.outcome == "open")
                    .values(outcome="missed", dropped_ms=bindparam("dropped_ms")),
                    prompts_missed,
                )
            # Last, once the batch's rows and prompts are written: closing and lease takeovers read them.
            await self._follow_ups(conn, batch, outcomes, policy)
        return [o if o is not None else BeatOutcome(500, "internal") for o in outcomes]

    async def _follow_ups(
        self, conn: AsyncConnection, batch: list[BeatRequest], outcomes: list[BeatOutcome | None], policy: Policy
    ) -> None:
        """Closing playbacks and lease takeovers of the batch, in its transaction (an ORM session joined to it)."""
        wanted = [
            i for i, o in enumerate(outcomes) if o is not None and o.status == 200 and (o.wants_close or o.wants_lease)
        ]
        if not wanted:
            return

        def run(sync_conn: Connection) -> dict[int, heartbeats.FollowUp]:
            done: dict[int, heartbeats.FollowUp] = {}
            with Session(bind=sync_conn, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
                for i in wanted:
                    o = outcomes[i]
                    assert o is not None
                    done[i] = heartbeats.follow_up(s, batch[i].playback_id, o.wants_close, o.wants_lease, policy)
                s.commit()  # releases the savepoint: the changes are the batch transaction's, committed with it
            return done

        for i, follow in (await conn.run_sync(run)).items():
            o = outcomes[i]
            assert o is not None
            outcomes[i] = replace(
                o, lesson_covered=follow.lesson_covered, course_completed=follow.course_completed,
                counting=o.counting if follow.counting is None else follow.counting,
            )  # fmt: skip

    async def _load(self, conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
        stmt, params = self._by_keys(
            _LOAD if self.is_sqlite else _LOAD.order_by(P.c.id).with_for_update(of=P), set(ids)
        )
        return {row["id"]: dict(row) for row in (await conn.execute(stmt, params)).mappings()}

    def _by_keys(self, query: Select[Any], keys: set[str]) -> tuple[Select[Any], dict[str, Any]]:
        """`query` restricted to rows whose key (its first column) is one of `keys` (backend.db.where_key_in)."""
        return where_key_in(query, query.selected_columns[0], keys, self.is_sqlite)  # type: ignore[no-any-return]

    async def _store(self, conn: AsyncConnection, updates: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
        """The batch's playback rows and heartbeat records: on PostgreSQL one `UPDATE … FROM unnest(…)` and one
        `INSERT … SELECT unnest(…)` on the transaction's own connection (a fraction of the cost of executemany);
        elsewhere one executemany each."""
        if self.is_sqlite:
            if updates:
                await conn.execute(
                    update(P)
                    .where(P.c.id == bindparam("b_id"))
                    .values({c: bindparam(c) for c in updates[0] if c != "b_id"}),
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
                select(H.c.position_ms, H.c.credited_ms, H.c.note).where(
                    H.c.playback_id == row["id"], H.c.seq == beat.seq
                )
            )
        ).first()
        if stored is None or stored.position_ms != beat.position_ms:
            return BeatOutcome(409, "old_heartbeat", seq=beat.seq)
        # A retry of a stored beat: answered as before, nothing counted twice.
        return BeatOutcome(
            200,
            seq=beat.seq,
            user_id=row["user_id"],
            credited_ms=0,
            note=stored.note,
            duplicate=True,
            session_credited_ms=state.credited_ms + state.pending_ms,
            coverage=state.seen_coverage,
            duration_ms=state.duration_ms,
            counting=state.holds_lease and state.prompt_state != "missed",
        )


def _outcome_label(outcome: BeatOutcome) -> str:
    """accepted, duplicate (a resend), or why it was refused (not_found, old_heartbeat, time_travel, …)."""
    if outcome.status == 200:
        return "duplicate" if outcome.duplicate else "accepted"
    return outcome.error or str(outcome.status)


def _by_playback(batch: list[BeatRequest]) -> dict[str, list[BeatRequest]]:
    groups: dict[str, list[BeatRequest]] = defaultdict(list)
    for request in batch:
        groups[request.playback_id].append(request)
    return groups


def _database_failed(exc: BaseException) -> bool:
    """The database (or the way to it) failed, as opposed to refusing one beat's values."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


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
        and (now - row["holder_beat_at"]).total_seconds() < policy.viewing.lease_seconds
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
        # A check open at the end keeps the playback open until it is answered (a close would drop the credit).
        wants_close=beat.ended and s.prompt_state != "open",
        wants_lease=(not s.holds_lease and not holder_live) or new_day,
    )
