"""Python's garbage collector on the request path: the heap a worker builds at start-up (modules,
SQLAlchemy's tables and compiled caches, the offline place index, the taxonomy) is frozen, so that
no later collection walks it again; every collection's pause is timed and exposed at /metrics.

Without the freeze, a full (generation 2) collection walks every object the worker holds, several
hundred thousand of them, and a request that happens to allocate at that moment waits for it.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSE = Histogram(
    "directory_gc_pause_seconds",
    "time each garbage collection held the process, by generation",
    ["generation"],
    buckets=[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
)


class CollectorWatch:
    """Times each collection from gc's own callbacks (start and stop of every collection)."""

    def __init__(self) -> None:
        self._started: float | None = None
        self.longest = 0.0
        self.collections = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        pause = time.perf_counter() - self._started
        self._started = None
        self.collections += 1
        self.longest = max(self.longest, pause)
        GC_PAUSE.labels(str(info.get("generation", "?"))).observe(pause)

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


def freeze_start_up_heap() -> int:
    """Collect what start-up left behind, then move every object still alive to the permanent
    generation, which collections skip. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """Give the frozen objects back to the collector (an app stopped within a longer-lived process,
    as in the tests, must not keep its heap out of reach)."""
    gc.unfreeze()
