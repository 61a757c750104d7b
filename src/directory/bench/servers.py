"""uvicorn against granian: the same app, workers, database and wrk workload, servers alternating.

``python -m directory.bench.servers`` (after a ``make bench`` has loaded its database; the same
``BENCH_*`` variables choose it) serves the bench's database with each server in turn, in the order
uvicorn, granian, granian, uvicorn, ... (``BENCH_ROUNDS`` pairs, 2 by default), and drives queries
A and E (``BENCH_QUERIES``) for ``BENCH_SECONDS`` each, printing rps, p99, the server's CPU ms per
request and its memory. Alternating, because runs on a shared machine drift: each pair is compared
within itself. granian must be installed (``pip install granian``); ``directory serve`` stays on
uvicorn (README: Performance).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

from directory.bench import serving, wrk
from directory.bench.run import Workload, _requests
from directory.bench.sample import CONCURRENCY


def _command(server: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return serving.serve_command(port, workers)
    granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or shutil.which("granian")
    if granian is None:
        raise SystemExit("granian is not installed: pip install granian")
    return [
        granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--respawn-failed-workers", "--log-level", "warning", "directory.app:create_app",
    ]  # fmt: skip


def measure(server: str, url: str, queries: str, seconds: float, workers: int, workload: Workload) -> dict[str, Any]:
    """One server's figures: each query warmed for 3 s, then driven for ``seconds``."""
    metrics = tempfile.mkdtemp(prefix="bench-servers-")
    figures: dict[str, Any] = {"server": server}
    try:
        with serving.served(lambda port: _command(server, port, workers), serving.environment(url, PROMETHEUS_MULTIPROC_DIR=metrics)) as (process, base):
            for kind in queries:
                requests = _requests(workload, kind)
                connections = 2 if kind == "F" else CONCURRENCY
                wrk.run(base, requests, 3, connections)
                cpu = serving.tree_cpu_seconds(process.pid)
                result = wrk.run(base, requests, seconds, connections)
                served = max(result["requests"], 1)
                cpu_ms = round((serving.tree_cpu_seconds(process.pid) - cpu) * 1000 / served, 2)
                figures[kind] = {"rps": result["rps"], "p99_ms": result["p99_ms"], "errors": result["errors"], "cpu_ms": cpu_ms}
            figures["rss_mb"] = serving.tree_rss_mb(process.pid)
    finally:
        shutil.rmtree(metrics, ignore_errors=True)
    return figures


def main() -> int:
    if not wrk.available():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    backend = os.environ.get("BENCH_BACKEND", "postgres")
    url = (
        os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/directory_bench")
        if backend == "postgres"
        else "sqlite+aiosqlite:///./var/bench.db"
    )
    listings = int(os.environ.get("BENCH_LISTINGS", 1_000_000 if backend == "postgres" else 100_000))
    seconds = float(os.environ.get("BENCH_SECONDS", 10))
    workers = int(os.environ.get("BENCH_WORKERS", 2))
    queries = os.environ.get("BENCH_QUERIES", "AE")
    workload = Workload(listings)
    for round_ in range(int(os.environ.get("BENCH_ROUNDS", 2))):
        for server in ("uvicorn", "granian") if round_ % 2 == 0 else ("granian", "uvicorn"):
            figures = measure(server, url, queries, seconds, workers, workload)
            parts = [f"{kind} {f['rps']:,.1f} rps, p99 {f['p99_ms']} ms, {f['cpu_ms']} CPU ms, {f['errors']} errors" for kind, f in figures.items() if kind in queries]
            print(f"{server:<8} " + " | ".join(parts) + f" | RSS {figures['rss_mb']} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
