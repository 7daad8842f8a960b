"""CPU per request of the server stack, without HTTP: C concurrent clients call the ASGI app in this process.

Reads the viewers of the last `make bench` run (bench/out/viewers.json, their seq/position from state.json) and
reports this process's CPU per request (the app, the group-commit writer, SQLAlchemy and asyncpg) and the CPU
PostgreSQL's backends spent per request. Contention from other processes on the machine barely moves these
figures, unlike throughput.

    .venv/bin/python bench/inproc.py --target heartbeat -n 6000 -c 128
    .venv/bin/python bench/inproc.py --target baseline
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import DATABASE_URL, OUT, SECRET_KEY, pids_cpu, postgres_pids  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("heartbeat", "baseline"), default="heartbeat")
    parser.add_argument("-n", type=int, default=6000, help="requests measured (after 300 per client warm-up)")
    parser.add_argument("-c", type=int, default=128, help="concurrent clients")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=DATABASE_URL, DEMO_MODE="false", SECRET_KEY=SECRET_KEY)

    import uvloop

    from backend.app import create_app
    from bench.baseline import router as baseline_router

    data = json.loads((OUT / "viewers.json").read_text())
    viewers = data["viewers"]
    state_file = OUT / "state.json"
    state = json.loads(state_file.read_text())["viewers"] if state_file.exists() else [[0, 0, 0] for _ in viewers]
    app = create_app()
    app.include_router(baseline_router)
    statuses: Counter[int] = Counter()

    def request(i: int) -> tuple[dict[str, Any], bytes]:
        v, st = viewers[i], state[i]
        st[0] += 1
        st[1] = min(st[1] + 15_000, data["duration_ms"])
        st[2] = max(st[2] + 1, int(time.time() * 1000))
        if args.target == "heartbeat":
            body = b'{"seq":%d,"position_ms":%d,"playing":true,"visible":true,"client_ms":%d}' % tuple(st)
            path = f"/api/v1/playbacks/{v['playback_id']}/heartbeats"
            auth = [(b"cookie", f"portal_session={v['cookie']}; portal_csrf={v['csrf_cookie']}".encode()),
                    (b"x-csrf-token", v["csrf"].encode())]
        else:
            body = b'{"viewer":%d,"seq":%d,"position_ms":%d,"playing":true}' % (i, st[0], st[1])
            path = "/bench/baseline"
            auth = [(b"authorization", b"Bearer " + data["api_token"].encode())]
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"accept", b"application/json"),
                   *auth, (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
        return scope, body

    async def one(i: int) -> None:
        scope, body = request(i)
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] += 1

        await app(scope, receive, send)

    async def run() -> str:
        inner = getattr(app, "app", app)
        async with inner.router.lifespan_context(inner):
            async def clients(total: int) -> None:
                counter = iter(range(total))

                async def client() -> None:
                    for k in counter:
                        await one((k * 7919) % len(viewers))

                await asyncio.gather(*(client() for _ in range(args.c)))

            await clients(300 * args.c // 10)
            statuses.clear()
            pg = postgres_pids()
            pg0, wall, cpu = pids_cpu(pg), time.perf_counter(), time.process_time()
            await clients(args.n)
            wall, cpu, pg_cpu = time.perf_counter() - wall, time.process_time() - cpu, pids_cpu(pg) - pg0
        return (f"{args.target}: server {1e6 * cpu / args.n:.0f} us/request "
                f"(one core: {args.n / cpu:.0f}/s), postgres {1e6 * pg_cpu / args.n:.0f} us/request, "
                f"{args.n / wall:.0f}/s in-process; status {dict(statuses)}")

    print(uvloop.run(run()))
    state_file.write_text(json.dumps({"viewers": state}))


if __name__ == "__main__":
    main()
