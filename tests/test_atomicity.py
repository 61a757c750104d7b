"""A write that fails half-way leaves nothing behind."""

from __future__ import annotations

from conftest import ADMIN
from factories import assert_problem, listing
from sqlalchemy import func, select

from directory.listings import changes, service
from directory.listings.models import Clinician, Location, Provider


async def test_a_create_that_fails_after_some_rows_were_written_stores_nothing(client, database, monkeypatch):
    made = []

    def failing_clinician(data):
        made.append(data)
        if len(made) == 2:
            raise service.Conflict("simulated failure while writing the second clinician")
        return original(data)

    original = changes.new_clinician
    monkeypatch.setattr(changes, "new_clinician", failing_clinician)
    two = listing()
    two["clinicians"] = two["clinicians"] * 2
    response = await client.post("/v1/providers", json=two, headers=ADMIN)
    assert_problem(response, 409)
    async with database.reader() as session:
        for table in (Provider, Location, Clinician):
            assert (await session.execute(select(func.count()).select_from(table))).scalar() == 0


async def test_a_failed_database_write_rolls_back_every_row(client, database, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    async def failing_flush(session):
        await session.flush()
        raise service.Conflict("simulated failure after the rows were flushed") from IntegrityError("x", {}, None)

    monkeypatch.setattr(service, "flush", failing_flush)
    assert_problem(await client.post("/v1/providers", json=listing(), headers=ADMIN), 409)
    async with database.reader() as session:
        assert (await session.execute(select(func.count()).select_from(Provider))).scalar() == 0
        assert (await session.execute(select(func.count()).select_from(Location))).scalar() == 0
