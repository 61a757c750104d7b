"""Turning a place written by a person into coordinates.

``Geocoder.locate`` is the one entry point used by listings (an address without coordinates) and by
search (``near=``). With the online geocoder configured it asks that first, keeps its answers in the
``geocode_cache`` table, and falls back to the offline data when it is slow or down.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from geopy.exc import GeocoderServiceError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.geocoding.models import GeocodeCacheEntry
from directory.geocoding.offline import OfflineGeocoder, state_at, warm_up
from directory.geocoding.online import geocode_online, nominatim, precision_of
from directory.settings import Settings

logger = logging.getLogger("directory.geocoding")


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    precision: str
    """"address", "postcode" or "city"."""
    label: str
    source: str
    timezone: str | None = None
    city: str | None = None
    state: str | None = None


def normalise_query(query: str) -> str:
    return re.sub(r"\s+", " ", query.strip().lower())[:300]


class Geocoder:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.offline = OfflineGeocoder()
        self.online = (
            nominatim(settings.geocoder_url, timeout=settings.geocoder_timeout, user_agent=settings.geocoder_user_agent)
            if settings.geocoder == "nominatim"
            else None
        )
        self.sessions = sessions

    async def locate(self, query: str) -> Place | None:
        """The place a query names, or None when nothing knows it."""
        query = query.strip()
        if not query:
            return None
        if self.online is not None:
            place, answered = await self._locate_online(query)
            if answered:
                return place or self._locate_offline(query)
        return self._locate_offline(query)

    def _locate_offline(self, query: str) -> Place | None:
        found = self.offline.geocode(query)
        if found is None:
            return None
        raw = found.raw
        return Place(
            found.latitude,
            found.longitude,
            raw["precision"],
            found.address,
            "offline",
            raw["timezone"],
            raw["city"],
            raw["state"],
        )

    def state_at(self, latitude: float, longitude: float) -> str | None:
        """The US state a point lies in, from the offline ZIP data (None outside the US)."""
        return state_at(latitude, longitude)

    def offline_timezone(self, query: str) -> str | None:
        """The IANA zone of a ZIP code or city, from the offline data; None when unknown."""
        place = self._locate_offline(query)
        return place.timezone if place else None

    async def _locate_online(self, query: str) -> tuple[Place | None, bool]:
        """(place, answered): answered is False when the service failed and nothing was cached."""
        key = normalise_query(query)
        async with self.sessions() as session:
            cached = await session.get(GeocodeCacheEntry, key)
        if cached is not None:
            return _place_of(cached), True
        try:
            found = await geocode_online(self.online, query)
        except GeocoderServiceError as error:
            logger.warning("online geocoder failed, using offline data: %s", error)
            return None, False
        entry = GeocodeCacheEntry(query=key, source="nominatim", found=found is not None)
        if found is not None:
            entry.latitude, entry.longitude = found.latitude, found.longitude
            entry.precision, entry.label = precision_of(found), (found.address or "")[:300]
        async with self.sessions() as session, session.begin():
            await session.merge(entry)
        return _place_of(entry), True

    async def close(self) -> None:
        if self.online is not None:
            await self.online.adapter.__aexit__(None, None, None)


def _place_of(entry: GeocodeCacheEntry) -> Place | None:
    if not entry.found or entry.latitude is None or entry.longitude is None:
        return None
    return Place(entry.latitude, entry.longitude, entry.precision or "city", entry.label or "", entry.source)


__all__ = ["Geocoder", "Place", "warm_up"]
