"""The benchmark: load N listings, serve them with the production server, drive the five queries.

Every figure comes from one run on one machine, so the ratios (API over raw SQL, naive over ours)
compare like with like even where absolute numbers are noisy.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from directory.bench.data import CONDITIONS, SERVICES, cities
from directory.bench.load import load, prepare

CONCURRENCY = 10
RESULTS = Path("bench/results/latest.json")


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def percentile(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)] * 1000, 2)

        return {
            "rps": round(len(ordered) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "errors": self.errors,
            "requests": len(ordered) + self.errors,
        }


async def drive(call: Callable[[int], Awaitable[bool]], seconds: float, concurrency: int = CONCURRENCY) -> Sample:
    """Run ``call`` from ``concurrency`` tasks until the time is up; bounded in time and count."""
    sample = Sample()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10_000_000))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            number = next(counter)
            started = time.perf_counter()
            try:
                ok = await call(number)
            except Exception:  # noqa: BLE001 - any failure is an error in the figures
                ok = False
            if ok:
                sample.latencies.append(time.perf_counter() - started)
            else:
                sample.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed = time.perf_counter() - started
    return sample


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return round(total / 1024, 1)


class Workload:
    """The five queries, their parameters drawn with a fixed seed."""

    def __init__(self, listings: int, seed: int = 7) -> None:
        import zipcodes

        rng = random.Random(seed)
        places = cities(200_000)
        self.densest = max(places, key=lambda place: place[3])
        weights = [place[3] for place in places]
        self.points = []
        for _ in range(1000):
            lat, lon, _, _ = rng.choices(places, weights)[0]
            self.points.append((lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05), rng.choice(CONDITIONS)))
        big = [p for p in places if p[3] >= 500_000]
        self.zips = []
        for lat, lon, state, _ in big:
            near = [z for z in zipcodes.filter_by(state=state) if z["zip_code_type"] == "STANDARD" and abs(float(z["lat"]) - lat) < 0.1 and abs(float(z["long"]) - lon) < 0.1]
            self.zips += [z["zip_code"] for z in near[:5]]
        self.boxes = [(lat - 0.1, lon - 0.15, lat + 0.1, lon + 0.15) for lat, lon, _, _ in big]
        self.conditions = [rng.choice(CONDITIONS) for _ in range(1000)]
        self.services = [rng.choice(SERVICES) for _ in range(1000)]
        self.slugs = [f"bench-clinic-{rng.randrange(listings):07d}" for _ in range(1000)]

    def query(self, kind: str, n: int) -> tuple[str, dict[str, Any]]:
        if kind == "A":
            lat, lon, condition = self.points[n % len(self.points)]
            return "/v1/search", {"lat": lat, "lon": lon, "radius": 50, "unit": "km", "condition": condition, "limit": 20}
        if kind == "B":
            return "/v1/search", {
                "near": self.zips[n % len(self.zips)], "radius": 25, "unit": "mi", "condition": self.conditions[n % 1000],
                "service": self.services[n % 1000], "accepting_new_patients": "true",
            }  # fmt: skip
        if kind == "C":
            south, west, north, east = self.boxes[n % len(self.boxes)]
            return "/v1/search", {"bbox": f"{west},{south},{east},{north}", "limit": 100}
        if kind == "D":
            lat, lon, _, _ = self.densest
            return "/v1/search", {
                "lat": lat + (n % 7) * 0.01, "lon": lon, "radius": 50, "unit": "km", "condition": self.conditions[n % 1000],
                "total": "true", "facets": "true",
            }  # fmt: skip
        return f"/v1/providers/{self.slugs[n % 1000]}", {}


# The statement behind query A, as the PostGIS backend issues it: a walk of the geometry index in
# plain degrees, sized as the backend learns to size it (a condition matches about 18% of the
# walked locations in this data), so that one walk holds the page; 0.6 degrees is the planar reach
# of 50.5 km (the radius and its 1% margin) at 40 degrees north.
RAW_A = """
WITH walk AS (
  SELECT id AS walk_id, geom <-> ST_SetSRID(ST_MakePoint($2, $1), 4326) AS walk_d
  FROM location ORDER BY 2 LIMIT 384
)
SELECT l.id, l.provider_id, l.latitude, l.longitude, w.walk_d,
       (SELECT max(walk_d) FROM walk), (SELECT count(*) FROM walk), count(*) OVER ()
FROM location l JOIN provider p ON p.id = l.provider_id JOIN walk w ON w.walk_id = l.id
WHERE p.status = 'published'
  AND EXISTS (SELECT 1 FROM provider_condition c WHERE c.provider_id = p.id AND c.condition_code = $3)
  AND w.walk_d <= 0.6
ORDER BY w.walk_d, l.id LIMIT 43
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


