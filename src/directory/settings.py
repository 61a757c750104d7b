"""Runtime settings, read once from ``DIRECTORY_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from typing_extensions import Annotated


class Settings(BaseSettings):
    """Every knob of the service. Defaults run the embedded mode: a SQLite file, offline geocoding."""

    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/directory.db"
    read_database_url: str | None = None
    """Optional read-only replica used by search and the other read routes."""

    public_url: str | None = None
    """The API's public base URL (https://api.example.org), for the absolute links of FHIR and HSDS
    answers and the FHIR code systems; without it, links use the host each request came to."""

    admin_token: str | None = None
    """Bearer token with every right. Until accounts exist, writes are refused while it is unset."""

    secret_key: str | None = Field(default=None, min_length=32)
    """Signs login tokens and pagination cursors: at least 32 characters, the same on every process.
    Required on PostgreSQL; on the embedded SQLite default one is generated into var/ once."""

    geocoder: Literal["offline", "nominatim"] = "offline"
    geocoder_url: str = "https://nominatim.openstreetmap.org"
    geocoder_timeout: float = Field(default=3.0, gt=0, le=30)
    geocoder_user_agent: str = "directory-api"

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    map_tiles_url: str | None = Field(default=None, pattern=r"^https://[^\s'\"<>]+$")
    """A raster tile server for the directory page's map (https://tiles.example/{z}/{x}/{y}.png);
    without one the map draws the US states shipped with the app, and makes no request elsewhere."""
    map_tiles_attribution: str = Field(default="", max_length=300)
    """The credit the tile server requires, shown on the map."""

    @field_validator("map_tiles_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    otel_endpoint: str | None = None
    """An OTLP/HTTP collector's base URL (http://collector:4318): traces each request and its SQL there. Needs the otel extra."""
    otel_service_name: str = "directory"
    """The service.name of the traces."""
    """json: the directory's log lines as JSON objects, each with its request's id."""

    token_lifetime_minutes: int = Field(default=60, ge=5, le=24 * 60)
    argon2_memory_kib: int = Field(default=19_456, ge=8, le=1_048_576)
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    """argon2id's cost (OWASP's: 19 MiB, 2 passes). Hashes made with other costs still verify."""
    argon2_concurrency: int = Field(default=2, ge=1, le=64)
    """Password hashes at once per process: memory for hashing stays within this times argon2_memory_kib."""
    login_attempts: int = Field(default=5, ge=1, le=100)
    """Failed logins allowed per email (and per client address) in 15 minutes."""

    redis_url: str | None = None
    """Share rate-limit counters between processes (required with several workers)."""
    redis_when_down: Literal["local", "refuse"] = "local"
    """While Redis cannot be reached: count limits in each process (and log it), or answer limited routes with 503."""
    anonymous_rate_limit: int = Field(default=120, ge=1)
    """Requests per minute for a client without an API key, per address."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    npi_registry_url: str = "https://npiregistry.cms.hhs.gov/api/"
    npi_timeout: float = Field(default=5.0, gt=0, le=60)
    npi_retries: int = Field(default=3, ge=0, le=10)
    verification_worker: bool = True
    """Run the verification worker inside the API process (turn off where a separate one runs)."""
    verification_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    verification_max_age_days: int = Field(default=365, ge=1)
    """A listing not re-verified within this many days is flagged stale."""
    webhook_worker: bool = True
    """Send webhook deliveries from inside the API process (turn off where a separate one runs)."""
    webhook_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    webhook_timeout: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    """No longer used: a delivery is never given up (its queue waits, paused, and is probed). Still
    accepted so that existing configurations start."""
    webhook_pause_after: int = Field(default=5, ge=1, le=1000)
    """Pause a subscription after this many failed attempts in a row (it is then probed, and resumes by itself)."""
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0, le=3600)
    """The wait after a queue's first failed attempt; it doubles after each one, to at most an hour."""
    webhook_queue_limit: int = Field(default=10_000, ge=1, le=1_000_000)
    """The most pending deliveries one subscription's queue holds (changes beyond are left to the feed)."""
    webhook_allow_http: bool = False
    """Accept http:// endpoints (tests and local development only)."""
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Private networks endpoints may resolve to anyway, comma-separated (e.g. 127.0.0.1/32 for a local receiver)."""

    exact_count_limit: int = Field(default=10_000, ge=0)
    """Search totals and facets count every match exactly up to this many matching listings; beyond,
    they are estimated from a fixed sample of a sixteenth of the listings (``estimated: true``)."""

    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)

    @field_validator("cors_origins", "webhook_allowed_networks", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        # A comma-separated list reads better in an environment variable than JSON.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network such as 127.0.0.1/32 or 10.0.0.0/8") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("expected an absolute http(s) URL without query or fragment, e.g. https://api.example.org")
        return value.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def with_secret(settings: Settings) -> Settings:
    """The settings with a secret key: the configured one, or, for a local SQLite file, one generated
    beside it on first use (so that every local worker shares it). A known default would let anyone
    sign tokens, so PostgreSQL deployments must set DIRECTORY_SECRET_KEY."""
    if settings.secret_key:
        return settings
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError("set DIRECTORY_SECRET_KEY (32 or more random characters, the same on every process)")
    path = Path(url.database).parent / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(48))
    except FileExistsError:
        pass  # another process made it first
    return settings.model_copy(update={"secret_key": path.read_text().strip()})
