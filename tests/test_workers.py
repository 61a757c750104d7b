"""Stopping the background workers of an API process: what a cancellation does not stop, a second one does, and nothing hangs the shutdown."""

from __future__ import annotations

import asyncio
import logging

from directory.workers import stop

log = logging.getLogger("directory.test_workers")


async def test_a_worker_that_dropped_its_cancellation_is_cancelled_again():
    cancellations = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancellations.append(1)
                if len(cancellations) == 1:
                    continue  # dropped, as code under a worker may do
                raise

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    await asyncio.wait_for(stop([task], log), 5)
    assert task.cancelled() and len(cancellations) == 2


async def test_a_worker_that_never_stops_is_left_behind_with_an_error_not_waited_on_forever(caplog):
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass

    polite = asyncio.create_task(asyncio.sleep(60), name="polite")
    task = asyncio.create_task(deaf(), name="deaf worker")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger=log.name):
        await asyncio.wait_for(stop([polite, task], log, patience=0.3), 5)
    assert polite.cancelled() and not task.done()
    assert "1 background worker(s) did not stop within 0.3 s" in caplog.text and "deaf worker" in caplog.text
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1)


async def test_a_worker_that_failed_is_logged_when_stopped(caplog):
    async def broken() -> None:
        raise ValueError("a broken worker")

    task = asyncio.create_task(broken(), name="broken worker")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger=log.name):
        await stop([task], log)
    assert "background worker broken worker ended with an error" in caplog.text and "a broken worker" in caplog.text
