"""`portal backup DIR` and `portal restore DIR`: the database and the media, and proof of what was saved.

A backup folder holds:

    manifest.json       what is here: the database file and its SHA-256, the schema revision, the heads of the
                        ledger's hash chains (backend/credits/chain.py), and every media object (key, size,
                        content type, SHA-256)
    database.dump       PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, taken while the portal runs)
    database.sqlite     SQLite: the online backup API (a consistent copy while the portal runs)
    media/<key>         each media object, as stored

`restore` checks every checksum first and refuses a damaged folder; it restores only into an empty database and an
empty storage (it never overwrites), then verifies the ledger against the heads the backup recorded, so a restore
that lost or changed a credit hour says so. The database is saved before the media: an object referenced by a
saved row was stored before that row was committed, so it is in the media listing taken afterwards.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import sqlite3
import subprocess  # nosec B404 - pg_dump / pg_restore with fixed arguments, no shell
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url, text

from backend.config import Settings
from backend.credits import chain
from backend.db import engine_for
from backend.media.storage import Storage

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why (for the operator, in English)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, the password passed in the environment (not argv)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    parts = {"host": parsed.host, "port": parsed.port, "user": parsed.username, "dbname": parsed.database}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v), env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


@dataclass(frozen=True)
class Summary:
    folder: Path
    database: str
    media_objects: int
    media_bytes: int
    ledger_heads: dict[str, dict[str, Any]]


Say = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


def backup(settings: Settings, storage: Storage, folder: Path, say: Say = _quiet) -> Summary:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings.database_url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        heads = chain.heads(connection)
    if settings.is_sqlite:
        database = folder / "database.sqlite"
        source = sqlite3.connect(str(_sqlite_path(settings.database_url)))
        target = sqlite3.connect(str(database))
        try:
            source.backup(target)  # SQLite's online backup: a consistent copy while others write
        finally:
            target.close()
            source.close()
    else:
        database = folder / "database.dump"
        dsn, env = _libpq(settings.database_url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(database), dsn], env)
    say(f"database: {database.name} ({database.stat().st_size} bytes)")
    media: list[dict[str, Any]] = []
    total = 0
    for key in storage.list_keys():
        stored = storage.stat(key)
        target_path = folder / "media" / key
        target_path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with target_path.open("wb") as out:
            if stored.size:
                for chunk in storage.read_range(key, 0, stored.size - 1):
                    digest.update(chunk)
                    out.write(chunk)
        size = target_path.stat().st_size
        if size != stored.size:
            raise BackupError(f"media {key}: read {size} bytes of {stored.size}")
        media.append({"key": key, "size": size, "content_type": stored.content_type, "sha256": digest.hexdigest()})
        total += size
    say(f"media: {len(media)} objects, {total} bytes")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"kind": "sqlite" if settings.is_sqlite else "postgresql", "file": database.name,
                     "sha256": _sha256(database), "revision": sorted(revision)},
        "ledger_heads": heads,
        "media": media,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return Summary(folder, database.name, len(media), total, heads)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} does not exist: not a backup folder")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def check(folder: Path) -> dict[str, Any]:
    """The manifest, after every file it names was found with its checksum; BackupError on the first that is not."""
    manifest = read_manifest(folder)
    database = folder / manifest["database"]["file"]
    if not database.is_file() or _sha256(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} is missing or damaged (checksum differs)")
    for item in manifest["media"]:
        path = folder / "media" / item["key"]
        if not path.is_file() or path.stat().st_size != item["size"] or _sha256(path) != item["sha256"]:
            raise BackupError(f"media object {item['key']} is missing or damaged (checksum differs)")
    return manifest


def restore(settings: Settings, storage: Storage, folder: Path, say: Say = _quiet) -> chain.Report:
    """Into an empty database and an empty storage only. Returns the ledger's verification against the backup."""
    manifest = check(folder)
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["database"]["kind"] != kind:
        raise BackupError(f"this backup is of a {manifest['database']['kind']} database; DATABASE_URL is {kind}")
    engine = engine_for(settings.database_url)
    if settings.is_sqlite:
        target = _sqlite_path(settings.database_url)
        if target.exists() and target.stat().st_size > 0:
            engine.dispose()
            with sqlite3.connect(str(target)) as probe:
                tables = probe.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if tables:
                raise BackupError(f"{target} is not empty: restore into a new database")
    else:
        with engine.connect() as connection:
            if inspect(connection).get_table_names():
                raise BackupError("the database is not empty: restore into a new, empty database")
    if next(iter(storage.list_keys()), None) is not None:
        raise BackupError("the media storage is not empty: restore into a new, empty bucket or folder")
    database = folder / manifest["database"]["file"]
    if settings.is_sqlite:
        target.parent.mkdir(parents=True, exist_ok=True)
        engine.dispose()
        source, copy = sqlite3.connect(str(database)), sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        dsn, env = _libpq(settings.database_url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", dsn, str(database)], env)
    engine.dispose()
    say(f"database: restored from {database.name}")
    for item in manifest["media"]:
        path = folder / "media" / item["key"]
        content_type = item.get("content_type") or mimetypes.guess_type(item["key"])[0] or "application/octet-stream"
        stored = storage.put_file(item["key"], path, content_type)
        if stored.size != item["size"]:
            raise BackupError(f"media {item['key']}: stored {stored.size} bytes of {item['size']}")
    say(f"media: {len(manifest['media'])} objects restored")
    with engine.connect() as connection:
        return chain.verify(connection, manifest["ledger_heads"])
