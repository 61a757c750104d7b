"""Reading listings: the statements other areas build on."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from directory.listings.models import Location, Provider, ProviderClinician, ProviderCondition, ProviderService, ProviderStatus
from directory.taxonomy.models import Condition, Service

#: The link table of each taxonomy, and its code column.
_LINKS = {Condition: (ProviderCondition, ProviderCondition.condition_code), Service: (ProviderService, ProviderService.service_code)}


def full_listing(for_change: bool = False) -> Select[tuple[Provider]]:
    """A listing with everything it shows; for a change, also the rows derived from its hours."""
    locations = selectinload(Provider.locations)
    if for_change:
        locations = locations.selectinload(Location.opening_intervals)
    return select(Provider).options(
        locations,
        selectinload(Provider.conditions).selectinload(ProviderCondition.condition),
        selectinload(Provider.services).selectinload(ProviderService.service),
        selectinload(Provider.clinician_roles).selectinload(ProviderClinician.clinician),
    )


def as_uuid(key: str | uuid.UUID) -> uuid.UUID | None:
    """A listing key read as an id, or None when it is a slug."""
    if isinstance(key, uuid.UUID):
        return key
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def by_key(key: str | uuid.UUID) -> ColumnElement[bool]:
    """The listing named by id or slug."""
    provider_id = as_uuid(key)
    return Provider.id == provider_id if provider_id else Provider.slug == str(key)


async def published_counts(
    session: AsyncSession, table: type[Condition] | type[Service], groups: dict[str, list[str]]
) -> dict[str, int]:
    """How many published listings name any code of each group (each listing once), by the group's
    key: one pass over the links, one count per group."""
    link, code = _LINKS[table]
    keys = list(groups)
    if not keys:
        return {}
    # A listing links a code once: a lone code's rows are its listings; a group's must be told apart.
    counts = [
        func.count(func.distinct(case((code.in_(groups[key]), link.provider_id))))
        if len(groups[key]) > 1
        else func.coalesce(func.sum(case((code == groups[key][0], 1), else_=0)), 0)
        for key in keys
    ]
    row = (
        await session.execute(
            select(*counts).join(Provider, Provider.id == link.provider_id).where(Provider.status == ProviderStatus.published)
        )
    ).one()
    return dict(zip(keys, row, strict=True))


async def naming(session: AsyncSession, table: type[Condition] | type[Service], codes: list[str]) -> list[uuid.UUID]:
    """The listings that name any of these entries."""
    if not codes:
        return []
    link, code = _LINKS[table]
    return list((await session.execute(select(link.provider_id).where(code.in_(codes)).distinct())).scalars())


async def merged_survivor(session: AsyncSession | AsyncConnection, key: str | uuid.UUID) -> tuple[uuid.UUID, str] | None:
    """For a listing merged into another (by id or slug): the listing it continues as, following
    merges of merges (id and slug); None when the key names no merged listing."""
    row = (await session.execute(select(Provider.merged_into).where(by_key(key), Provider.status == ProviderStatus.merged.value))).first()
    target = row[0] if row else None
    for _ in range(16):
        if target is None:
            return None
        found = (await session.execute(select(Provider.id, Provider.slug, Provider.status, Provider.merged_into).where(Provider.id == target))).first()
        if found is None:
            return None
        if found.status != ProviderStatus.merged.value:
            return found.id, found.slug
        target = found.merged_into
    return None
