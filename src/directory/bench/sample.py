"""The Python load generator (a fallback where wrk is missing, and the driver of the raw statements)
and the figures every query reports."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

CONCURRENCY = 10


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
