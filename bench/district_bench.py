"""District-size timings (issue 5, "Speed at district size"), against a running portal whose database holds the
district demo (`portal demo load --size district`: 15,000 teachers × 5 years).

    measure(base_url, cookies) -> {"export_s": …, "queue_page_ms": …, …}

- export_s: the title-review export (`/admin/title-review/export.xlsx`), request sent to last byte received; the
  workbook is checked (a zip with the three sheets) and its teacher rows counted (export_rows).
- queue_page_ms: the district certification queue's first page (median of 5), `queue_path` (default
  `/credits/queue`, the ledger workflow's queue); None when that page is not there.
- title_review_page_ms / honour_page_ms / teachers_page_ms: the title-review report's first page, its honour-list
  filter and the teacher records list (medians).
- server_peak_rss_mb: with `server_pid`, the server process tree's peak resident memory (VmHWM) after the export,
  to show the export's memory stays bounded.

`prepare(database_url)` migrates a database and loads the district into it (what `portal demo load --size district`
adds, without the course library), with a district admin to measure as.

`login_cookie(database_url)` makes a signed-in district admin's cookie without the login form (an `auth_sessions`
row through the accounts service, as a completed sign-in leaves it), since a bench server runs without demo mode
and an admin's password sign-in would then wait for a second factor.

    .venv/bin/python bench/district_bench.py [--prepare] --base-url http://127.0.0.1:8000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench
"""

from __future__ import annotations

import argparse
import io
import json
import secrets
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXPORT_PATH = "/admin/title-review/export.xlsx"
REVIEW_PATH = "/admin/title-review"
QUEUE_PATH = "/credits/queue"
TEACHERS_PATH = "/admin/teachers"


def prepare(database_url: str, teachers: int = 15_000, username: str = "district_admin") -> str:
    """Migrates the database and loads the district (idempotent; no course import, no demo videos), plus a
    district admin to measure as. Returns that admin's username."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.accounts import service as accounts
    from backend.accounts.models import Role, User
    from backend.db import make_engine
    from backend.demo.district import load_district
    from backend.migrate import upgrade
    from backend.people import schools as people

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            district = people.ensure_district(session, "songjiang", "松江区")
            if session.scalar(select(User.id).where(User.username == username)) is None:
                accounts.create_user(
                    session, username=username, display_name="区管理员（测速）", role=Role.district_admin,
                    password=secrets.token_urlsafe(18),
                )  # fmt: skip
            load_district(session, district, teachers=teachers, progress=lambda line: print(f"district: {line}"))
            session.commit()
    finally:
        engine.dispose()
    return username


def login_cookie(database_url: str, username: str = "district_admin") -> dict[str, str]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.accounts import service as accounts
    from backend.accounts.models import User
    from backend.config import Settings
    from backend.db import make_engine

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise SystemExit(f"no user {username} in {database_url}: run `portal demo load --size district`")
            new = accounts.start_session(session, user, 1)
            session.commit()
    finally:
        engine.dispose()
    return {Settings.model_fields["session_cookie_name"].default: new.token}


def _get(base_url: str, path: str, cookies: dict[str, str], sink: Any = None) -> tuple[int, float]:
    """(status, seconds to the last byte). The body goes to `sink` when given, else is read and dropped."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request = urllib.request.Request(base_url.rstrip("/") + path, headers={"Cookie": cookie})  # noqa: S310
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - a URL the operator gives
            while chunk := response.read(1 << 16):
                if sink is not None:
                    sink.write(chunk)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def _median_ms(base_url: str, path: str, cookies: dict[str, str], runs: int = 5) -> float | None:
    times = []
    for _ in range(runs):
        status, seconds = _get(base_url, path, cookies)
        if status != 200:
            return None
        times.append(seconds * 1000)
    return round(statistics.median(times), 1)


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (uvicorn workers), in MB."""
    import os

    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == current:
                    todo.append(int(entry))
    return round(total / 1024, 1)


def measure(
    base_url: str,
    cookies: dict[str, str],
    *,
    queue_path: str = QUEUE_PATH,
    as_of: str | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    query = f"?as_of={as_of}" if as_of else ""
    with tempfile.TemporaryFile() as sink:
        status, seconds = _get(base_url, EXPORT_PATH + query, cookies, sink)
        if status != 200:
            raise SystemExit(f"export answered {status}: is the cookie a district admin's?")
        size = sink.tell()
        sink.seek(0)
        with zipfile.ZipFile(io.BytesIO(sink.read())) as book:
            sheet = book.read("xl/worksheets/sheet1.xml")
            rows = sheet.count(b"<row ") - 1
    result: dict[str, Any] = {
        "export_s": round(seconds, 2),
        "export_bytes": size,
        "export_rows": rows,
        "queue_page_ms": _median_ms(base_url, queue_path, cookies),
        "title_review_page_ms": _median_ms(base_url, REVIEW_PATH + query, cookies),
        "teachers_page_ms": _median_ms(base_url, TEACHERS_PATH, cookies),
        "honour_page_ms": _median_ms(
            base_url, REVIEW_PATH + (query or "?") + ("&" if query else "") + "only=honour", cookies, runs=3
        ),
    }
    if server_pid:
        result["server_peak_rss_mb"] = _peak_rss_mb(server_pid)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", required=True, help="the served database (for the admin's cookie)")
    parser.add_argument("--username", default="district_admin")
    parser.add_argument("--queue-path", default=QUEUE_PATH)
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--server-pid", type=int, default=None)
    parser.add_argument("--prepare", action="store_true", help="first load the district into --database-url")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.database_url, username=args.username)
    cookies = login_cookie(args.database_url, args.username)
    print(
        json.dumps(
            measure(args.base_url, cookies, queue_path=args.queue_path, as_of=args.as_of, server_pid=args.server_pid)
        )
    )


if __name__ == "__main__":
    main()
