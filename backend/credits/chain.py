"""The tamper-evident ledger: every ledger entry and every status event carries a hash chained to the one before.

Each row of `ledger_entries` and of `ledger_entry_events` stores `chain_prev` (the `chain_hash` of the row before
it in its table, by id; "" for the first) and `chain_hash` = SHA-256 of `chain_prev` and the row's hashed columns
(`HASHED_COLUMNS`, the one list to change when an entry gains a column that says what it is). Both are computed
when the row is written (`stamp`, called by the session hook below for the ORM, and by bulk loaders for theirs),
under a lock, so rows are chained in the order they were written.

`verify` recomputes both chains and reports the first row that was changed, removed or added outside the
application (by direct SQL, say) — `portal ledger verify`. An entry's `status` moves after it is written; its
hash covers the status it was written with, each move is a chained status event, and `verify` also checks that
the events of an entry follow each other and end at the entry's current status, so a status changed by SQL is
caught too. Removing the newest rows leaves no break in the chain: compare the heads `verify` prints (and the
backup manifest records) with the ones you kept.

An entry's induction topics (`ledger_entry_topics`, written with the entry and never changed) are hashed into the
entry: the pseudo-column `topics` (`TOPICS`) is the entry's topic codes, sorted and comma-separated. They are given
to the entry before it is written (`backend.credits.ledger.tag`, which keeps them in the entry's instance info;
the session hook writes the topic rows with the entry), so a topic added or removed by SQL shows as a changed entry.

A migration that adds a hashed column must re-stamp the existing rows (`restamp`), as the migration that
introduced the chain did (and 19b_chain_topics, when the topics joined the entry's hash).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, func, inspect, select, text, update
from sqlalchemy.orm import Session, UOWTransaction

from backend.credits.models import LedgerEntry, LedgerEntryEvent, LedgerEntryTopic, default_training_date
from backend.kit.models import UTCDateTime

# The columns each chained row is hashed over, in this order. "status" of an entry: the status it was written with.
HASHED_COLUMNS: dict[str, tuple[str, ...]] = {
    "ledger_entries": (
        "id", "user_id", "hours", "category", "level", "source", "source_ref", "course_id", "year", "reverses_id",
        "created_at", "trained_on", "status", "topics",
    ),
    "ledger_entry_events": ("id", "entry_id", "from_status", "to_status", "reason", "actor_id", "at"),
}
GENESIS = ""
TOPICS = "topics"  # not a column: the entry's induction topics, sorted and comma-separated ("" for none)
TOPICS_INFO = "chain_topics"  # the key, in a new entry's InstanceState.info, of the topics it is written with
_MODELS = {LedgerEntry: "ledger_entries", LedgerEntryEvent: "ledger_entry_events"}
_LOCK_KEY = 0x1ED6E6  # PostgreSQL advisory lock: one writer of the chains at a time, until it commits


def _table(name: str) -> Table:
    model = LedgerEntry if name == "ledger_entries" else LedgerEntryEvent
    return model.__table__  # type: ignore[return-value]


def canonical(table: Table, column: str, value: Any) -> Any:
    """The value as both databases give it back: decimals at the column's scale, times in UTC to the µs."""
    if value is None:
        return None
    if column not in table.c:  # TOPICS: already its text
        return value
    kind = table.c[column].type
    if isinstance(value, Decimal) or getattr(kind, "scale", None) is not None:
        scale = getattr(kind, "scale", None)
        number = Decimal(value)
        if scale is not None:
            number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        return format(number, "f")
    if isinstance(value, datetime):
        return UTCDateTime().process_bind_param(value, None).isoformat(timespec="microseconds")  # type: ignore[union-attr]
    if isinstance(value, date):
        return value.isoformat()
    return value


def topics_text(codes: Iterable[str]) -> str:
    """An entry's induction topics as its hash covers them: sorted, comma-separated."""
    return ",".join(sorted(set(codes)))


def digest(table_name: str, prev: str, row: Mapping[str, Any], columns: Sequence[str] | None = None) -> str:
    """SHA-256 of the previous row's hash and this row's hashed columns (a migration names the columns of its day).
    An entry without topics (none given, or a bulk loader's row without the key) leaves `topics` out of the payload,
    so untagged entries keep the hashes they had before topics were hashed."""
    table = _table(table_name)
    values = [
        canonical(table, column, row[column])
        for column in columns or HASHED_COLUMNS[table_name]
        if column != TOPICS or row.get(TOPICS)  # an entry without topics hashes as it did before they were hashed
    ]
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    # SQLite: one writer at a time anyway; a transaction whose snapshot went stale cannot write (it fails).


