"""Placing a location: coordinates given or geocoded, its time zone, before the change's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from directory.errors import InvalidInput
from directory.geocoding import Geocoder
from directory.listings.models import Location
from directory.listings.schemas import LocationFields

LOCATION_SCALARS = (
    "name address_line1 address_line2 city state postal_code country phone timezone accessibility accessibility_features "
    "rems_certified rems_certified_on"
).split()


@dataclass
class PlacedLocation:
    """A location's fields with its coordinates settled (given or geocoded) before the transaction."""

    fields: dict[str, Any]


class Placement:
    """Settles where a location is, with the directory's geocoder (offline or online)."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder = geocoder

    async def place(self, data: LocationFields, prefix: str, keep: Location | None = None) -> PlacedLocation:
        """Settle coordinates and time zone; an address nothing can place is a 422 naming the field."""
        fields = data.model_dump(include=set(LOCATION_SCALARS), exclude_none=True)
        fields["hours"] = [h.model_dump() for h in data.hours or []]
        where = f"{prefix}." if prefix else ""
        address = ", ".join(
            part for part in (data.address_line1, data.city, " ".join(filter(None, (data.state, data.postal_code))))
            if part
        )
        if data.latitude is not None and data.longitude is not None:
            unchanged = keep is not None and (keep.latitude, keep.longitude) == (data.latitude, data.longitude)
            fields.update(latitude=data.latitude, longitude=data.longitude)
            if unchanged and keep is not None:
                fields.update(coordinate_source=keep.coordinate_source, coordinate_precision=keep.coordinate_precision)
            else:
                fields.update(coordinate_source="given", coordinate_precision="exact")
            zone = self.geocoder.offline_timezone(address) if address else None
        else:
            place = await self.geocoder.locate(address)
            if place is None:
                field = "postal_code" if data.postal_code else "city"
                raise InvalidInput(f"{where}{field}", f"could not place the address {address!r}; check it or give latitude and longitude")
            fields.update(
                latitude=place.latitude,
                longitude=place.longitude,
                coordinate_source="geocoded",
                coordinate_precision=place.precision,
            )
            zone = place.timezone or self.geocoder.offline_timezone(address)
            # An address given only as a ZIP code gets its city and state filled in.
            if place.city and not data.city:
                fields["city"] = place.city
            if place.state and not data.state:
                fields["state"] = place.state
        if not data.timezone:
            fields["timezone"] = zone
        if fields["hours"] and not fields.get("timezone"):
            raise InvalidInput(f"{where}timezone", "opening hours need a time zone and none could be inferred")
        return PlacedLocation(fields)


def inherit_rems(listing_certified: bool | None, given: list[Any], placed: list[PlacedLocation]) -> None:
    """A listing that says it is REMS-certified as a whole: each location that does not say otherwise is."""
    if listing_certified:
        for data, place in zip(given, placed, strict=True):
            if data.rems_certified is None:
                place.fields["rems_certified"] = True
