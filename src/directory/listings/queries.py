"""Reading listings: the statements other areas build on."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from directory.listings.models import Location, Provider, ProviderClinician, ProviderCondition, ProviderService


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
