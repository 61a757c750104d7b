"""Python's garbage collector on the request path: the heap a worker builds at start-up (modules,
SQLAlchemy's tables and compiled caches, the offline place index, the taxonomy) is frozen, so that
no later collection walks it again; every collection's pause is timed and exposed at /metrics.

Without the freeze, a full (generation 2) collection walks every object the worker holds, several
hundred thousand of them, and a request that happens to allocate at that moment waits for it.

A long write that builds objects living until it ends (an import holds every listing it writes in
its session) makes full collections of its own, each walking all it has built so far: a third of
an import's CPU. ``bulk_work`` keeps them for its end (see there).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


#: The full collection's threshold while a bulk write that keeps what it builds runs: after this
#: many collections of the middle generation (each after 10 of the youngest, each after 700 new
#: objects), about 7 million objects.
BULK_FULL_THRESHOLD = 1000

_bulk_lock = threading.Lock()
_bulk = {"running": 0, "keeping": 0, "froze": False}
_bulk_threshold: list[tuple[int, int, int]] = []


@contextmanager
def bulk_work(*, keeps_what_it_builds: bool = False) -> Iterator[None]:
    """A bulk write (an import, a read-model rebuild) without full collections of the heap around it.

    What is alive when the first bulk write starts is frozen for its time, unless something is
    frozen already (a worker's start-up heap is), so a full collection walks only what the work
    builds: a rebuild's batch, 15 ms against 70. Work that ``keeps_what_it_builds`` (an import's
    session holds every listing until it commits) would still be walked again and again as it
    grows, so for it full collections wait until it ends; the young generations are still collected
    (what a request drops, it mostly drops young). Measured on a 2,000-listing import: eight full
    collections of 1.5 s in all, 4.4-5.7 s of CPU before, 2.9-3.0 s after. The usual state is back
    when the last bulk write in the process ends.
    """
    with _bulk_lock:
        if _bulk["running"] == 0 and gc.get_freeze_count() == 0:
            gc.freeze()
            _bulk["froze"] = True
        _bulk["running"] += 1
        if keeps_what_it_builds:
            if _bulk["keeping"] == 0:
                usual = gc.get_threshold()
                _bulk_threshold.append(usual)
                gc.set_threshold(usual[0], usual[1], max(usual[2], BULK_FULL_THRESHOLD))
            _bulk["keeping"] += 1
    try:
        yield
    finally:
        with _bulk_lock:
            if keeps_what_it_builds:
                _bulk["keeping"] -= 1
                if _bulk["keeping"] == 0:
                    gc.set_threshold(*_bulk_threshold.pop())
            _bulk["running"] -= 1
            if _bulk["running"] == 0 and _bulk["froze"]:
                gc.unfreeze()
                _bulk["froze"] = False
