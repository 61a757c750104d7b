"""Answers of the online geocoder, kept so that the same address is never asked for twice."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from directory.columns import UTCDateTime, utcnow


class GeocodeCacheEntry(SQLModel, table=True):
    __tablename__ = "geocode_cache"

    query: str = Field(primary_key=True, max_length=300)
    """The normalised query text."""
    source: str = Field(max_length=40)
    found: bool
    latitude: float | None = None
    longitude: float | None = None
    precision: str | None = Field(default=None, max_length=20)
    label: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
