"""The benchmark: load N listings, serve them with the production server, drive the five queries.

Every figure comes from one run on one machine, so the ratios (API over raw SQL, naive over ours)
compare like with like even where absolute numbers are noisy.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from directory.bench import importing, serving
from directory.bench.data import CONDITIONS, SERVICES, cities
from directory.bench.load import load, prepare, vacuum_reused
from directory.bench.raw import NAIVE_A, RAW_A, RAW_E, compiled_baselines, raw_a_arguments, raw_sql
from directory.bench.sample import CONCURRENCY, drive
from directory.bench.serving import ADMIN_TOKEN
from directory.collector import FLUSH_SECONDS

RESULTS = Path("bench/results/latest.json")

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


async def _loaded(url: str, listings: int) -> bool:
    """The benchmark's database already holds this many listings and their read model (BENCH_REUSE=1)."""
    from sqlalchemy import text

    from directory.database import create_engine
    from directory.settings import Settings

    engine = create_engine(url, Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            providers = (await connection.execute(text("SELECT count(*) FROM provider"))).scalar()
            documents = (await connection.execute(text("SELECT count(*) FROM listing_document"))).scalar()
        return providers == listings == documents
    except Exception:  # noqa: BLE001 - no database, no schema: load it
        return False
    finally:
        await engine.dispose()




def _requests(workload: Workload, kind: str) -> list[tuple[str, str, dict[str, str], str | None]]:
    """A thousand requests of one kind, drawn with the workload's seed."""
    from urllib.parse import urlencode

    if kind == "F":
        # A change to a random listing, If-Match: * (the admin knowingly overwrites any version).
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "If-Match": "*", "Content-Type": "application/json"}
        return [
            ("PATCH", f"/v1/providers/{workload.slugs[n]}", headers, json.dumps({"accepting_new_patients": n % 2 == 0}))
            for n in range(len(workload.slugs))
        ]
    requests = []
    for n in range(1000):
        path, params = workload.query(kind, n)
        requests.append(("GET", path + ("?" + urlencode(params, doseq=True) if params else ""), {}, None))
    return requests


async def _drive_httpx(base: str, requests: list[tuple[str, str, dict[str, str], str | None]], seconds: float, connections: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=connections)) as client:

        async def call(n: int) -> bool:
            method, path, headers, body = requests[n % len(requests)]
            response = await client.request(method, path, headers=headers, content=body)
            return response.status_code == 200

        cpu = time.process_time()
        started = time.perf_counter()
        figures = (await drive(call, seconds, connections)).summary()
        figures["generator_cpu_share"] = round((time.process_time() - cpu) / (time.perf_counter() - started), 2)
        return figures


async def _drive(base: str, requests: list[tuple[str, str, dict[str, str], str | None]], seconds: float, connections: int) -> dict[str, Any]:
    """The figures of ``seconds`` of load; when not one request finished in that time (a slow query on
    a busy machine), the load runs again for twice as long, up to three times, and the figures say so."""
    from directory.bench import wrk

    asked = seconds
    for _ in range(3):
        if wrk.available():
            figures = await asyncio.to_thread(wrk.run, base, requests, seconds, connections)
        else:
            figures = await _drive_httpx(base, requests, seconds, connections)
        if figures["requests"] > 0:
            break
        print(f"  no request finished in {seconds:g} s: running again for {2 * seconds:g} s", file=sys.stderr, flush=True)
        seconds *= 2
    if seconds != asked:
        figures["seconds"] = seconds
    return figures


