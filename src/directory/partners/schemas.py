"""What the API-key routes accept and return. The key itself is returned once, at creation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from directory.validation import Email, Label, Schema


class ApiKeyCreate(Schema):
    name: Label = Field(examples=["Health publisher widget"])
    owner_contact: Email = Field(examples=["dev@publisher.example"])
    scopes: list[Literal["read", "sync"]] = Field(default_factory=lambda: ["read"], min_length=1, max_length=2)
    rate_limit: int = Field(default=600, ge=1, le=100_000, description="requests per minute")


class ApiKeyPublic(BaseModel):
    id: uuid.UUID
    prefix: str
    name: str
    owner_contact: str
    scopes: list[str]
    rate_limit: int
    created_at: datetime
    revoked_at: datetime | None
    usage: dict[str, int] = Field(default_factory=dict, description="requests per UTC day, last 7 days")


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="send as X-API-Key; shown only now, store it safely")
