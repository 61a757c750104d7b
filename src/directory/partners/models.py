"""Partner API keys: stored hashed, shown once."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from directory.columns import JSONValue, UTCDateTime, empty_list, new_id, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    prefix: str = Field(max_length=16, unique=True)
    """The public part of the key, to find it without scanning."""
    key_hash: str = Field(max_length=64)
    """SHA-256 of the whole key: keys are long random strings, so a fast hash is enough."""
    name: str = Field(max_length=100)
    owner_contact: str = Field(max_length=254)
    scopes: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    kind: str = Field(default="secret", max_length=10)
    """``secret`` (server to server, never in a browser) or ``browser`` (publishable: read only, from its origins)."""
    allowed_origins: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    """For a browser key: the web origins (scheme://host[:port]) whose pages may use it."""
    rate_limit: int = Field(description="requests per minute")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
