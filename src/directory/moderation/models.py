"""Claims on listings: accounts asking to own one, waiting for a moderator.

Changes to trust fields held for a moderator live with the listings (``directory.listings.held``)."""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import UTCDateTime, new_id, utcnow
from directory.listings.held import Decision


class Claim(SQLModel, table=True):
    """An account asking to own an existing listing."""

    __tablename__ = "claim"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True))
    account_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("account.id", ondelete="CASCADE"), nullable=False))
    status: str = Field(default=Decision.pending.value, max_length=20, index=True)
    message: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=1000)


class ListingReport(SQLModel, table=True):
    """A visitor's report of a problem with a published listing. Anonymous: nothing of the reporter is kept."""

    __tablename__ = "listing_report"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True))
    kind: str = Field(max_length=30)
    details: str | None = Field(default=None, max_length=1000)
    status: str = Field(default="open", max_length=20, index=True)
    """open, resolved (the listing was wrong and is corrected) or dismissed."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=1000)
