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
