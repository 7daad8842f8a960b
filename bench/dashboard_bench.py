"""District-size dashboard timings (issue 17), against a database holding the district demo
(`portal demo load --size district`: 15,000 teachers × 5 years).

- snapshot_s: building one month's snapshot (every figure of every school and tier, as of the last month's end),
  in this process, committed.
- dashboard_ms / school_dashboard_ms: server time of the district dashboard and of one school's dashboard (median
  of 5, after the live snapshot is built), measured in process through the ASGI app, so the figure is the server's
  work without the network.

    .venv/bin/python -m bench.dashboard_bench --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select


def measure(database_url: str, runs: int = 5) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import sessionmaker

    from backend.app import create_app
    from backend.config import Settings
    from backend.dashboards import figures, service
    from backend.db import make_engine
    from backend.people.models import School
    from bench.district_bench import login_cookie

    engine = make_engine(database_url)
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    today = service.today()
    with maker() as session:
        started = time.perf_counter()
        figures.build_snapshot(
            session, kind="month", year=figures.month_end(today).year, as_of=figures.month_end(today)
        )
        session.commit()
        snapshot_s = time.perf_counter() - started
        figures.build_snapshot(session, kind="live", year=today.year, as_of=today)
        session.commit()
        school_id = session.scalar(select(School.id).where(School.code == "SJD-010")) or session.scalar(
            select(School.id).order_by(School.id)
        )
    cookies = login_cookie(database_url)
    with tempfile.TemporaryDirectory() as media:
        app = create_app(Settings(database_url=database_url, media_root=Path(media), demo_mode=True))
        with TestClient(app, base_url="http://testserver", cookies=cookies) as client:

            def median_ms(path: str) -> float:
                times = []
                for _ in range(runs + 1):
                    started = time.perf_counter()
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                    times.append((time.perf_counter() - started) * 1000)
                return round(statistics.median(times[1:]), 1)  # the first request warms caches

            result = {
                "dashboard_ms": median_ms("/dashboard"),
                "school_dashboard_ms": median_ms(f"/dashboard/schools/{school_id}"),
                "snapshot_s": round(snapshot_s, 2),
            }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    print(json.dumps(measure(args.database_url)))


if __name__ == "__main__":
    main()
