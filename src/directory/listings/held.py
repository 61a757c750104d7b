"""Changes to the fields that carry trust (NPIs, credentials, licenses) of a published listing,
held for a moderator: an owner's other changes go live at once, these wait for a decision."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import JSONValue, UTCDateTime, new_id, utcnow


class Decision(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class PendingChange(SQLModel, table=True):
    """An owner's change to a trust field of a published listing, held until a moderator decides."""

    __tablename__ = "pending_change"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True))
    clinician_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("clinician.id", ondelete="CASCADE"), nullable=True)
    )
    field: str = Field(max_length=40)
    value: Any = Field(default=None, sa_type=JSONValue)
    requested_by: str = Field(max_length=80)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default=Decision.pending.value, max_length=20, index=True)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=1000)


class PendingChangePublic(BaseModel):
    id: uuid.UUID
    provider_id: uuid.UUID
    clinician_id: uuid.UUID | None
    field: str
    value: Any
    requested_by: str
    requested_at: datetime
    status: str
    decided_at: datetime | None
    reason: str | None
