"""The change feed: one entry per change to the set of published listings, in commit order."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from directory.columns import BigKey, JSONValue, UTCDateTime, empty_dict, empty_list, new_id, utcnow


class ChangeKind(str, enum.Enum):
    created = "created"
    """The listing became public: new and published, or published again after being removed."""
    updated = "updated"
    """A public listing changed: fetch it again."""
    removed = "removed"
    """The listing is no longer public (closed, suspended, unpublished): drop it."""
    merged = "merged"
    """The listing was merged into another (``merged_into``): drop it; the other one is the clinic."""


class FeedEntry(SQLModel, table=True):
    __tablename__ = "feed_entry"
    __table_args__ = (Index("ix_feed_entry_provider", "provider_id", "seq"),)

    seq: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    """Monotonic, in commit order: a reader that has seen an entry has seen every earlier one."""
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    version: int
    kind: str = Field(max_length=10)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    merged_into: uuid.UUID | None = Field(default=None, sa_type=Uuid)
    """For ``merged``: the listing it continues as."""


class WebhookStatus(str, enum.Enum):
    active = "active"
    paused = "paused"


#: The feed's kinds as webhook event types.
EVENTS = {"created": "listing.published", "updated": "listing.updated", "removed": "listing.removed", "merged": "listing.merged"}


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_key_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, index=True))
    """The partner key that registered it; null when an administrator did."""
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    secret: str = Field(max_length=100)
    """Signs every delivery; shown to the owner once, when the subscription is made."""
    status: str = Field(default=WebhookStatus.active.value, max_length=10)
    failures_in_row: int = 0
    paused_reason: str | None = Field(default=None, max_length=1000)
    paused_by: str | None = Field(default=None, max_length=10)
    """``owner`` (stays paused until resumed) or ``failures`` (probed, and resumed by the first success)."""
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the worker may next send the head of this subscription's queue (null: now)."""
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """A worker is sending from this queue until then (its lease; another may take over after)."""
    missed_after: int | None = Field(default=None, sa_type=BigKey)
    """The queue was full: changes after this feed cursor were not queued (catch up from the feed)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryStatus(str, enum.Enum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
        Index("ix_webhook_delivery_queue", "subscription_id", "status", "id"),
    )

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    subscription_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("webhook_subscription.id", ondelete="CASCADE"), nullable=False)
    )
    event: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONValue)
    status: str = Field(default=DeliveryStatus.pending.value, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
