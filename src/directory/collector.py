"""Python's garbage collector on the request path: the heap a worker builds at start-up (modules,
SQLAlchemy's tables and compiled caches, the offline place index, the taxonomy) is frozen, so that
no later collection walks it again; every collection's pause is timed and exposed at /metrics.

Without the freeze, a full (generation 2) collection walks every object the worker holds, several
hundred thousand of them, and a request that happens to allocate at that moment waits for it.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

from directory.workers import drain_forever

logger = logging.getLogger(__name__)

#: How often each worker hands the pauses it recorded to its metrics.
FLUSH_SECONDS = 0.25

GC_PAUSE = Histogram(
    "directory_gc_pause_seconds",
    "time each garbage collection held the process, by generation",
    ["generation"],
    buckets=[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
)


class CollectorWatch:
    """Times each collection from gc's own callbacks. The callback only notes the pause: it may run
    inside any code that allocates, including prometheus_client's while it holds its lock (one
    process-wide lock in multiprocess mode), so the metrics are fed outside it, by ``flush``."""

    def __init__(self) -> None:
        self._started = 0.0
        self._pending: list[tuple[int, float]] = []

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._pending.append((info["generation"], time.perf_counter() - self._started))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for generation, pause in pending:
            GC_PAUSE.labels(str(generation)).observe(pause)

    async def _flush_due(self) -> bool:
        self.flush()
        return False  # nothing more to do until the next interval

    async def work(self) -> None:
        await drain_forever(self._flush_due, FLUSH_SECONDS, logger, "collection metrics")

    def install(self) -> None:
        gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


def freeze_start_up_heap() -> None:
    """Collect what start-up left behind, then move every object still alive to the permanent
    generation, which collections skip."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (an app stopped within a longer-lived process,
    as in the tests, must not keep its heap out of reach)."""
    gc.unfreeze()
