"""Background work inside the API process: drain what is due, sleep, repeat until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def drain_forever(run_due: Callable[[], Awaitable[int | bool]], interval: float, log: logging.Logger, what: str) -> None:
    """Call ``run_due`` until it reports nothing done, then sleep ``interval``; an error is logged, not fatal."""
    while True:
        try:
            while await run_due():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the worker alive; the error is logged
            log.exception("%s worker failed; retrying", what)
        await asyncio.sleep(interval)


async def stop(tasks: list[asyncio.Task[None]], log: logging.Logger, patience: float = 10.0) -> None:
    """Cancel the workers and wait for them to end. A worker still running after a cancellation (code
    under it dropped the cancellation, as ``asyncio.wait_for`` of Python 3.11 can) is cancelled again
    every half second; one still running after ``patience`` seconds is left behind with an error
    logged, so that the process still shuts down."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    running = {task for task in tasks if not task.done()}
    while running:
        for task in running:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            log.error("%d background worker(s) did not stop within %g s of being cancelled: %s", len(running), patience,
                      ", ".join(sorted(task.get_name() for task in running)))
            break
        _, running = await asyncio.wait(running, timeout=min(0.5, left))
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("background worker %s ended with an error", task.get_name(), exc_info=task.exception())
