"""Field-level history of a listing: who changed what, when, from what to what."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import BigKey, JSONValue, UTCDateTime, utcnow


class ListingChange(SQLModel, table=True):
    __tablename__ = "listing_change"
    __table_args__ = (Index("ix_listing_change_provider", "provider_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    actor: str = Field(max_length=80)
    """The caller: ``admin``, or ``<role>:<account id>``."""
    action: str = Field(max_length=40)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONValue)
    """``{field: {"before": ..., "after": ...}}``."""
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose values differ, with both values."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
