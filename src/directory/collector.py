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


GC_PAUSE_CPU = Histogram(
    "directory_gc_pause_cpu_seconds",
    "CPU time of each garbage collection (the collector's own work, without the time the process "
    "was descheduled meanwhile), by generation",
    ["generation"],
    buckets=[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
)


class CollectorWatch:
    """Times each collection from gc's own callbacks, on the clock (what a request waits) and in
    the thread's CPU time (the collector's own work: on a busy machine the clock also counts the
    time the worker was descheduled in the middle of one). The callback only notes the pause: it
    may run inside any code that allocates, including prometheus_client's while it holds its lock
    (one process-wide lock in multiprocess mode), so the metrics are fed outside it, by ``flush``."""

    def __init__(self) -> None:
        self._started = (0.0, 0.0)
        self._pending: list[tuple[int, float, float]] = []

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
        else:
            wall, cpu = self._started
            self._pending.append((info["generation"], time.perf_counter() - wall, time.thread_time() - cpu))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for generation, pause, cpu in pending:
            GC_PAUSE.labels(str(generation)).observe(pause)
            GC_PAUSE_CPU.labels(str(generation)).observe(cpu)

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


def young_threshold(objects: int) -> tuple[int, int, int]:
    """Collect the youngest generation after this many new objects; the previous thresholds back."""
    usual = gc.get_threshold()
    gc.set_threshold(objects, usual[1], usual[2])
    return usual


def thaw() -> None:
    """Give the frozen objects back to the collector (an app stopped within a longer-lived process,
    as in the tests, must not keep its heap out of reach)."""
    gc.unfreeze()


#: The full collection's threshold while a bulk write runs: after this many collections of the
#: middle generation (each after 10 of the youngest, each after 700 new objects), about 7 million
#: new objects.
BULK_FULL_THRESHOLD = 1000

_bulk_lock = threading.Lock()
_bulk: dict[str, Any] = {"running": 0, "froze": False, "usual": None}


@contextmanager
def bulk_work() -> Iterator[None]:
    """A bulk write (an import, a read-model rebuild) without full collections of the heap.

    Full collections wait until it ends, and what was alive when it started is frozen meanwhile
    (unless something is frozen already, as a worker's start-up heap is): a full collection would
    find little to free, as what such work drops it drops without cycles (a rebuild's batch of 500
    listings leaves 60 objects in cycles) or keeps until it ends (an import's session holds every
    listing it writes), and would walk everything it has built so far. The young generations are
    still collected (what a request drops, it mostly drops young). The usual state is back when the
    last bulk write in the process ends.

    Measured: a 2,000-listing import, eight full collections of 1.5 s in all, 4.4-5.7 s of CPU
    before, 2.9-3.0 s after; a 100,000-listing rebuild, 121 full collections of 5.8 s in all with
    the heap frozen alone.
    """
    with _bulk_lock:
        if _bulk["running"] == 0:
            usual = _bulk["usual"] = gc.get_threshold()
            gc.set_threshold(usual[0], usual[1], max(usual[2], BULK_FULL_THRESHOLD))
            if gc.get_freeze_count() == 0:
                gc.freeze()
                _bulk["froze"] = True
        _bulk["running"] += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk["running"] -= 1
            if _bulk["running"] == 0:
                gc.set_threshold(*_bulk["usual"])
                if _bulk["froze"]:
                    gc.unfreeze()
                    _bulk["froze"] = False
