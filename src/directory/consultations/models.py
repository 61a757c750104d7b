"""The tables of consultation requests. No column holds personal data in clear: it is all in ``sealed``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Text, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import BigKey, UTCDateTime, new_id, utcnow


class ConsultationRequest(SQLModel, table=True):
    __tablename__ = "consultation_request"
    __table_args__ = (Index("ix_consultation_due", "delivery_due_at"), Index("ix_consultation_provider", "provider_id", "created_at"))

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    """The requester's reference."""
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    key_id: uuid.UUID | None = Field(default=None, sa_type=Uuid)
    """The partner's browser key it came through, if any."""
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    """Name, phone, email, preferred contact and time, message: JSON sealed with Fernet (``sealing``)."""
    fold: str = Field(max_length=64, index=True)
    """A keyed digest of the contents, to fold identical repeats into one request."""
    repeats: int = 0
    withdraw_hash: str = Field(max_length=64)
    """SHA-256 of the withdrawal token mailed to the requester (the token itself is never stored)."""
    status: str = Field(default="new", max_length=20)
    """new, contacted or closed (by the clinic)."""
    has_email: bool = False
    """Whether the requester gave an email (a confirmation with the withdrawal link is due)."""
    clinic_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requester_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivery_due_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    """When the worker tries the mails still to send next; None once every mail is sent."""
    delivery_attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    base_url: str = Field(max_length=300)
    """Where the mails' links point (the public URL, or the address the request came to)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsultationTally(SQLModel, table=True):
    """How many requests each listing received through each way in (a partner's key, or none), per
    month: counts only, kept after the requests themselves are deleted."""

    __tablename__ = "consultation_tally"

    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True))
    key_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    """The partner key, or the nil UUID for the directory's own pages and anonymous API calls."""
    month: str = Field(max_length=7, primary_key=True)
    count: int = 0


class ConsultationAccess(SQLModel, table=True):
    """Who read a request's personal data other than by the listing's owners' inbox: a moderator
    looking into abuse. Kept after the request is deleted."""

    __tablename__ = "consultation_access"

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    request_id: uuid.UUID = Field(sa_type=Uuid, index=True)
    provider_id: uuid.UUID = Field(sa_type=Uuid)
    actor: str = Field(max_length=80)
    reason: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