async def bench(backend: str, listings: int, seconds: float, workers: int, url: str) -> dict[str, Any]:
    from directory.bench import wrk

    if os.environ.get("BENCH_REUSE") and await _loaded(url, listings):
        print(f"reusing the {listings:,} listings already loaded" + (" (vacuumed first)" if backend == "postgres" else ""), flush=True)
        load_seconds, reindex_rate = 0.0, None
        if backend == "postgres":
            await vacuum_reused(url)
    else:
        print(f"loading {listings:,} listings into {backend} ...", flush=True)
        await prepare(url)
        load_seconds, reindex_rate = await load(url, listings)
        print(f"loaded in {load_seconds:.1f} s", flush=True)
    if backend == "postgres":
        import asyncpg

        connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        await connection.execute("CREATE INDEX IF NOT EXISTS ix_bench_naive_latlon ON location (latitude, longitude)")
        await connection.execute("ANALYZE location")
        bits = dict(await connection.fetch("SELECT code, bit FROM condition"))
        await connection.close()
    if not wrk.available():
        print("wrk is not installed (apt-get install wrk): driving the load from Python, which takes CPU from the server", file=sys.stderr, flush=True)

    metrics_folder = tempfile.mkdtemp(prefix="bench-metrics-")  # the workers' metrics, added up at /metrics
    env = serving.environment(url, PROMETHEUS_MULTIPROC_DIR=metrics_folder)
    workload = Workload(listings)
    results: dict[str, Any] = {
        "backend": backend, "listings": listings, "workers": workers, "load_seconds": round(load_seconds, 1), "reindex_listings_per_s": reindex_rate, "queries": {},
        "generator": "wrk" if wrk.available() else "httpx",
    }  # fmt: skip
    server, base = serving.start(lambda port: serving.serve_command(port, workers), env)
    try:
        rss = 0.0
        results["gc"] = {"collections": 0, "over_20ms": 0, "over_20ms_cpu": 0, "over_20ms_by_query": {}, "over_20ms_cpu_by_query": {}}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for kind in "ABCDEF":
                requests = _requests(workload, kind)
                connections = 2 if kind == "F" else CONCURRENCY
                await _drive(base, requests, min(3.0, seconds / 3), connections)  # warm caches and connection pools
                await asyncio.sleep(2 * FLUSH_SECONDS)  # every worker has handed its pauses to the metrics
                before = gc_pauses((await client.get("/metrics")).text)
                cpu = serving.tree_cpu_seconds(server.pid)
                figures = await _drive(base, requests, seconds, connections)
                served = figures["requests"]
                figures["cpu_ms"] = round((serving.tree_cpu_seconds(server.pid) - cpu) * 1000 / served, 2) if served else None
                results["queries"][kind] = figures
                await asyncio.sleep(2 * FLUSH_SECONDS)
                after = gc_pauses((await client.get("/metrics")).text)
                results["gc"]["over_20ms_by_query"][kind] = after["over_20ms"] - before["over_20ms"]
                results["gc"]["over_20ms_cpu_by_query"][kind] = after["over_20ms_cpu"] - before["over_20ms_cpu"]
                results["gc"].update(after)
                rss = max(rss, serving.tree_rss_mb(server.pid))
                print(f"  {kind}: {results['queries'][kind]}", flush=True)
        results["server_rss_mb"] = rss
    finally:
        serving.stop(server)
        shutil.rmtree(metrics_folder, ignore_errors=True)
    results["F"] = results["queries"].pop("F")

    from directory.bench.accuracy import estimate_error
    from directory.settings import Settings

    print("comparing D's estimated totals and facets with exact counts ...", flush=True)
    results["D_estimate_error"] = await estimate_error(url, [workload.query("D", n) for n in range(7)], Settings(database_url=url).exact_count_limit)

    if backend == "postgres":
        raw = (await raw_sql(url, RAW_A, raw_a_arguments(workload.points, bits), seconds)).summary()
        raw_e = (await raw_sql(url, RAW_E, [(slug,) for slug in workload.slugs], seconds)).summary()
        naive = (await raw_sql(url, NAIVE_A, workload.points, seconds)).summary()
        results["raw_A_rps"] = raw["rps"]
        results["raw_A_p99_ms"] = raw["p99_ms"]
        results["api_over_raw_A"] = round(results["queries"]["A"]["rps"] / raw["rps"], 3) if raw["rps"] else None
        results["raw_E_rps"] = raw_e["rps"]
        results["api_over_raw_E"] = round(results["queries"]["E"]["rps"] / raw_e["rps"], 3) if raw_e["rps"] else None
        results["naive_A_p99_ms"] = naive["p99_ms"]
        # The same two statements from a compiled client: the ceiling the API is held to.
        for kind, compiled in (await asyncio.to_thread(compiled_baselines, url, raw_a_arguments(workload.points, bits), workload.slugs, seconds)).items():
            results[f"pgbench_{kind}"] = compiled
            results[f"api_over_pgbench_{kind}"] = round(results["queries"][kind]["rps"] / compiled["rps"], 3) if compiled["rps"] else None
        results["naive_over_ours_p99"] = round(naive["p99_ms"] / raw["p99_ms"], 2) if raw["p99_ms"] else None
        if os.environ.get("BENCH_PEERS"):
            from directory.bench.peers import redis_geosearch

            print("loading the locations into Redis geo sets ...", flush=True)
            try:
                results["peer_redis_A"] = peer = await redis_geosearch(url, workload, seconds)
                if (compiled := peer.get("compiled")) and compiled["rps"]:
                    results["api_over_redis_A"] = round(results["queries"]["A"]["rps"] / compiled["rps"], 3)
            except Exception as error:  # noqa: BLE001 - the peer is optional; say why it is missing
                print(f"the Redis peer could not be measured: {error!r}", file=sys.stderr, flush=True)
    else:
        results.update(raw_A_rps=None, api_over_raw_A=None, raw_E_rps=None, api_over_raw_E=None, naive_A_p99_ms=None, naive_over_ours_p99=None)
    results["import"] = await importing.in_bench(url)
    return results


