"""The statements behind the API's queries, run straight against PostgreSQL at the bench's concurrency."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.engine import make_url

from directory.bench.sample import CONCURRENCY, Sample, drive

# The statement the PostGIS backend issues for query A: one scan of the projection's geometry index,
# bounded by the box around the 50.5 km disc (the radius and its 1% margin) and ordered by plain-degree
# distance, the condition a test on each row, the hit's JSON in the row. $4 and $5 are the box's
# half-width and the rows to fetch, computed as the backend computes them (``raw_a_arguments``).
RAW_A = """
SELECT location_id, provider_id, latitude, longitude, summary, location, hours, timezone,
       geom <-> ST_SetSRID(ST_MakePoint($2, $1), 4326) AS d
FROM search_location
WHERE conditions & $3 <> 0 AND geom && ST_Expand(ST_SetSRID(ST_MakePoint($2, $1), 4326), $4)
ORDER BY d LIMIT $5
"""

# What typical directory plugins do: a latitude/longitude box on a btree, then haversine for all.
NAIVE_A = """
SELECT l.id, l.provider_id, d FROM (
  SELECT l.*, 12742017.6 * asin(sqrt(power(sin(radians(l.latitude - $1) / 2), 2)
      + cos(radians($1)) * cos(radians(l.latitude)) * power(sin(radians(l.longitude - $2) / 2), 2))) AS d
  FROM location l
  WHERE l.latitude BETWEEN $1 - 0.45 AND $1 + 0.45 AND l.longitude BETWEEN $2 - 0.6 AND $2 + 0.6
) l JOIN provider p ON p.id = l.provider_id
WHERE p.status = 'published' AND d <= 50000
  AND EXISTS (SELECT 1 FROM provider_condition c WHERE c.provider_id = p.id AND c.condition_code = $3)
ORDER BY d LIMIT 20
"""

# The statement behind query E: the stored document by slug.
RAW_E = "SELECT document, version, stale_from FROM listing_document WHERE slug = $1"

def raw_a_arguments(points: list[tuple[float, float, str]], bits: dict[str, int]) -> list[tuple[Any, ...]]:
    from directory.search.backends import SPHERE_ERROR
    from directory.search.bounds import EARTH_RADIUS_M, planar_reach

    arguments = []
    for lat, lon, condition in points:
        within = 50_000 * (1 + SPHERE_ERROR)
        reach = planar_reach(lat, lon, within)
        proven = within / (math.radians(reach) * EARTH_RADIUS_M)  # type: ignore[arg-type]
        arguments.append((lat, lon, 1 << bits[condition], reach, math.ceil((20 + 1 + 8) / max(proven, 0.05)) + 4))
    return arguments


async def raw_sql(url: str, statement: str, arguments: list[tuple[Any, ...]], seconds: float) -> Sample:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=CONCURRENCY, max_size=CONCURRENCY, server_settings={"jit": "off"})
    try:
        async def call(n: int) -> bool:
            async with pool.acquire() as connection:
                await connection.fetch(statement, *arguments[n % len(arguments)])
            return True

        return await drive(call, seconds)
    finally:
        await pool.close()
