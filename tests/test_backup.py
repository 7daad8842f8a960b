"""The disaster drill: `portal backup`, then `portal restore` into an empty database and an empty storage, and
everything compared — every table row by row, every media object by checksum — and the ledger verified.
SQLite with media on disk, PostgreSQL with media in S3 (the moto server)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from backend.accounts.models import Role
from backend.config import Settings
from backend.credits import ledger as credits
from backend.credits import workflow
from backend.db import make_engine
from backend.kit.models import Base
from backend.media.storage import Storage, build_storage
from backend.migrate import upgrade
from tests.conftest import new_postgresql_database
from tests.factories import make_user
from tests.media.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, s3_server  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
PORTAL = str(ROOT / ".venv" / "bin" / "portal")


@dataclass
class Site:
    """One installation: its database and its media storage, as environment variables and as objects."""

    env: dict[str, str]
    settings: Settings
    storage: Storage

    def portal(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PORTAL, *args], env=self.env, capture_output=True, text=True, check=False)  # noqa: S603


def _site(database_url: str, media: dict[str, str]) -> Site:
    env = {**os.environ, "DATABASE_URL": database_url, "DEMO_MODE": "true", **media}
    values = {k.lower(): v for k, v in env.items() if k in {"DATABASE_URL", "STORAGE_BACKEND", "MEDIA_ROOT",
                                                             "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY",
                                                             "S3_BUCKET"}}
    settings = Settings(**values)  # type: ignore[arg-type]
    return Site(env, settings, build_storage(settings))


@pytest.fixture(params=["sqlite", "postgresql"])
def sites(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, Site, Site]]:
    """The running site, the empty one the backup is restored into, and one more empty one."""
    if request.param == "sqlite":
        def media(n: int) -> dict[str, str]:
            return {"STORAGE_BACKEND": "local", "MEDIA_ROOT": str(tmp_path / f"media-{n}")}
        urls = [f"sqlite:///{tmp_path / f'site-{n}.db'}" for n in range(3)]
        upgrade(urls[0])
        yield tuple(_site(url, media(n)) for n, url in enumerate(urls))  # type: ignore[misc]
        return
    endpoint, run = request.getfixturevalue("s3_server"), uuid.uuid4().hex[:12]

    def s3(n: int) -> dict[str, str]:
        return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT": endpoint, "S3_ACCESS_KEY": S3_ACCESS_KEY,
                "S3_SECRET_KEY": S3_SECRET_KEY, "S3_BUCKET": f"drill-{run}-{n}"}
    with new_postgresql_database("portal_drill") as a, new_postgresql_database("portal_drill") as b, \
            new_postgresql_database("portal_drill") as c:
        upgrade(a)
        yield tuple(_site(url, s3(n)) for n, url in enumerate((a, b, c)))  # type: ignore[misc]
        for url in (a, b, c):
            make_engine(url).dispose()


def _fill(site: Site) -> None:
    """Teachers, a ledger with every kind of move, and media: what a district cannot afford to lose."""
    engine = make_engine(site.settings.database_url)
    with engine.connect() as connection, connection.begin():
        from sqlalchemy.orm import Session

        session = Session(bind=connection)
        teacher = make_user(session, Role.teacher, "T-01")
        admin = make_user(session, Role.school_admin, "T-01")
        district = make_user(session, Role.district_admin, None)
        entries = [
            credits.record_offline_attendance(session, user_id=teacher.id, hours=Decimal(h), category="practice",
                                              level="school", session_ref=f"drill:{n}", day=date(2026, 11, 2))
            for n, h in enumerate(("3.0", "6.0", "1.5", "2.0"))
        ]
        workflow.apply(session, admin, [e.id for e in entries[:3]], "verify")
        workflow.apply(session, district, [entries[0].id, entries[1].id], "certify")
        workflow.apply(session, district, [entries[2].id], "reject", reason="证明不全")
        workflow.reverse(session, district, entries[1].id, reason="重复登记")
        session.flush()
    engine.dispose()
    site.storage.put_stream("lessons/1/video.mp4", _bytes(os.urandom(700_000)), 700_000, "video/mp4")
    site.storage.put_stream("evidence/9/proof.pdf", _bytes(b"%PDF-1.4 drill"), 14, "application/pdf")
    site.storage.put_stream("covers/3/cover.png", _bytes(b"\x89PNG drill"), 10, "image/png")


def _bytes(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


def _tables(site: Site) -> dict[str, list[tuple]]:
    engine = make_engine(site.settings.database_url)
    with engine.connect() as connection:
        found = {
            table.name: [tuple(row) for row in connection.execute(
                select(table).order_by(*(table.primary_key.columns or table.columns))
            )]
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return found


def _media(site: Site) -> dict[str, str]:
    found = {}
    for key in site.storage.list_keys():
        size = site.storage.stat(key).size
        found[key] = hashlib.sha256(b"".join(site.storage.read_range(key, 0, size - 1))).hexdigest()
    return found


def test_backup_restore_into_empty_storage_compares_equal_and_the_ledger_verifies(sites, tmp_path) -> None:
    running, fresh, spare = sites
    _fill(running)
    folder = tmp_path / "backup-1"
    made = running.portal("backup", str(folder))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {item["key"] for item in manifest["media"]} == set(_media(running))
    assert manifest["ledger_heads"]["ledger_entries"]["id"] is not None

    restored = fresh.portal("restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "ledger verified" in restored.stdout
    before, after = _tables(running), _tables(fresh)
    assert before["ledger_entries"] and before["ledger_entry_events"] and before["users"]
    assert after == before  # every table, row by row
    assert _media(fresh) == _media(running)  # every object, by checksum
    verified = fresh.portal("ledger", "verify", "--heads", str(folder / "manifest.json"))
    assert verified.returncode == 0 and "ledger verified" in verified.stdout, verified.stderr

    # Never over what is there: the restored site is no longer empty.
    again = fresh.portal("restore", str(folder))
    assert again.returncode == 1 and "not empty" in again.stderr

    # A damaged backup is refused before anything is written.
    (folder / "media" / "covers" / "3" / "cover.png").write_bytes(b"\x89PNG other")
    damaged = spare.portal("restore", str(folder))
    assert damaged.returncode == 1 and "covers/3/cover.png is missing or damaged" in damaged.stderr
    assert list(spare.storage.list_keys()) == []

    # A credit hour changed by SQL in the restored database is reported, by its row.
    entry_id = after["ledger_entries"][0][0]
    engine = make_engine(fresh.settings.database_url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER ledger_entries_no_rewrite"))
        connection.execute(text("UPDATE ledger_entries SET hours = 30.0 WHERE id = :id"), {"id": entry_id})
    engine.dispose()
    tampered = fresh.portal("ledger", "verify")
    assert tampered.returncode == 2
    assert f"FIRST PROBLEM ledger_entries row {entry_id}: was changed outside the application" in tampered.stderr
