"""The in-memory peer a team might pick instead: Redis GEOSEARCH over the same locations, one geo set
per condition, timed for query A in the same run (Redis on 127.0.0.1, BENCH_PEERS=1).

Two clients drive it: redis-benchmark (compiled, as pgbench is for the statements), the figure the
API is held to, and redis-py, a Python client like the API's own."""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import subprocess
import time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from directory.bench.data import CONDITIONS


async def redis_geosearch(url: str, workload: Any, seconds: float) -> dict[str, Any]:
    import asyncpg
    import redis.asyncio as redis

    from directory.bench.sample import CONCURRENCY, drive

    prefix = f"bench-peer-{secrets.token_hex(4)}"
    client = redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        bits = dict(await connection.fetch("SELECT code, bit FROM condition"))
        pipe = client.pipeline(transaction=False)
        queued = 0
        async with connection.transaction():
            async for location_id, longitude, latitude, conditions in connection.cursor(
                "SELECT location_id, longitude, latitude, conditions FROM search_location", prefetch=20_000
            ):
                for code in CONDITIONS:
                    if conditions & (1 << bits[code]):
                        pipe.geoadd(f"{prefix}:{code}", (longitude, latitude, location_id))
                        queued += 1
                if queued >= 20_000:
                    await pipe.execute()
                    queued = 0
        await pipe.execute()

        async def call(n: int) -> bool:
            lat, lon, condition = workload.points[n % len(workload.points)]
            await client.geosearch(
                f"{prefix}:{condition}", longitude=lon, latitude=lat, radius=50, unit="km", sort="ASC", count=20, withdist=True
            )
            return True

        await drive(call, min(3.0, seconds / 3), CONCURRENCY)
        figures = (await drive(call, seconds, CONCURRENCY)).summary()
        figures["note"] = "driven from Python (redis-py), one geo set per condition"
        figures["compiled"] = compiled_geosearch(prefix, workload.points, seconds)
        return figures
    finally:
        for code in CONDITIONS:
            await client.delete(f"{prefix}:{code}")
        await client.aclose()
        await connection.close()


#: Points of the workload redis-benchmark runs in turn (it repeats one command: one run a point).
_POINTS = 8


def compiled_geosearch(prefix: str, points: list[tuple[float, float, str]], seconds: float) -> dict[str, Any] | None:
    """Query A as GEOSEARCH through redis-benchmark (the bench's concurrency, two threads), at
    ``_POINTS`` of the workload's points for ``seconds`` in all: requests over time summed, the
    worst point's p50 and p99. None when redis-benchmark is missing."""
    if shutil.which("redis-benchmark") is None:
        return None
    from directory.bench.sample import CONCURRENCY

    where = urlsplit(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    database = (where.path or "/0").strip("/") or "0"
    base = ["redis-benchmark", "-h", where.hostname or "127.0.0.1", "-p", str(where.port or 6379), "--dbnum", database, "-c", str(CONCURRENCY), "--threads", "2", "--csv"]
    requests, spent, p50, p99 = 0, 0.0, 0.0, 0.0
    rate = None
    for lat, lon, condition in points[:_POINTS]:
        command = ["GEOSEARCH", f"{prefix}:{condition}", "FROMLONLAT", repr(lon), repr(lat), "BYRADIUS", "50", "km", "ASC", "COUNT", "20", "WITHDIST"]
        count = 2_000 if rate is None else max(1_000, int(rate * seconds / _POINTS))
        started = time.perf_counter()
        done = subprocess.run([*base, "-n", str(count), *command], capture_output=True, text=True, timeout=seconds * 4 + 60, check=False)
        took = time.perf_counter() - started
        rows = list(csv.DictReader(done.stdout.splitlines()))
        if done.returncode != 0 or not rows:
            raise RuntimeError(f"redis-benchmark failed: {done.stderr[-500:] or done.stdout[-500:]}")
        row = rows[-1]
        rate = float(row["rps"])
        requests += count
        spent += count / rate if rate else took
        p50, p99 = max(p50, float(row["p50_latency_ms"])), max(p99, float(row["p99_latency_ms"]))
    return {
        "rps": round(requests / spent, 1) if spent else None,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": requests,
        "note": f"redis-benchmark ({CONCURRENCY} clients, 2 threads) at {min(len(points), _POINTS)} of the workload's points in turn",
    }
