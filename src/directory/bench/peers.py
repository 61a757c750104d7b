"""The in-memory peer a team might pick instead: Redis GEOSEARCH over the same locations, one geo set
per condition, timed for query A in the same run (Redis on 127.0.0.1, BENCH_PEERS=1)."""

from __future__ import annotations

import os
import secrets
from typing import Any

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
        return figures
    finally:
        for code in CONDITIONS:
            await client.delete(f"{prefix}:{code}")
        await client.aclose()
        await connection.close()
