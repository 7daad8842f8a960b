"""The baseline for `make bench` (issue 3): the same server stack's minimal write endpoint.

`POST /bench/baseline` validates a small JSON body with pydantic and inserts one row into `bench_probe` with its
own commit, through its own SQLAlchemy AsyncEngine on asyncpg (one transaction per request, no batching). The
heartbeat hot path is measured against it.

Bench code, not the portal's: it is mounted only by the bench's server (bench/server.py), and it creates its
`bench_probe` table itself on first use (no migration puts it into a deployment's schema).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.kit import clock
from backend.kit.state import app_state
from backend.learning.hotpath import async_url

router = APIRouter(prefix="/bench", include_in_schema=False)

probe = Table(
    "bench_probe",
    MetaData(),
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("viewer", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("position_ms", Integer, nullable=False),
    Column("playing", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

_engines: dict[int, AsyncEngine] = {}
_lock = asyncio.Lock()


async def _engine(request: Request) -> AsyncEngine:
    """One engine per event loop (per worker), created on first use, disposed at process exit."""
    key = id(asyncio.get_running_loop())
    engine = _engines.get(key)
    if engine is None:
        async with _lock:
            engine = _engines.get(key)
            if engine is None:
                url = async_url(app_state(request).settings.database_url)
                # A fixed pool (no overflow): overflow connections would be opened and closed per request.
                kwargs = {} if url.startswith("sqlite") else {"pool_size": 16, "max_overflow": 0}
                engine = create_async_engine(url, **kwargs)
                async with engine.begin() as conn:
                    await conn.run_sync(probe.create, checkfirst=True)
                _engines[key] = engine
    return engine


class ProbeIn(BaseModel):
    viewer: int = Field(ge=0)
    seq: int = Field(ge=1, le=10_000_000)
    position_ms: int = Field(ge=0, le=100 * 3600 * 1000)
    playing: bool


class ProbeOut(BaseModel):
    seq: int
    stored: bool


@router.post("/baseline", response_model=ProbeOut)
async def baseline(body: ProbeIn, request: Request) -> ProbeOut:
    engine = await _engine(request)
    async with engine.begin() as conn:
        await conn.execute(
            insert(probe).values(
                viewer=body.viewer,
                seq=body.seq,
                position_ms=body.position_ms,
                playing=body.playing,
                received_at=clock.now(),
            )
        )
    return ProbeOut(seq=body.seq, stored=True)
