"""Request-scoped dependencies, declared once for the whole app."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.access import Caller, identify
from directory.accounts.service import AccountService
from directory.database import Database
from directory.listings.service import ListingService
from directory.moderation.service import ModerationService
from directory.partners.service import ApiKeyService
from directory.taxonomy.service import TaxonomyService


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


def provide_accounts(state: State) -> AccountService:
    return state.accounts


def provide_moderation(state: State) -> ModerationService:
    return state.moderation


def provide_api_keys(state: State) -> ApiKeyService:
    return state.api_keys


def provide_caller(request: Request, state: State) -> Caller:
    return identify(request, state.settings)


def provide_listings(state: State) -> ListingService:
    return state.listings


def provide_taxonomy(state: State) -> TaxonomyService:
    return state.taxonomy


DEPENDENCIES = {
    "reader": Provide(provide_reader),
    "read_connection": Provide(provide_read_connection),
    "writer": Provide(provide_writer),
    "caller": Provide(provide_caller, sync_to_thread=False),
    "listings": Provide(provide_listings, sync_to_thread=False),
    "taxonomy": Provide(provide_taxonomy, sync_to_thread=False),
    "accounts": Provide(provide_accounts, sync_to_thread=False),
    "moderation": Provide(provide_moderation, sync_to_thread=False),
    "api_keys": Provide(provide_api_keys, sync_to_thread=False),
}