async def _raw_sql(url: str, workload: Workload, statement: str, seconds: float) -> Sample:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=CONCURRENCY, max_size=CONCURRENCY, server_settings={"jit": "off"})
    try:
        async def call(n: int) -> bool:
            lat, lon, condition = workload.points[n % len(workload.points)]
            async with pool.acquire() as connection:
                await connection.fetch(statement, lat, lon, condition)
            return True

        return await drive(call, seconds)
    finally:
        await pool.close()


async def bench(backend: str, listings: int, seconds: float, workers: int, url: str) -> dict[str, Any]:
    print(f"loading {listings:,} listings into {backend} ...", flush=True)
    await prepare(url)
    load_seconds = await load(url, listings)
    print(f"loaded in {load_seconds:.1f} s", flush=True)
    if backend == "postgres":
        import asyncpg

        connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        await connection.execute("CREATE INDEX IF NOT EXISTS ix_bench_naive_latlon ON location (latitude, longitude)")
        await connection.execute("ANALYZE location")
        await connection.close()

    port = _free_port()
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": url,
        "DIRECTORY_VERIFICATION_WORKER": "false",
        "DIRECTORY_WEBHOOK_WORKER": "false",
        "DIRECTORY_ANONYMOUS_RATE_LIMIT": str(10**9),
        "DIRECTORY_LOG_LEVEL": "WARNING",
        "DIRECTORY_SECRET_KEY": os.environ.get("DIRECTORY_SECRET_KEY") or secrets.token_urlsafe(48),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "directory", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    workload = Workload(listings)
    results: dict[str, Any] = {"backend": backend, "listings": listings, "load_seconds": round(load_seconds, 1), "queries": {}}
    try:
        # A long timeout: a slow query should show as its latency, not as errors.
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None:
                    raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")
                await asyncio.sleep(0.25)
            for kind in "ABCDE":

                async def call(n: int, kind: str = kind) -> bool:
                    path, params = workload.query(kind, n)
                    return (await client.get(path, params=params)).status_code == 200

                await drive(call, min(3.0, seconds / 3))  # warm caches and connection pools
                results["queries"][kind] = (await drive(call, seconds)).summary()
                print(f"  {kind}: {results['queries'][kind]}", flush=True)
        results["server_rss_mb"] = _tree_rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    if backend == "postgres":
        raw = (await _raw_sql(url, workload, RAW_A, seconds)).summary()
        naive = (await _raw_sql(url, workload, NAIVE_A, seconds)).summary()
        results["raw_A_rps"] = raw["rps"]
        results["raw_A_p99_ms"] = raw["p99_ms"]
        results["api_over_raw_A"] = round(results["queries"]["A"]["rps"] / raw["rps"], 3) if raw["rps"] else None
        results["naive_A_p99_ms"] = naive["p99_ms"]
        results["naive_over_ours_p99"] = round(naive["p99_ms"] / raw["p99_ms"], 2) if raw["p99_ms"] else None
    else:
        results.update(raw_A_rps=None, api_over_raw_A=None, naive_A_p99_ms=None, naive_over_ours_p99=None)
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"backend {results['backend']}, {results['listings']:,} listings, loaded in {results['load_seconds']} s, "
        f"server RSS {results.get('server_rss_mb')} MB",
        f"{'query':<6}{'rps':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}",
    ]
    for kind, figures in results["queries"].items():
        lines.append(f"{kind:<6}{figures['rps']:>10}{figures['p50_ms']!s:>10}{figures['p99_ms']!s:>10}{figures['errors']:>8}")
    if results.get("raw_A_rps") is not None:
        lines.append(
            f"raw SQL A: {results['raw_A_rps']} rps, p99 {results['raw_A_p99_ms']} ms; API/raw throughput {results['api_over_raw_A']}"
        )
        lines.append(f"naive A p99 {results['naive_A_p99_ms']} ms; naive/ours p99 {results['naive_over_ours_p99']}")
    return "\n".join(lines)


def main() -> int:
    backend = os.environ.get("BENCH_BACKEND", "postgres")
    if backend not in ("postgres", "sqlite"):
        print("BENCH_BACKEND is postgres or sqlite", file=sys.stderr)
        return 2
    listings = int(os.environ.get("BENCH_LISTINGS", 1_000_000 if backend == "postgres" else 100_000))
    seconds = float(os.environ.get("BENCH_SECONDS", 20))
    workers = int(os.environ.get("BENCH_WORKERS", 2))
    url = (
        os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/directory_bench")
        if backend == "postgres"
        else "sqlite+aiosqlite:///./var/bench.db"
    )
    results = asyncio.run(bench(backend, listings, seconds, workers, url))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"written to {RESULTS}")
    return 0
