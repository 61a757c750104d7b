"""Alembic environment: migrates the database named by the settings (or by the caller) with async drivers."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import directory.models
from directory.database import create_engine
from directory.settings import get_settings

config = context.config
target_metadata = directory.models.metadata

# Columns and tables that migrations manage by hand and autogenerate must not try to drop.
_HAND_MANAGED = {"geog", "geom", "location_rtree", "ix_search_location_geom", "ix_search_location_geog", "ix_search_location_sample"}


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    if name in _HAND_MANAGED or (type_ == "table" and name and "location_rtree" in name):
        return False
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    engine = create_engine(url, get_settings())
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")

asyncio.run(_run())
