"""Migrations build the same store on both databases, undo cleanly, and keep the spatial index in step."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from conftest import make_settings, postgres_url
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from directory import migrate
from directory.database import create_engine

TABLES = {"provider", "location", "location_hours", "account", "provider_owner", "listing_change", "claim", "pending_change", "account_npi", "api_key", "verification_record", "clinician", "provider_clinician", "provider_condition", "provider_service",
          "condition", "service", "geocode_cache"}  # fmt: skip


@pytest.fixture
async def fresh_url(backend: str, tmp_path) -> AsyncIterator[str]:
    """An empty database of its own, so that going down to nothing disturbs no other test."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    base = make_url(postgres_url())
    name = f"directory_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, make_settings(url))
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"spatial_ref_sys", "alembic_version"}


async def test_upgrade_downgrade_upgrade(fresh_url):
    migrate.upgrade(fresh_url)
    assert TABLES <= await _tables(fresh_url)
    migrate.downgrade(fresh_url, "base")
    assert {name for name in await _tables(fresh_url) if not name.startswith("location_rtree")} == set()
    migrate.upgrade(fresh_url)
    assert TABLES <= await _tables(fresh_url)


async def test_the_spatial_index_always_matches_latitude_and_longitude(fresh_url, backend):
    migrate.upgrade(fresh_url)
    engine = create_engine(fresh_url, make_settings(fresh_url))
    provider_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO provider (id, slug, name, status, telehealth, telehealth_states, payment_options, "
                "insurance_carriers, price_currency, languages, routes, rems_certified, verification_status, "
                "created_at, updated_at, version) VALUES (:id, 's', 'S', 'published', false, '[]', '[]', '[]', 'USD', "
                "'[]', '[]', false, 'unverified', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            ),
            {"id": provider_id.hex if backend == "sqlite" else provider_id},
        )
        await connection.execute(
            text(
                "INSERT INTO location (id, provider_id, country, latitude, longitude, coordinate_source, "
                "coordinate_precision, hours, created_at, updated_at) VALUES (7, :id, 'US', 61.2, -149.9, 'given', "
                "'exact', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": provider_id.hex if backend == "sqlite" else provider_id},
        )

    async def indexed() -> list[tuple[float, float]]:
        async with engine.connect() as connection:
            if backend == "sqlite":
                rows = await connection.execute(text("SELECT min_lat, min_lon FROM location_rtree WHERE id = 7"))
            else:
                rows = await connection.execute(
                    text("SELECT ST_Y(geog::geometry), ST_X(geog::geometry) FROM location WHERE id = 7")
                )
            return [(round(a, 4), round(b, 4)) for a, b in rows]

    assert await indexed() == [(61.2, -149.9)]
    if backend == "sqlite":
        # The read model's R*Trees: every located row, and the sample's located rows alone.
        from directory.listings.readmodel import SAMPLED

        async with engine.begin() as connection:
            for n, sample in enumerate((0, SAMPLED, SAMPLED - 1)):
                values = {"id": 100 + n, "p": uuid.uuid4().hex, "sample": sample}
                await connection.execute(
                    text(
                        "INSERT INTO search_location (location_id, provider_id, latitude, longitude, conditions, services, routes, payment, "
                        "credentials, specialties, clinicians, access, rems, telehealth, verified, telehealth_states, insurance, languages, "
                        "words, name_key, updated_at, hours, sample, summary, location) VALUES (:id, :p, 40.7, -74.0, 0, 0, 0, 0, 0, 0, '[]', 0, "
                        "false, false, false, '[]', '[]', '[]', '', '', CURRENT_TIMESTAMP, '[]', :sample, '{}', '{}')"
                    ),
                    values,
                )
            await connection.execute(text("DELETE FROM search_location WHERE location_id = 100"))
            everything = (await connection.execute(text("SELECT id FROM search_location_rtree WHERE id >= 100 ORDER BY id"))).scalars().all()
            sampled = (await connection.execute(text("SELECT id FROM search_location_sample_rtree WHERE id >= 100 ORDER BY id"))).scalars().all()
        assert (everything, sampled) == ([101, 102], [102])
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE location SET latitude = 21.3, longitude = -157.85 WHERE id = 7"))
    assert await indexed() == [(21.3, -157.85)]
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM location WHERE id = 7"))
    if backend == "sqlite":
        assert await indexed() == []
    await engine.dispose()


async def test_postgis_has_a_gist_index_on_the_geography(fresh_url, backend):
    if backend != "postgres":
        pytest.skip("PostGIS only")
    migrate.upgrade(fresh_url)
    engine = create_engine(fresh_url, make_settings(fresh_url))
    async with engine.connect() as connection:
        definition = (
            await connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_location_geog'"))
        ).scalar()
        jit = (await connection.execute(text("SHOW jit"))).scalar()
        options = (await connection.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'search_location'"))).scalar()
    await engine.dispose()
    assert "gist (geog)" in definition
    assert jit == "off"
    # Search rows of up to 4 kB are kept whole (migration 0024): no decompression per candidate.
    assert options == ["toast_tuple_target=4080"]
