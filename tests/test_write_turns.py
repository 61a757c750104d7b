"""SQLite's writers take turns: a writer waits for the one before it to end (COMMIT, ROLLBACK, a
failed transaction) and is woken then, across engines as across worker processes; a turn not had
within the wait is "database is locked"."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3

import pytest
from conftest import make_settings
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from directory import writeturns
from directory.database import Database


@pytest.fixture
async def two_servers(tmp_path):
    """Two apps' databases (engines of their own, as two worker processes have) on one SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    one, two = Database.from_settings(make_settings(url)), Database.from_settings(make_settings(url))
    async with one.writer() as session, session.begin():
        await session.execute(text("CREATE TABLE said (n INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)"))
    yield one, two, tmp_path / "turns.db-writer"
    await one.dispose()
    await two.dispose()


def _free(lock_file) -> bool:
    """Nobody holds the turn across processes (a lock of our own can be had at once)."""
    descriptor = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


async def test_a_writer_waits_for_the_turn_and_goes_on_when_the_other_commits(two_servers):
    one, two, lock_file = two_servers
    events: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with one.writer() as session, session.begin():
            await session.execute(text("INSERT INTO said (who) VALUES ('first')"))
            holding.set()
            await release.wait()
            events.append("first commits")
        events.append("first committed")

    async def second() -> None:
        await holding.wait()
        async with two.writer() as session, session.begin():
            await session.execute(text("INSERT INTO said (who) VALUES ('second')"))
            events.append("second wrote")

    writers = asyncio.gather(first(), second())
    await holding.wait()
    await asyncio.sleep(0.3)  # the second writer is waiting for its turn by now, not failing
    assert events == [] and not _free(lock_file)
    release.set()
    await writers
    assert events == ["first commits", "first committed", "second wrote"]
    assert _free(lock_file)
    async with one.reader() as session:
        assert (await session.execute(text("SELECT who FROM said ORDER BY n"))).scalars().all() == ["first", "second"]


async def test_a_rolled_back_or_failed_transaction_ends_its_turn(two_servers):
    one, two, lock_file = two_servers
    with pytest.raises(RuntimeError):
        async with one.writer() as session, session.begin():
            await session.execute(text("INSERT INTO said (who) VALUES ('undone')"))
            raise RuntimeError("the change fails half-way")
    assert _free(lock_file)
    with pytest.raises(OperationalError):
        async with one.writer() as session, session.begin():
            await session.execute(text("INSERT INTO no_such_table VALUES (1)"))
    assert _free(lock_file)
    async with two.writer() as session, session.begin():  # the next writer is not held up
        await session.execute(text("INSERT INTO said (who) VALUES ('next')"))
    async with one.writer() as session:
        await session.execute(text("SELECT 1"))
        await session.rollback()
    assert _free(lock_file)
    async with one.reader() as session:
        assert (await session.execute(text("SELECT who FROM said"))).scalars().all() == ["next"]


async def test_a_turn_not_had_within_the_wait_is_database_is_locked(tmp_path, monkeypatch):
    monkeypatch.setattr(writeturns, "WAIT_SECONDS", 0.3)
    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    one, two = Database.from_settings(make_settings(url)), Database.from_settings(make_settings(url))
    try:
        async with one.writer() as holder, holder.begin():
            await holder.execute(text("CREATE TABLE t (n INTEGER)"))
            with pytest.raises(OperationalError, match="database is locked") as refused:
                async with two.writer() as session, session.begin():
                    await session.execute(text("INSERT INTO t VALUES (1)"))
            assert isinstance(refused.value.orig, sqlite3.OperationalError)
        async with two.writer() as session, session.begin():  # its turn comes once the holder is done
            await session.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        await one.dispose()
        await two.dispose()


async def test_a_turn_ended_from_another_thread_wakes_the_next_writer(tmp_path):
    """A connection left unreturned is closed by the garbage collector, in whatever thread asked for
    memory then (an aiosqlite thread, say): the turn it held must still wake the writer waiting in
    the loop. Released from the other thread itself, the lock's waiter was marked done without the
    loop being woken, and slept until some timer fired."""
    import threading

    turns = writeturns.WriteTurns(str(tmp_path / "turns.db"), 30.0)
    await turns.take(1)
    waiting = asyncio.create_task(turns.take(2))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    def end_later() -> None:
        threading.Event().wait(0.2)  # the loop is asleep by then, waiting for the turn
        turns.end(1)

    threading.Thread(target=end_later).start()
    done, _ = await asyncio.wait({waiting}, timeout=3)  # else the loop sleeps on until this timer fires
    assert waiting in done
    assert _free(tmp_path / "turns.db-writer") is False
    turns.end(2)
    await asyncio.sleep(0)
    assert _free(tmp_path / "turns.db-writer")


@pytest.mark.parametrize("in_memory", [True, False], ids=["one process", "across processes"])
async def test_a_writer_cancelled_as_its_turn_comes_is_cancelled_and_holds_nothing(tmp_path, in_memory):
    """A background worker is cancelled at shutdown; if the cancellation lands in the very loop turn in
    which the writer it waits on hands over, ``asyncio.wait_for`` of Python 3.11 returned the turn and
    dropped the cancellation: the worker went on forever and the app's shutdown waited on it. Cancelled
    at every step of the handover, the writer must stop, holding no turn."""
    path = None if in_memory else str(tmp_path / "turns.db")
    cancelled_in_handover = False
    for steps in range(12):
        turns = writeturns.WriteTurns(path, 30.0)
        await turns.take(1)
        waiting = asyncio.create_task(turns.take(2))
        await asyncio.sleep(0)
        turns.end(1)
        for _ in range(steps):
            await asyncio.sleep(0)
        if not waiting.cancel():  # it had its turn before the cancellation came
            await waiting
            turns.end(2)
            continue
        cancelled_in_handover |= steps > 0
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert 2 not in turns._held, f"cancelled after {steps} steps, the writer holds the turn"
        await asyncio.wait_for(turns.take(3), 1)  # the turn is free for the next writer
        turns.end(3)
        await asyncio.sleep(0)
    assert cancelled_in_handover, "no step cancelled the writer during the handover"
