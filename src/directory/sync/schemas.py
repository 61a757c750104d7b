"""What the change feed answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from directory.sync.models import ChangeKind


class Change(BaseModel):
    cursor: str = Field(description="this entry's position: pass it as `after` to read on from here")
    id: uuid.UUID = Field(description="the listing's id (GET /v1/providers/{id})")
    version: int = Field(description="the listing's version after this change (its ETag)")
    kind: ChangeKind = Field(
        description="created: fetch and add; updated: fetch and replace; removed: delete; merged: delete, the clinic continues as `merged_into`"
    )
    at: datetime
    merged_into: uuid.UUID | None = Field(default=None, description="for `merged`: the listing this one was merged into (its old id and slug now lead there)")


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str = Field(
        description="pass as `after` for the next page; when `has_more` is false, poll with it later for new changes"
    )
    has_more: bool = Field(description="true when more entries wait right now")


EventName = Literal["listing.published", "listing.updated", "listing.removed", "listing.merged"]
ALL_EVENTS: list[EventName] = ["listing.published", "listing.updated", "listing.removed", "listing.merged"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="your HTTPS endpoint", examples=["https://partner.example/hooks/directory"])
    events: list[EventName] = Field(default_factory=lambda: list(ALL_EVENTS), min_length=1, description="the events to receive; all by default. A subscription without `listing.merged` gets a merge as `listing.removed` (with `merged_into`)")


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    events: list[EventName] | None = Field(default=None, min_length=1)
    status: Literal["active", "paused"] | None = Field(default=None, description="active resumes a paused subscription")


class DeliveryPublic(BaseModel):
    id: int
    event: str
    status: str = Field(description="pending or delivered (failed: given up, only on deliveries made before queues were never given up)")
    attempts: int
    next_attempt_at: datetime | None = Field(description="pending: when its queue is tried next (null: as soon as those before it are delivered)")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    status: str = Field(description="active, or paused (by you, or after failing again and again: see paused_reason)")
    paused_reason: str | None
    paused_by: Literal["owner", "failures"] | None = Field(
        default=None, description="owner: waits until you resume it; failures: probed at each retry, and resumes by itself when one succeeds"
    )
    failures_in_row: int
    next_attempt_at: datetime | None = Field(default=None, description="when the queue is tried next after a failure (null: as soon as anything is queued)")
    pending_deliveries: int = Field(default=0, description="deliveries queued and not yet delivered, sent in order")
    missed_after_cursor: str | None = Field(
        default=None,
        description="the queue was full (DIRECTORY_WEBHOOK_QUEUE_LIMIT): changes after this cursor may be missing from it; read them from "
        "GET /v1/changes?after=<this>. Cleared when you resume the subscription",
    )
    created_at: datetime
    updated_at: datetime
    recent_deliveries: list[DeliveryPublic] | None = Field(default=None, description="the newest 20, on GET of one subscription")


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="signs every delivery (webhook-signature); shown only in this answer")