def gc_pauses(metrics: str) -> dict[str, Any]:
    """The workers' garbage collections over the whole run, from their pause histogram in /metrics
    (all workers: the bench gives them a shared metrics folder): how many, and how many held a
    worker longer than 20 ms, the longest a request should wait on one."""
    count = within = within_cpu = 0.0
    for line in metrics.splitlines():
        if line.startswith("directory_gc_pause_seconds_count"):
            count += float(line.rsplit(" ", 1)[1])
        elif line.startswith("directory_gc_pause_seconds_bucket") and 'le="0.02"' in line:
            within += float(line.rsplit(" ", 1)[1])
        elif line.startswith("directory_gc_pause_cpu_seconds_bucket") and 'le="0.02"' in line:
            within_cpu += float(line.rsplit(" ", 1)[1])
    # The same collections timed in CPU: those over 20 ms on the clock but not in CPU were the
    # machine's (a worker descheduled in the middle of one), not the collector's.
    return {"collections": int(count), "over_20ms": int(count - within), "over_20ms_cpu": int(count - within_cpu)}


def table(results: dict[str, Any]) -> str:
    lines = [
        f"backend {results['backend']}, {results['listings']:,} listings, {results.get('workers')} worker(s), loaded in {results['load_seconds']} s "
        f"(read model {results.get('reindex_listings_per_s') or 'not rebuilt'} listings/s), "
        f"server RSS (own pages, not mapped files) {results.get('server_rss_mb')} MB",
        f"{'query':<6}{'rps':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'CPU ms':>9}",
    ]
    for kind, figures in results["queries"].items():
        lines.append(f"{kind:<6}{figures['rps']:>10}{figures['p50_ms']!s:>10}{figures['p99_ms']!s:>10}{figures['errors']:>8}{figures.get('cpu_ms')!s:>9}")
    f = results["F"]
    lines.append(f"{'F':<6}{f['rps']:>10}{f['p50_ms']!s:>10}{f['p99_ms']!s:>10}{f['errors']:>8}{f.get('cpu_ms')!s:>9}   (PATCH, 2 connections)")
    lines.append("CPU ms: the server's CPU time (all workers, user and system) per request served, the figure least moved by other load on the machine")
    lines.append(f"load generator: {results['generator']}")
    if gc := results.get("gc"):
        by_query = ", ".join(f"{kind} {n:,}" for kind, n in gc.get("over_20ms_by_query", {}).items())
        lines.append(f"garbage collections in the workers: {gc['collections']:,}, of which {gc['over_20ms']:,} held a worker over 20 ms (during each query: {by_query})")
        if "over_20ms_cpu" in gc:
            by_query = ", ".join(f"{kind} {n:,}" for kind, n in gc.get("over_20ms_cpu_by_query", {}).items())
            lines.append(f"  of those, over 20 ms of the collector's own CPU time (the rest: a worker descheduled during one): {gc['over_20ms_cpu']:,} ({by_query})")
    if results.get("raw_A_rps") is not None:
        lines.append(
            f"raw SQL A: {results['raw_A_rps']} rps, p99 {results['raw_A_p99_ms']} ms; API/raw throughput {results['api_over_raw_A']}"
        )
        lines.append(f"raw SQL E: {results['raw_E_rps']} rps; API/raw throughput {results['api_over_raw_E']}")
        lines.append(f"naive A p99 {results['naive_A_p99_ms']} ms; naive/ours p99 {results['naive_over_ours_p99']}")
        for kind in "AE":
            if compiled := results.get(f"pgbench_{kind}"):
                lines.append(
                    f"raw SQL {kind} through pgbench (prepared, {CONCURRENCY} clients, 2 threads): {compiled['rps']} rps, p50 {compiled['p50_ms']} ms, "
                    f"p99 {compiled['p99_ms']} ms; API/raw throughput {results[f'api_over_pgbench_{kind}']}"
                )
    if (error := results.get("D_estimate_error")) and not error["searches_estimated"]:
        lines.append("D estimates: none of the 7 searches was estimated (fewer matches than the exact-count limit: all counted exactly)")
    elif error:
        lines.append(
            f"D estimates ({error['searches_estimated']} of 7 searches estimated): total off by at most {error['total_max_pct']}%, "
            f"facet counts of 1,000 or more by at most {error['facet_max_pct']}% ({error['facets_pooled_pct']}% pooled)"
        )
    if results.get("peer_redis_A"):
        peer = results["peer_redis_A"]
        if compiled := peer.get("compiled"):
            lines.append(
                f"Redis GEOSEARCH A (in-memory peer) through redis-benchmark: {compiled['rps']} rps, p50 {compiled['p50_ms']} ms, "
                f"p99 {compiled['p99_ms']} ms; API/peer throughput {results.get('api_over_redis_A')}"
            )
        lines.append(f"Redis GEOSEARCH A (in-memory peer) through redis-py: {peer['rps']} rps, p50 {peer['p50_ms']} ms, p99 {peer['p99_ms']} ms")
    lines += filter(None, [importing.line(results.get("import"))])
    return "\n".join(lines)


def main() -> int:
    if os.environ.get("BENCH_DUPLICATES"):  # the whole-directory duplicate check alone, on a scratch SQLite directory
        from directory.bench import duplicates

        return duplicates.main(int(os.environ["BENCH_DUPLICATES"]))
    backend = os.environ.get("BENCH_BACKEND", "postgres")
    if backend not in ("postgres", "sqlite"):
        print("BENCH_BACKEND is postgres or sqlite", file=sys.stderr)
        return 2
    listings = int(os.environ.get("BENCH_LISTINGS", 1_000_000 if backend == "postgres" else 100_000))
    seconds = float(os.environ.get("BENCH_SECONDS", 20))
    # SQLite is served by one process (`directory serve` and `make run`: several need Redis), and its
    # targets are set for one; PostgreSQL's production runs several.
    workers = int(os.environ.get("BENCH_WORKERS", 2 if backend == "postgres" else 1))
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
