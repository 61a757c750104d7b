"""Writing an import's listings, a batch at a time.

A batch asks the database a handful of questions whatever its size: which of its listings exist
already (by external id), which slugs are free for the new ones, the taxonomy entries once per
import; then its new listings are built in the session (``new_listing``, nothing asked) and the
whole batch is flushed at once, each table's rows as one multi-row INSERT. A listing that exists
already is compared and changed as before, one at a time (re-imports are few and mostly
unchanged). The recorder brings the read model, the feed and the duplicate check in step for all of
them when the transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.imports.csvfile import Group
from directory.listings import policy
from directory.listings.changes import (
    PROVIDER_SCALARS,
    bump_version,
    diff,
    due_now,
    flush,
    new_listing,
    new_location,
    offer,
    record_change,
    record_created,
    set_price,
    snapshot,
)
from directory.listings.models import Location, Provider, ProviderCondition, ProviderService, ProviderStatus
from directory.listings.placement import PlacedLocation
from directory.listings.queries import full_listing
from directory.listings.schemas import ProviderCreate
from directory.listings.slugs import free_slugs, slugify
from directory.taxonomy.models import Condition, Service

#: Listings written per flush. Bigger batches gain little and hold more of the file in the session.
BATCH = 200
_COMPARED_LOCATION_FIELDS = (
    "name address_line1 address_line2 city state postal_code country latitude longitude phone timezone hours accessibility "
    "accessibility_features rems_certified rems_certified_on"
).split()
#: What a location holds when the file leaves these out.
_LOCATION_DEFAULTS: dict[str, Any] = {"accessibility_features": [], "rems_certified": False}


@dataclass
class Prepared:
    group: Group
    data: ProviderCreate
    placed: list[PlacedLocation]


_TAXONOMY = "import_taxonomy"


async def _taxonomy(session: AsyncSession) -> tuple[dict[str, Condition], dict[str, Service]]:
    """The taxonomy's entries by code, read once per session (kept in its ``info``: the entries
    belong to that session)."""
    info = session.sync_session.info
    if _TAXONOMY not in info:
        conditions = {entry.code: entry for entry in (await session.execute(select(Condition))).scalars()}
        services = {entry.code: entry for entry in (await session.execute(select(Service))).scalars()}
        info[_TAXONOMY] = (conditions, services)
    return info[_TAXONOMY]


async def write_batch(session: AsyncSession, caller: Caller, source: str, batch: list[Prepared]) -> list[tuple[str, uuid.UUID]]:
    """Write these listings inside the caller's transaction: (created/updated/unchanged, id) of each."""
    found = await session.execute(
        full_listing(for_change=True).where(Provider.external_source == source, Provider.external_id.in_([r.group.external_id for r in batch]))
    )
    existing = {provider.external_id: provider for provider in found.scalars()}
    new = [ready for ready in batch if ready.group.external_id not in existing]
    bases = [slugify(ready.data.name, ready.placed[0].fields.get("city") if ready.placed else None) for ready in new]
    slugs = dict(zip((id(ready) for ready in new), await free_slugs(session, bases)))
    conditions, services = await _taxonomy(session)
    results = []
    created: list[Provider] = []
    for ready in batch:
        current = existing.get(ready.group.external_id)
        data = _with_status(caller, ready.data, current)
        if current is None:
            provider = new_listing(
                session, caller, data, ready.placed, conditions, services, slugs[id(ready)],
                external_source=source, external_id=ready.group.external_id,
            )  # fmt: skip
            created.append(provider)
            results.append(("created", provider.id))
        else:
            results.append((await _update(session, caller, current, data, ready.placed), current.id))
    await flush(session)
    for provider in created:
        record_created(session, caller, provider, "import")
    return results


def _with_status(caller: Caller, data: ProviderCreate, existing: Provider | None) -> ProviderCreate:
    wanted = data.status.value if data.status else None
    status = policy.imported_status(caller, wanted, existing.status if existing is not None else None)
    return data if status == wanted else data.model_copy(update={"status": ProviderStatus(status)})


async def _update(session: AsyncSession, caller: Caller, existing: Provider, data: ProviderCreate, placed: list[PlacedLocation]) -> str:
    scalars = data.model_dump(include=set(PROVIDER_SCALARS), mode="json")
    scalars = {name: value for name, value in scalars.items() if value is not None or name in data.model_fields_set}
    for name in ("telehealth", "rems_certified"):
        scalars.setdefault(name, False)
    for name in ("telehealth_states", "payment_options", "insurance_carriers", "languages", "routes"):
        scalars[name] = scalars.get(name) or []
    scalars["translations"] = scalars.get("translations") or {}
    if _same(existing, data, scalars, placed):
        return "unchanged"
    before = snapshot(existing)
    for name in PROVIDER_SCALARS:
        value = scalars.get(name)
        if getattr(existing, name) != value:
            setattr(existing, name, value)
    set_price(existing, data)
    if existing.npi and before["npi"] != existing.npi:
        due_now(existing)
    if existing.status == ProviderStatus.published and existing.published_at is None:
        existing.published_at = utcnow()
    existing.conditions = [ProviderCondition(condition_code=code) for code in data.conditions or []]
    existing.services = [ProviderService(service_code=s.code, **offer(s)) for s in data.services or []]
    _replace_locations(existing, placed)
    await bump_version(session, existing)
    record_change(session, existing.id, caller, "updated", diff(before, snapshot(existing)), reason="import")
    return "updated"


def _location_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values.get(name, _LOCATION_DEFAULTS.get(name)) for name in _COMPARED_LOCATION_FIELDS}


def _same(existing: Provider, data: ProviderCreate, scalars: dict[str, Any], placed: list[PlacedLocation]) -> bool:
    """Whether the stored listing already says what the import says."""
    if any(getattr(existing, name) != scalars.get(name) for name in PROVIDER_SCALARS):
        return False
    price = data.price
    if (existing.price_min, existing.price_max) != ((price.min, price.max) if price else (None, None)):
        return False
    if sorted(link.condition_code for link in existing.conditions) != sorted(data.conditions or []):
        return False
    stored_offers = sorted((o.service_code, o.price_min, o.price_max, o.session_minutes) for o in existing.services)
    offers = sorted((s.code, s.price_min, s.price_max, s.session_minutes) for s in data.services or [])
    if stored_offers != offers:
        return False
    stored = [_location_values({name: getattr(loc, name) for name in _COMPARED_LOCATION_FIELDS}) for loc in existing.locations]
    wanted = [_location_values({"country": "US", **p.fields}) for p in placed]
    return stored == wanted


def _replace_locations(provider: Provider, placed: list[PlacedLocation]) -> None:
    """Update the stored locations in order, add the extra ones, drop the surplus: ids stay stable."""
    kept: list[Location] = []
    for index, place in enumerate(placed):
        if index < len(provider.locations):
            location = provider.locations[index]
            fields = dict(place.fields)
            hours = fields.pop("hours")
            for name in _COMPARED_LOCATION_FIELDS:
                if name != "hours" and name != "country":
                    setattr(location, name, fields.get(name, _LOCATION_DEFAULTS.get(name)))
            location.coordinate_source = fields["coordinate_source"]
            location.coordinate_precision = fields["coordinate_precision"]
            location.set_hours(hours)
            location.updated_at = utcnow()
            kept.append(location)
        else:
            kept.append(new_location(place.fields))
    provider.locations = kept
