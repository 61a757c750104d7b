"""Every check made against the registry, kept: who was checked, when, against what, with what result."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import BigKey, JSONValue, UTCDateTime, empty_list, utcnow


class VerificationRecord(SQLModel, table=True):
    __tablename__ = "verification_record"
    __table_args__ = (Index("ix_verification_record_provider", "provider_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    clinician_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("clinician.id", ondelete="SET NULL"), nullable=True)
    )
    npi: str | None = Field(default=None, max_length=10)
    source: str = Field(default="nppes", max_length=40)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    result: str = Field(max_length=20)
    """passed, failed, or error (the registry could not be asked; the check will be retried)."""
    details: list[Any] = Field(default_factory=empty_list, sa_type=JSONValue)
