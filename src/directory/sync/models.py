"""The change feed: one entry per change to the set of published listings, in commit order."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import BigKey, UTCDateTime, utcnow


class ChangeKind(str, enum.Enum):
    created = "created"
    """The listing became public: new and published, or published again after being removed."""
    updated = "updated"
    """A public listing changed: fetch it again."""
    removed = "removed"
    """The listing is no longer public (closed, suspended, unpublished): drop it."""


class FeedEntry(SQLModel, table=True):
    __tablename__ = "feed_entry"
    __table_args__ = (Index("ix_feed_entry_provider", "provider_id", "seq"),)

    seq: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    """Monotonic, in commit order: a reader that has seen an entry has seen every earlier one."""
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    version: int
    kind: str = Field(max_length=10)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
