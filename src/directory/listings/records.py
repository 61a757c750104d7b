"""Published listings read as plain records, for a rebuild of the read model.

A rebuild projects every published listing once and keeps nothing of it. Loading them through the
ORM (a listing and its locations, conditions, services and clinicians, about seven mapped objects
each) cost about 240 µs of CPU a listing, more than projecting it: each object gets its identity,
its state and its instrumented collections. Here the same tables are read with plain selects (the
columns' own types convert the values, as for the ORM) into records that carry the same attribute
names, which is all the projection and the presenters read. Locations come in id order, as the
relationship orders them; the other links in the order the database returns them, as the ORM's own
``selectinload`` gets them.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.database import among
from directory.listings.models import Clinician, Location, Provider, ProviderClinician, ProviderCondition, ProviderService, ProviderStatus
from directory.taxonomy.models import Condition, Service

_PROVIDER = Provider.__table__.c  # type: ignore[attr-defined]
_LOCATION = Location.__table__.c  # type: ignore[attr-defined]
_CLINICIAN = Clinician.__table__.c  # type: ignore[attr-defined]


def published_records(session: Session, ids: list[uuid.UUID]) -> list[Any]:
    """The published listings among ``ids`` as records shaped like ``full_listing()``'s providers
    (``locations``, ``conditions[].condition.name``, ``services[].service.name``,
    ``clinician_roles[].clinician``), for reading only."""
    providers: dict[uuid.UUID, SimpleNamespace] = {}
    published = select(Provider.__table__).where(among(session, _PROVIDER.id, ids), _PROVIDER.status == ProviderStatus.published.value)  # type: ignore[attr-defined]
    for row in session.execute(published):
        providers[row.id] = SimpleNamespace(**row._mapping, locations=[], conditions=[], services=[], clinician_roles=[])
    if not providers:
        return []
    found = list(providers)
    for row in session.execute(select(Location.__table__).where(among(session, _LOCATION.provider_id, found)).order_by(_LOCATION.id)):  # type: ignore[attr-defined]
        providers[row.provider_id].locations.append(SimpleNamespace(**row._mapping))
    conditions = select(ProviderCondition.provider_id, ProviderCondition.condition_code, Condition.name).join(Condition, Condition.code == ProviderCondition.condition_code)
    for provider_id, code, name in session.execute(conditions.where(among(session, ProviderCondition.provider_id, found))):
        providers[provider_id].conditions.append(SimpleNamespace(provider_id=provider_id, condition_code=code, condition=SimpleNamespace(name=name)))
    offered = (ProviderService.provider_id, ProviderService.service_code, ProviderService.price_min, ProviderService.price_max, ProviderService.session_minutes)
    offers = select(*offered, Service.name).join(Service, Service.code == ProviderService.service_code)
    for *values, name in session.execute(offers.where(among(session, ProviderService.provider_id, found))):
        offer = SimpleNamespace(**{column.key: value for column, value in zip(offered, values, strict=True)}, service=SimpleNamespace(name=name))
        providers[offer.provider_id].services.append(offer)
    roles = select(ProviderClinician.provider_id.label("role_of"), ProviderClinician.role.label("role_held"), Clinician.__table__).join(  # type: ignore[attr-defined]
        Clinician, Clinician.id == ProviderClinician.clinician_id
    )
    for row in session.execute(roles.where(among(session, ProviderClinician.provider_id, found))):
        values = row._mapping
        person = SimpleNamespace(**{column.key: values[column] for column in _CLINICIAN})
        role = SimpleNamespace(provider_id=values["role_of"], clinician_id=person.id, role=values["role_held"], clinician=person)
        providers[role.provider_id].clinician_roles.append(role)
    return list(providers.values())
