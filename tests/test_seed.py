"""The seed data: the taxonomies and a sample directory spread over the country, loaded idempotently."""

from __future__ import annotations

import json

from conftest import empty_listings
from sqlalchemy import func, select

from directory.listings.models import Location, Provider
from directory.seeding import SEED_DIR, seed


def test_the_sample_directory_covers_the_country():
    clinics = json.loads((SEED_DIR / "sample_providers.json").read_text())
    metros = {(c["locations"][0]["city"], c["locations"][0]["state"]) for c in clinics}
    states = {loc["state"] for c in clinics for loc in c["locations"]}
    assert len(clinics) >= 80 and len(metros) >= 30
    assert {"AK", "HI"} <= states
    assert all(c["description"].startswith("Sample data:") for c in clinics)
    assert all(1 <= len(c["locations"]) <= 3 and c["clinicians"] and c["services"] for c in clinics)


async def test_seeding_twice_changes_nothing(settings, database):
    await empty_listings(settings.database_url)
    first = await seed(settings)
    assert first.providers_added >= 80 and first.providers_skipped == 0
    async with database.reader() as session:
        count = (await session.execute(select(func.count()).select_from(Provider))).scalar()
        locations = (await session.execute(select(func.count()).select_from(Location))).scalar()
        newest = (await session.execute(select(func.max(Provider.updated_at)))).scalar()
    second = await seed(settings)
    assert second.providers_added == 0 and second.taxonomy_changed == 0
    assert second.providers_skipped == first.providers_added
    async with database.reader() as session:
        assert (await session.execute(select(func.count()).select_from(Provider))).scalar() == count
        assert (await session.execute(select(func.count()).select_from(Location))).scalar() == locations
        assert (await session.execute(select(func.max(Provider.updated_at)))).scalar() == newest
    await empty_listings(settings.database_url)


async def test_seeding_only_when_empty_leaves_a_used_directory_alone(client, settings):
    from factories import create

    await create(client)
    report = await seed(settings, only_if_empty=True)
    assert report.providers_added == 0
