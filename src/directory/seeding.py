"""Loading seed/: the taxonomies and the sample directory. Running it twice changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import ADMIN
from directory.database import Database
from directory.geocoding import Geocoder
from directory.listings.changes import Recorder
from directory.listings.models import Provider
from directory.listings.queries import naming
from directory.listings.schemas import ProviderCreate
from directory.listings.service import ListingService
from directory.listings.slugs import slugify
from directory.recording import standard_recorder
from directory.settings import Settings
from directory.taxonomy.models import Condition, Service
from directory.taxonomy.service import TaxonomyService, descendants

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@dataclass
class SeedReport:
    taxonomy_changed: int = 0
    providers_added: int = 0
    providers_skipped: int = 0
    already_listed: int = 0
    """With only_if_empty: the listings the directory already had (no samples were added)."""


async def load_taxonomy(database: Database, folder: Path = SEED_DIR) -> int:
    taxonomy = json.loads((folder / "taxonomy.json").read_text())
    service = TaxonomyService()
    async with database.writer() as session, session.begin():
        changed, conditions = await service.load(session, Condition, taxonomy["conditions"])
        more, services = await service.load(session, Service, taxonomy["services"])
        await session.flush()
        # Listings show the names and search the synonyms of their entries and of the entries above
        # them: the listings of a changed entry, or of any entry below it, are shown anew.
        affected = [
            *await naming(session, Condition, await _with_narrower(session, Condition, conditions)),
            *await naming(session, Service, await _with_narrower(session, Service, services)),
        ]
        await Recorder().refresh(session, affected)
    return changed + more


async def _with_narrower(session: AsyncSession, table: type[Condition] | type[Service], codes: list[str]) -> list[str]:
    if not codes:
        return []
    below = descendants({row.code: row.parent for row in await session.execute(select(table.code, table.parent))})
    return sorted({code for changed in codes for code in below.get(changed, [changed])})


async def seed(settings: Settings, *, samples: bool = True, only_if_empty: bool = False, folder: Path = SEED_DIR) -> SeedReport:
    """Load the taxonomies, then each sample listing whose slug is not taken yet."""
    database = Database.from_settings(settings)
    geocoder = Geocoder(settings, database.writer)
    report = SeedReport()
    try:
        report.taxonomy_changed = await load_taxonomy(database, folder)
        if not samples:
            return report
        async with database.reader() as session:
            existing = set((await session.execute(select(Provider.slug))).scalars())
            listed = (await session.execute(select(func.count()).select_from(Provider))).scalar() or 0
            if only_if_empty and listed:
                report.already_listed = listed
                return report
        listings = ListingService(geocoder, "seeding: no cursors are issued", standard_recorder())
        for raw in json.loads((folder / "sample_providers.json").read_text()):
            listing = ProviderCreate.model_validate(raw)
            city = listing.locations[0].city if listing.locations else None
            if slugify(listing.name, city) in existing:
                report.providers_skipped += 1
                continue
            async with database.writer() as session:
                await listings.create(session, ADMIN, listing)
            report.providers_added += 1
        return report
    finally:
        await geocoder.close()
        await database.dispose()
