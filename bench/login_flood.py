"""A sign-in flood from one address, and real people signing in from others meanwhile (issue 14).

One client (ATTACKER, 127.0.0.1) sends `POST /api/v1/auth/token` with wrong passwords for the people's own names as
fast as FLOOD_CONNECTIONS connections allow, for `seconds`; after the first second, each person signs in with the
right password from an address of their own (127.0.0.2, 127.0.0.3, … — all loopback), trying again after a
"busy, try again" as people do, at most TRIES times, RETRY_SECONDS apart. Reports how many of the people got in
(`legit_logins_ok_during_flood` of `legit_logins_during_flood`; `…_first_try` at the first try) and what the
flood got. Used by `make bench` (bench/run.py) and by tests/security/test_served_login_flood.py. Last stdout line: JSON.

    python bench/login_flood.py --port 8000 --password PW --seconds 8 name1 name2 …
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

import httpx

ATTACKER = "127.0.0.1"
FLOOD_CONNECTIONS = 16
TRIES = 3
RETRY_SECONDS = 1.0


def _client(port: int, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30.0)


async def flood(port: int, usernames: list[str], password: str, seconds: float = 8.0) -> dict[str, Any]:
    """Bounded in time and count: the flood stops after `seconds`, each person tries at most TRIES times."""
    flood_statuses: Counter[str] = Counter()
    legit_statuses: Counter[str] = Counter()
    latencies: list[float] = []
    first_try: list[bool] = []
    deadline = time.monotonic() + seconds

    async def attacker(client: httpx.AsyncClient, worker: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            name = usernames[(worker + n) % len(usernames)]
            n += 1
            try:
                r = await client.post("/api/v1/auth/token", json={"username": name, "password": "wrong-guess-123456"})
                flood_statuses[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                flood_statuses[type(exc).__name__] += 1

    async def person(index: int, name: str) -> None:
        await asyncio.sleep(1.0 + index * (seconds - 2.0) / max(1, len(usernames)))
        async with _client(port, f"127.0.0.{2 + index}") as client:
            started = time.monotonic()
            outcome = "none"
            for attempt in range(TRIES):
                if attempt:
                    await asyncio.sleep(RETRY_SECONDS)
                try:
                    r = await client.post("/api/v1/auth/token", json={"username": name, "password": password})
                    outcome = str(r.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                if attempt == 0:
                    first_try.append(outcome == "200")
                if outcome not in ("503", "429"):
                    break
            legit_statuses[outcome] += 1
            latencies.append(time.monotonic() - started)

    limits = httpx.Limits(max_connections=FLOOD_CONNECTIONS, max_keepalive_connections=FLOOD_CONNECTIONS)
    transport = httpx.AsyncHTTPTransport(local_address=ATTACKER, limits=limits)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30.0) as client:
        await asyncio.gather(
            *(attacker(client, w) for w in range(FLOOD_CONNECTIONS)),
            *(person(i, name) for i, name in enumerate(usernames)),
        )
    return {
        "legit_logins_during_flood": len(usernames),
        "legit_logins_ok_during_flood": legit_statuses.get("200", 0),
        "legit_logins_ok_first_try_during_flood": sum(first_try),
        "legit_login_statuses_during_flood": dict(legit_statuses),
        "legit_login_max_ms_during_flood": round(1000 * max(latencies), 1) if latencies else None,
        "flood_requests": sum(flood_statuses.values()),
        "flood_statuses": dict(flood_statuses),
        "flood_seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("usernames", nargs="+", help="the people who sign in (at most 200: one address each)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(flood(args.port, args.usernames[:200], args.password, args.seconds))), flush=True)


if __name__ == "__main__":
    main()
