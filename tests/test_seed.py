"""The seed data: the taxonomies and a sample directory spread over the country, loaded idempotently."""

from __future__ import annotations

import json

from conftest import empty_listings
from sqlalchemy import func, select

from directory.listings.models import Location, Provider
from directory.seeding import SEED_DIR, seed

#: What the README says of the sample directory: "87 fictional clinics in 38 metropolitan areas".
SAMPLE_CLINICS, SAMPLE_METROS = 87, 38


def test_the_sample_directory_covers_the_country_as_the_readme_says():
    from test_readme import README

    clinics = json.loads((SEED_DIR / "sample_providers.json").read_text())
    metros = {(c["locations"][0]["city"], c["locations"][0]["state"]) for c in clinics}
    states = {loc["state"] for c in clinics for loc in c["locations"]}
    assert f"{SAMPLE_CLINICS} fictional clinics in {SAMPLE_METROS}\nmetropolitan areas" in README.read_text()
    assert (len(clinics), len(metros)) == (SAMPLE_CLINICS, SAMPLE_METROS)
    assert {"AK", "HI"} <= states
    assert all(c["description"].startswith("Sample data:") for c in clinics)
    assert all(1 <= len(c["locations"]) <= 3 and c["clinicians"] and c["services"] for c in clinics)


async def test_seeding_twice_changes_nothing(settings, database):
    await empty_listings(settings.database_url)
    first = await seed(settings)
    assert first.providers_added == SAMPLE_CLINICS and first.providers_skipped == 0
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
