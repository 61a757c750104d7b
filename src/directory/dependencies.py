"""Request-scoped dependencies, declared once for the whole app."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.accounts.callers import Caller, identify
from directory.database import Database


def _database(state: State) -> Database:
    return state.database


async def provide_reader(state: State) -> AsyncIterator[AsyncSession]:
    async with _database(state).reader() as session:
        yield session


async def provide_read_connection(state: State) -> AsyncIterator[AsyncConnection]:
    """A plain connection of the reader, for the hot public reads: no ORM session around it."""
    async with _database(state).read_engine.connect() as connection:
        yield connection


async def provide_writer(state: State) -> AsyncIterator[AsyncSession]:
    async with _database(state).writer() as session:
        yield session


async def provide_caller(request: Request, state: State) -> Caller:
    """The caller, with an account's role and standing as stored now (see ``accounts.standing``)."""
    return await state.standing.current(identify(request, state.settings))


#: The services the app builds at start-up (see ``app.create_app``), each injected by its name.
SERVICES = ("listings", "taxonomy", "accounts", "moderation", "api_keys", "verification", "imports", "fhir", "hsds", "subscriptions", "team", "reports", "duplicates", "consultations")


def _service(name: str) -> Provide:
    def provide(state: State) -> object:
        return getattr(state, name)

    return Provide(provide, sync_to_thread=False)


DEPENDENCIES = {
    "reader": Provide(provide_reader),
    "read_connection": Provide(provide_read_connection),
    "writer": Provide(provide_writer),
    "caller": Provide(provide_caller),
    **{name: _service(name) for name in SERVICES},
}
