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


def pgbench(url: str, statement: str, arguments: list[tuple[Any, ...]], seconds: float, names: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The statement through pgbench, a compiled client (prepared, the bench's concurrency, two
    threads): the ceiling the API is measured against. Each argument tuple is a script of its own
    (pgbench takes at most 128), its values set as pgbench variables (``names``, bound as the
    statement's parameters) or, for text, written into the statement. None when pgbench is missing."""
    import os
    import re
    import shutil
    import subprocess
    import tempfile

    if shutil.which("pgbench") is None:
        return None
    parsed = make_url(url)
    env = {**os.environ, "PGHOST": parsed.host or "127.0.0.1", "PGPORT": str(parsed.port or 5432), "PGUSER": parsed.username or "postgres",
           "PGDATABASE": parsed.database or "postgres", "PGOPTIONS": "-c jit=off -c max_parallel_workers_per_gather=0"}  # fmt: skip
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    folder = tempfile.mkdtemp(prefix="raw-")
    try:
        scripts = []
        for n, values in enumerate(arguments[:100]):
            text = statement.strip()
            lines = []
            for name, value in zip(names, values, strict=False):
                if isinstance(value, str):
                    text = text.replace(f":{name}", "'" + value.replace("'", "''") + "'")
                else:
                    lines.append(f"\\set {name} {value!r}")
            path = os.path.join(folder, f"{n}.sql")
            with open(path, "w") as handle:
                handle.write("\n".join([*lines, " ".join(text.split()) + ";"]) + "\n")
            scripts += ["-f", f"{path}@1"]
        done = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", str(CONCURRENCY), "-j", "2", "-T", str(max(1, round(seconds))), "-l", "--log-prefix", os.path.join(folder, "log"), *scripts],
            env=env, capture_output=True, text=True, timeout=seconds + 120,
        )  # fmt: skip
        found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"pgbench failed: {done.stderr[-1000:] or done.stdout[-1000:]}")
        latencies = []
        for name in os.listdir(folder):
            if name.startswith("log"):
                with open(os.path.join(folder, name)) as handle:
                    latencies += [int(line.split()[2]) / 1e6 for line in handle if line.strip()]
        latencies.sort()

        def percentile(p: float) -> float | None:
            return round(latencies[min(len(latencies) - 1, math.ceil(p * len(latencies)) - 1)] * 1000, 2) if latencies else None

        return {"rps": round(float(found.group(1)), 1), "p50_ms": percentile(0.5), "p99_ms": percentile(0.99), "requests": len(latencies)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: RAW_A and RAW_E as pgbench scripts: the same statements, their parameters as pgbench variables.
PGBENCH_A = RAW_A.replace("$1", ":lat").replace("$2", ":lon").replace("$3", ":bits").replace("$4", ":reach").replace("$5", ":rows")
PGBENCH_A_NAMES = ("lat", "lon", "bits", "reach", "rows")
PGBENCH_E = RAW_E.replace("$1", ":slug")


def compiled_baselines(url: str, a_arguments: list[tuple[Any, ...]], slugs: list[str], seconds: float) -> dict[str, dict[str, Any]]:
    """A's and E's statements through pgbench, by query; a query pgbench could not measure is left
    out, with the reason on standard error."""
    import subprocess
    import sys

    found = {}
    for kind, statement, names, arguments in (("A", PGBENCH_A, PGBENCH_A_NAMES, a_arguments), ("E", PGBENCH_E, ("slug",), [(slug,) for slug in slugs])):
        try:
            figures = pgbench(url, statement, arguments, seconds, names)
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            print(f"pgbench could not measure {kind}: {error}", file=sys.stderr, flush=True)
            continue
        if figures:
            found[kind] = figures
    return found
