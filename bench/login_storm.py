"""Login storm for `make bench` (issue 6): LOGINS_PER_S password logins a second over real HTTP for N seconds.

Each login is `POST /api/v1/auth/token` with a bench teacher's username and password (hashed with the portal's
production argon2id parameters), scheduled at a fixed rate (open loop; latency counts from the scheduled time).
Run beside the heartbeat load to see what a storm of logins does to heartbeat latency. The logins come from
ADDRESSES loopback addresses (127.0.1.1, …), as a morning's sign-ins come from many people: the portal gives each
address only a share of the sign-in rate (issue 14). Last stdout line: JSON.

    python bench/login_storm.py --viewers-file bench/out/viewers.json --port 8000 --rate 50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "bench-password-1234"  # noqa: S105 - bench/setup.py's accounts on a throwaway database
ADDRESSES = 64


async def storm(port: int, usernames: list[str], rate: float, seconds: float, start_at: float = 0.0) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=4)
    clients = [
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30.0,
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.1.{1 + a}", limits=limits),
        )
        for a in range(ADDRESSES)
    ]  # fmt: skip
    try:

        async def login(username: str, scheduled: float, client: httpx.AsyncClient) -> None:
            try:
                r = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
                statuses[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.monotonic() - scheduled)

        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.monotonic()
        tasks = []
        count = int(rate * seconds)
        for i in range(count):
            scheduled = started + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(login(usernames[i % len(usernames)], scheduled, clients[i % ADDRESSES])))
        await asyncio.gather(*tasks)
        wall = time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    ok = statuses.get("200", 0)
    return {"logins": count, "logins_ok": ok, "logins_per_s": round(ok / wall, 1), "login_p50_ms": pct(0.5),
            "login_p99_ms": pct(0.99), "login_statuses": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers-file", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--start-at", type=float, default=0.0, help="begin at this time.time() (after set-up)")
    args = parser.parse_args()
    viewers = json.loads(args.viewers_file.read_text())["viewers"]
    # Teachers from the far end of the list: different accounts each time, none locked by another phase.
    usernames = [v["username"] for v in reversed(viewers) if v.get("username")]
    if not usernames:
        raise SystemExit("the viewers file has no usernames: run the bench setup again (no BENCH_REUSE)")
    print(json.dumps(asyncio.run(storm(args.port, usernames, args.rate, args.seconds, args.start_at))), flush=True)


if __name__ == "__main__":
    main()
