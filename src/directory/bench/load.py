"""Loading the synthetic directory fast into a database of the benchmark's own."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

from sqlalchemy.engine import make_url

from directory import migrate
from directory.bench.data import Listing, listings
from directory.database import Database, create_engine
from directory.listings import readmodel
from directory.seeding import load_taxonomy
from directory.settings import Settings
from directory.sync.feed import BACKFILL_SQL

BATCH = 20_000


async def prepare(url: str) -> None:
    """A fresh database holding only the schema and the taxonomies."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import asyncpg

        admin = await asyncpg.connect(_dsn(parsed.set(database="postgres")))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
        finally:
            await admin.close()
    migrate.upgrade(url)
    database = Database.from_settings(Settings(database_url=url))
    try:
        await load_taxonomy(database)
    finally:
        await database.dispose()


def _dsn(url) -> str:  # noqa: ANN001
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _provider_row(item: Listing, now: datetime) -> tuple:
    return (
        item.id, item.slug, item.name, "published", item.accepting, item.telehealth, json.dumps(item.states),
        '["self_pay"]', "[]", item.price_min, item.price_min + 200, "USD", json.dumps(item.languages), '["iv"]',
        False, "verified" if item.verified else "unverified", now if item.verified else None, now, now, now, 1, 0,
    )  # fmt: skip


PROVIDER_COLUMNS = (
    "id", "slug", "name", "status", "accepting_new_patients", "telehealth", "telehealth_states", "payment_options",
    "insurance_carriers", "price_min", "price_max", "price_currency", "languages", "routes", "rems_certified",
    "verification_status", "last_verified_at", "published_at", "created_at", "updated_at", "version",
    "verification_attempts",
)  # fmt: skip
LOCATION_COLUMNS = (
    "provider_id", "state", "country", "latitude", "longitude", "coordinate_source", "coordinate_precision",
    "timezone", "hours", "created_at", "updated_at",
)  # fmt: skip


def _rows(batch: list[Listing]) -> tuple[list, list, list, list]:
    now = datetime.now(timezone.utc)
    providers = [_provider_row(item, now) for item in batch]
    locations = [
        (item.id, state or None, "US", lat, lon, "given", "exact", None, "[]", now, now)
        for item in batch
        for lat, lon, state in item.locations
    ]
    conditions = [(item.id, code) for item in batch for code in item.conditions]
    services = [(item.id, code) for item in batch for code in item.services]
    return providers, locations, conditions, services


async def load(url: str, count: int, seed: int = 42) -> tuple[float, float]:
    """Fill the prepared database with ``count`` published listings and its read model; the seconds it
    took, and the read model's rate (listings/s, as ``directory reindex`` builds it)."""
    started = time.perf_counter()
    generated = listings(count, seed)
    postgres = make_url(url).get_backend_name() != "sqlite"
    if postgres:
        await _load_postgres(url, generated)
    else:
        _load_sqlite(make_url(url).database or "", generated)
    print(f"  tables loaded in {time.perf_counter() - started:.1f} s; building the read model ...", flush=True)
    engine = create_engine(url, Settings(database_url=url))
    building = time.perf_counter()
    try:
        built = await readmodel.reindex(engine, _progress) or 0
    finally:
        await engine.dispose()
    rate = round(built / (time.perf_counter() - building), 1)
    print(f"  read model: {built:,} listings at {rate:,} listings/s", flush=True)
    await _settle(url, postgres)
    return time.perf_counter() - started, rate


def _progress(done: int, total: int) -> None:
    if done % 50_000 < 500 or done == total:
        print(f"  read model: {done:,} of {total:,} listings", flush=True)


async def vacuum_reused(url: str) -> None:
    """A reused PostgreSQL database vacuumed and analysed before it is measured: the writes of earlier
    runs (F's PATCHes) and any ``directory reindex`` left dead rows that searches walk until
    autovacuum comes round (with autovacuum off, five rebuilds of 100k made A's statement ten times
    slower). Not clustered again: that is the fresh load's (it locks the tables for minutes at 1M)."""
    await _postgres(url, "VACUUM ANALYZE")


async def _postgres(url: str, *statements: str) -> None:
    """Run these statements in turn on a connection of their own (outside a transaction)."""
    import asyncpg

    connection = await asyncpg.connect(_dsn(make_url(url)))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _settle(url: str, postgres: bool) -> None:
    """Statistics for the planner; on PostgreSQL the projection ordered by its geometry index, so that
    nearby rows share pages, and the visibility map set so that index-only scans stay index-only."""
    if not postgres:
        connection = sqlite3.connect(make_url(url).database or "")
        try:
            connection.execute("ANALYZE")
        finally:
            connection.close()
        return
    await _postgres(url, "CLUSTER search_location USING ix_search_location_geom", "CLUSTER search_count USING ix_search_count_geom", "VACUUM ANALYZE")


async def _load_postgres(url: str, generated) -> None:  # noqa: ANN001
    import asyncpg

    connection = await asyncpg.connect(_dsn(make_url(url)))
    try:
        while batch := list(islice(generated, BATCH)):
            providers, locations, conditions, services = _rows(batch)
            async with connection.transaction():
                await connection.copy_records_to_table("provider", records=providers, columns=PROVIDER_COLUMNS)
                await connection.copy_records_to_table("location", records=locations, columns=LOCATION_COLUMNS)
                await connection.copy_records_to_table("provider_condition", records=conditions, columns=("provider_id", "condition_code"))
                await connection.copy_records_to_table("provider_service", records=services, columns=("provider_id", "service_code"))
        await connection.execute(BACKFILL_SQL)  # partners following the feed see the loaded listings
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _sqlite_value(value: object) -> object:
    # Stored the way the app's column types store them on SQLite.
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def convert(row: tuple) -> tuple:
    return tuple(_sqlite_value(value) for value in row)


def _load_sqlite(path: str, generated) -> None:  # noqa: ANN001
    connection = sqlite3.connect(path)
    try:
        with connection:  # one transaction
            while batch := list(islice(generated, BATCH)):
                providers, locations, conditions, services = _rows(batch)
                connection.executemany(
                    f"INSERT INTO provider ({', '.join(PROVIDER_COLUMNS)}) VALUES ({', '.join('?' * len(PROVIDER_COLUMNS))})",
                    map(convert, providers),
                )
                connection.executemany(
                    f"INSERT INTO location ({', '.join(LOCATION_COLUMNS)}) VALUES ({', '.join('?' * len(LOCATION_COLUMNS))})",
                    map(convert, locations),
                )
                connection.executemany("INSERT INTO provider_condition VALUES (?, ?)", map(convert, conditions))
                connection.executemany("INSERT INTO provider_service (provider_id, service_code) VALUES (?, ?)", map(convert, services))
            connection.execute(BACKFILL_SQL)
        connection.execute("ANALYZE")
    finally:
        connection.close()
