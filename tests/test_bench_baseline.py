"""The bench's baseline endpoint is bench code (bench/baseline.py), not the portal's: a migrated portal has neither
the route nor the `bench_probe` table; the bench's server adds the endpoint, which makes its own table."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from backend.app import create_app
from backend.config import Settings
from backend.db import make_engine
from backend.migrate import upgrade
from bench import baseline

BODY = {"viewer": 7, "seq": 1, "position_ms": 15_000, "playing": True}
BEARER = {"authorization": "Bearer any", "accept": "application/json"}  # as the load generator sends it


def test_the_portal_has_no_bench_table_and_the_bench_makes_its_own(empty_database_url: str, tmp_path: Path) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        assert "bench_probe" not in inspect(engine).get_table_names()
        portal = create_app(Settings(database_url=empty_database_url, media_root=tmp_path / "media"))
        with TestClient(portal) as client:
            assert client.post("/bench/baseline", json=BODY, headers=BEARER).status_code == 404

        portal.include_router(baseline.router)  # what bench/server.py does
        with TestClient(portal) as client:
            answer = client.post("/bench/baseline", json=BODY, headers=BEARER)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"seq": 1, "stored": True}
        assert "bench_probe" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(baseline.probe)) == 1
    finally:
        engine.dispose()