def stamp(connection: Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Gives rows about to be inserted their ids and chain columns (in list order), after the table's last row.
    The caller inserts them in the same transaction."""
    if not rows:
        return
    _lock(connection)
    table = _table(table_name)
    last = connection.execute(
        select(table.c.id, table.c.chain_hash).order_by(table.c.id.desc()).limit(1)
    ).first()
    prev, next_id = (GENESIS, 1) if last is None else (last.chain_hash or GENESIS, last.id + 1)
    if connection.dialect.name == "postgresql":
        ids = sorted(connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table_name, "n": len(rows)},
        ).scalars())
    else:
        ids = list(range(next_id, next_id + len(rows)))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
        row["chain_prev"] = prev
        row["chain_hash"] = prev = digest(table_name, prev, row)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Every ledger entry and status event the ORM is about to insert is stamped first (computed on write)."""
    for model, table_name in _MODELS.items():
        new: list[Any] = [obj for obj in session.new if type(obj) is model]
        if not new:
            continue
        new.sort(key=lambda obj: inspect(obj).insert_order or 0)  # the order they were added
        table = _table(table_name)
        for obj in new:  # defaults are applied at insert, after this: apply them now, as they are hashed
            if isinstance(obj, LedgerEntry):
                default_training_date(obj)
            for column in table.c:
                default = column.default
                if getattr(obj, column.key, None) is None and default is not None and default.is_scalar:
                    setattr(obj, column.key, getattr(default, "arg", None))
        topics = [tuple(inspect(obj).info.pop(TOPICS_INFO, ())) for obj in new]
        rows = [
            {column: getattr(obj, column) for column in HASHED_COLUMNS[table_name] if column != TOPICS}
            for obj in new
        ]
        if table_name == "ledger_entries":
            for row, codes in zip(rows, topics, strict=True):
                row[TOPICS] = topics_text(codes)
        stamp(session.connection(), table_name, rows)
        for obj, row, codes in zip(new, rows, topics, strict=True):
            obj.id, obj.chain_prev, obj.chain_hash = row["id"], row["chain_prev"], row["chain_hash"]
            # The topic rows go in with the entry, in this flush: exactly the topics its hash covers.
            session.add_all(LedgerEntryTopic(entry_id=obj.id, topic=code) for code in sorted(set(codes)))


def restamp(connection: Connection, columns: dict[str, Sequence[str]] | None = None) -> None:
    """Recomputes the chains over every row: in a migration, when the chain is introduced or its hashed columns
    change (`columns`: the tables to restamp and their hashed columns as of that migration). It seals whatever
    the rows hold, tampered or not: run `portal ledger verify` before such an upgrade."""
    initial = _initial_statuses(connection)
    for table_name, hashed in (columns or HASHED_COLUMNS).items():  # only the tables named, when named
        names = tuple(hashed)
        table = _table(table_name)
        topics = _topics(connection) if TOPICS in names else {}
        prev, updates = GENESIS, []
        stored = [table.c[n] for n in dict.fromkeys(("id", *names)) if n != TOPICS]
        rows = connection.execute(select(*stored).order_by(table.c.id))
        for row in rows.mappings().all():
            values = dict(row)
            if table_name == "ledger_entries" and "status" in values:
                values["status"] = initial.get(row["id"], values["status"])
            if TOPICS in names:
                values[TOPICS] = topics.get(row["id"], "")
            h = digest(table_name, prev, values, names)
            updates.append({"b_id": row["id"], "b_prev": prev, "b_hash": h})
            prev = h
        if updates:
            connection.execute(
                update(table).where(table.c.id == bindparam("b_id"))
                .values(chain_prev=bindparam("b_prev"), chain_hash=bindparam("b_hash")),
                updates,
            )


# ---------------------------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class Problem:
    table: str
    row_id: int | None
    what: str

    def __str__(self) -> str:
        where = f"{self.table} row {self.row_id}" if self.row_id is not None else self.table
        return f"{where}: {self.what}"


@dataclass(frozen=True)
class Report:
    rows: dict[str, int]
    heads: dict[str, dict[str, Any]]  # per table: the last row's id and hash (keep them: truncation shows there)
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _topics(connection: Connection) -> dict[int, str]:
    """Each tagged entry's induction topics, as its hash covers them (`topics_text`)."""
    t = LedgerEntryTopic.__table__
    codes: dict[int, list[str]] = {}
    for entry_id, topic in connection.execute(select(t.c.entry_id, t.c.topic)):
        codes.setdefault(entry_id, []).append(topic)
    return {entry_id: topics_text(found) for entry_id, found in codes.items()}


def _initial_statuses(connection: Connection) -> dict[int, str]:
    """Each entry's status when it was written, from its first status event (entries without one: unchanged)."""
    e = _table("ledger_entry_events")
    first: dict[int, str] = {}
    for entry_id, from_status, to_status in connection.execute(
        select(e.c.entry_id, e.c.from_status, e.c.to_status).order_by(e.c.id)
    ):
        first.setdefault(entry_id, from_status if from_status is not None else to_status)
    return first


def _walk(connection: Connection, table_name: str, override: Mapping[int, Mapping[str, Any]]) -> tuple[
    int, dict[str, Any], list[Problem]
]:
    table = _table(table_name)
    names = HASHED_COLUMNS[table_name]
    columns = [table.c[n] for n in dict.fromkeys(("id", *names, "chain_prev", "chain_hash")) if n != TOPICS]
    problems: list[Problem] = []
    prev, prev_id, count = GENESIS, None, 0
    for row in connection.execute(select(*columns).order_by(table.c.id)).mappings():
        count += 1
        values = {**row, **override.get(row["id"], {})}
        if row["chain_hash"] is None:
            problems.append(Problem(table_name, row["id"], "has no hash: it was written outside the application"))
        elif row["chain_prev"] != prev:
            after = f"after row {prev_id}" if prev_id is not None else "at the start"
            problems.append(Problem(
                table_name, row["id"],
                f"the row before it ({after}) was removed, or this row was added outside the application",
            ))
        elif digest(table_name, row["chain_prev"], values) != row["chain_hash"]:
            problems.append(Problem(table_name, row["id"], "was changed outside the application"))
        prev, prev_id = row["chain_hash"] or GENESIS, row["id"]
    return count, {"id": prev_id, "hash": prev}, problems


def verify(connection: Connection, heads: Mapping[str, Mapping[str, Any]] | None = None) -> Report:
    """Both chains, the status history of every entry, and (given the heads recorded earlier, e.g. by a backup)
    that no row up to those heads has gone. Problems are sorted by table, then row id: the first is the earliest."""
    e = _table("ledger_entry_events")
    events: dict[int, list[tuple[int, str | None, str]]] = {}
    for event_id, entry_id, from_status, to_status in connection.execute(
        select(e.c.id, e.c.entry_id, e.c.from_status, e.c.to_status).order_by(e.c.id)
    ):
        events.setdefault(entry_id, []).append((event_id, from_status, to_status))
    # What each entry's hash covers besides its stored columns: the status it was written with, and its topics.
    initial: dict[int, dict[str, Any]] = {entry_id: {TOPICS: text} for entry_id, text in _topics(connection).items()}
    for entry_id, moves in events.items():
        initial.setdefault(entry_id, {})["status"] = moves[0][1] if moves[0][1] is not None else moves[0][2]
    counts: dict[str, int] = {}
    found_heads: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for table_name in HASHED_COLUMNS:
        counts[table_name], found_heads[table_name], found = _walk(
            connection, table_name, initial if table_name == "ledger_entries" else {}
        )
        problems += found
    # Status history: each move starts where the last ended, and the last is the entry's status now.
    ledger = _table("ledger_entries")
    for entry_id, status in connection.execute(select(ledger.c.id, ledger.c.status).order_by(ledger.c.id)):
        moves = events.get(entry_id, [])
        for (_id_a, _from_a, to_a), (id_b, from_b, _to_b) in zip(moves, moves[1:], strict=False):
            if from_b != to_a:
                problems.append(Problem("ledger_entry_events", id_b, f"moves entry {entry_id} from {from_b}, "
                                                                     f"but the move before left it {to_a}"))
        expected = moves[-1][2] if moves else None
        if moves and status != expected:
            problems.append(Problem(
                "ledger_entries", entry_id, f"status is {status}, but its last recorded move was to {expected}"
            ))
    for table_name, head in (heads or {}).items():
        if head.get("id") is None:
            continue
        table = _table(table_name)
        stored = connection.execute(select(table.c.chain_hash).where(table.c.id == head["id"])).scalar()
        if stored is None:
            problems.append(Problem(table_name, head["id"], "the recorded head row is gone (rows were removed)"))
        elif stored != head["hash"]:
            problems.append(Problem(table_name, head["id"], "the recorded head row's hash differs"))
    order = list(HASHED_COLUMNS)
    problems.sort(key=lambda p: (order.index(p.table), p.row_id if p.row_id is not None else 0))
    return Report(counts, found_heads, problems)


def heads(connection: Connection) -> dict[str, dict[str, Any]]:
    """The last row of each chain (id and hash), for a backup manifest or the operator's notebook."""
    found = {}
    for table_name in HASHED_COLUMNS:
        table = _table(table_name)
        row = connection.execute(select(table.c.id, table.c.chain_hash).order_by(table.c.id.desc()).limit(1)).first()
        found[table_name] = {"id": row.id if row else None, "hash": row.chain_hash if row else GENESIS}
    return found
