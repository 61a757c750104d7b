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
    """Every knob of the service. Defaults run the embedded mode: a SQLite file, offline geocoding.

    Each field's docstring is its documentation: the README's Configuration table is generated from
    them (``python -m directory.settings``), and a test keeps the two the same."""

    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore", use_attribute_docstrings=True)

    database_url: str = "sqlite+aiosqlite:///./var/directory.db"
    """The database: `postgresql+asyncpg://user@host/db` for PostgreSQL."""
    read_database_url: str | None = None
    """A read-only replica for search and the other read routes."""

    public_url: str | None = None
    """The public base URL (`https://api.example.org`) for absolute links in FHIR and HSDS answers and
    the FHIR code system URIs; unset, links use the host each request came to. Set it in production
    so identifiers stay stable."""

    admin_token: str | None = None
    """A bootstrap bearer token with every right (prefer admin accounts made with `directory users
    create-admin`)."""

    secret_key: str | None = Field(default=None, min_length=32)
    """Signs login tokens and pagination cursors: 32+ random characters, the same on every process.
    Required on PostgreSQL (the server refuses to start without it); on the SQLite default one is
    generated into `var/secret_key` on first run."""

    geocoder: Literal["offline", "nominatim"] = "offline"
    """`offline` (shipped ZIP and city data) or `nominatim`."""
    geocoder_url: str = "https://nominatim.openstreetmap.org"
    """The base URL of the Nominatim-compatible service."""
    geocoder_timeout: float = Field(default=3.0, gt=0, le=30)
    """Seconds before falling back to the offline data."""
    geocoder_user_agent: str = "directory-api"
    """Sent to the online geocoder."""

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated origins allowed by CORS."""

    map_tiles_url: str | None = Field(default=None, pattern=r"^https://[^\s'\"<>]+$")
    """An https raster tile server for the directory page's map (`https://tiles.example/{z}/{x}/{y}.png`);
    empty draws the US states shipped with the app, offline."""
    map_tiles_attribution: str = Field(default="", max_length=300)
    """The credit the tile server requires, shown on the map."""

    @field_validator("map_tiles_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`, for the directory's own loggers (other libraries log
    warnings and worse)."""
    log_format: Literal["text", "json"] = "text"
    """`text` lines (`time LEVEL logger [request id] message`) or `json` for one JSON object per line
    (with the request's id); on stderr."""
    otel_endpoint: str | None = None
    """An OTLP/HTTP collector's base URL (`http://collector:4318`): trace each request and its SQL
    there (needs `directory[otel]`)."""
    otel_service_name: str = "directory"
    """The traces' `service.name`."""

    token_lifetime_minutes: int = Field(default=60, ge=5, le=24 * 60)
    """How long a login token lasts."""
    argon2_memory_kib: int = Field(default=19_456, ge=8, le=1_048_576)
    """argon2id's memory cost for new password hashes, in KiB (OWASP's 19 MiB; older hashes keep verifying)."""
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    """argon2id's passes for new password hashes (OWASP's 2; older hashes keep verifying)."""
    argon2_concurrency: int = Field(default=2, ge=1, le=64)
    """Password hashes at once per process: hashing memory stays within this times the memory cost."""
    login_attempts: int = Field(default=5, ge=1, le=100)
    """Failed logins allowed per account from one address in 15 minutes (four times as many per address)."""

    redis_url: str | None = None
    """Share rate limits and usage counts between processes (`redis://127.0.0.1:6379/0`); required
    with several workers."""
    redis_when_down: Literal["local", "refuse"] = "local"
    """While Redis cannot be reached: `local` counts limits in each process (and logs it), `refuse`
    answers limited routes with 503."""
    anonymous_rate_limit: int = Field(default=120, ge=1)
    """Requests per minute per address without an API key."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Larger request bodies get 413."""

    npi_registry_url: str = "https://npiregistry.cms.hhs.gov/api/"
    """The NPPES NPI Registry API."""
    npi_timeout: float = Field(default=5.0, gt=0, le=60)
    """Seconds per registry request."""
    npi_retries: int = Field(default=3, ge=0, le=10)
    """Retries of a failed registry request, backing off exponentially."""
    verification_worker: bool = True
    """Run the verification worker inside the API process (turn off where a separate one runs)."""
    verification_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the worker looks for due checks."""
    verification_max_age_days: int = Field(default=365, ge=1)
    """After this many days without a new check, a verified listing is flagged stale. The verification
    worker checks each verified listing again before then, by itself (after 75-90% of it, each at its
    own moment), and a failed one after 1, 2, 4... days (at most this)."""
    confirmation_reminder_days: int = Field(default=80, ge=1)
    """Owners are mailed a reminder to confirm their listing's details after this many days without
    a confirmation (a save, or "Still correct")."""
    confirmation_max_age_days: int = Field(default=180, ge=1)
    """After this many days without a confirmation, a listing is marked ``unconfirmed``."""
    confirmation_interval_seconds: float = Field(default=3600.0, gt=0, le=86400)
    """How often the app looks for listings whose owners are due a reminder (with the verification worker)."""
    consultation_keys: str | None = Field(default=None, repr=False)
    """Fernet keys sealing consultation requests at rest, separated by commas: the first seals, all
    open (rotate: put a new key first, run `directory consultations reseal`, then drop the old one).
    Unset: one key derived from the secret key."""
    consultation_retention_days: int = Field(default=90, ge=1, le=3650)
    """Consultation requests are deleted this many days after they were made (at once when withdrawn)."""
    consultation_worker: bool = True
    """Deliver consultation requests by mail (and delete expired ones) from inside the API process."""
    consultation_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the consultation worker looks for mails due and requests past their retention."""
    webhook_worker: bool = True
    """Send webhook deliveries from inside the API process (turn off where a separate one runs)."""
    webhook_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    """How often the worker looks for due deliveries."""
    webhook_timeout: float = Field(default=5.0, gt=0, le=60)
    """Seconds a receiver has to answer one delivery."""
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    """No longer used: a delivery is never given up (its queue waits, paused, and is probed).
    Accepted so that existing configurations start."""
    webhook_pause_after: int = Field(default=5, ge=1, le=1000)
    """Failed attempts in a row after which a subscription is paused (then probed; it resumes by itself)."""
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0, le=3600)
    """A queue's wait after its first failure; it doubles after each one (at most an hour)."""
    webhook_queue_limit: int = Field(default=10_000, ge=1, le=1_000_000)
    """The most pending deliveries one subscription's queue holds (changes beyond are left to the feed)."""
    webhook_allow_http: bool = False
    """Accept `http://` endpoints (local development and tests only)."""
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Private networks endpoints may resolve to anyway, comma-separated (`127.0.0.1/32` for a local receiver)."""

    exact_count_limit: int = Field(default=10_000, ge=0)
    """Search totals and facets are exact up to this many matching listings; beyond, estimated from a
    fixed sixteenth of the listings and marked `"estimated": true`."""

    smtp_url: str | None = None
    """The SMTP server for mail: `smtp://user:password@host:port` (STARTTLS when offered),
    `smtp+starttls://` (STARTTLS required) or `smtps://` (TLS, port 465). Unset, mail is written to
    `DIRECTORY_MAIL_OUTBOX` instead."""
    smtp_timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds the SMTP server has to take one mail."""
    mail_from: str = "Infusion provider directory <no-reply@directory.localhost>"
    """The sender of every mail."""
    mail_outbox: str = "var/outbox"
    """Where mail is written, one `.eml` file each, when no SMTP server is set (the `make run` default)."""
    mail_worker: bool = True
    """Send queued mail from inside the API process (turn off where a separate one runs)."""
    mail_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the mail worker looks for queued mail (mail queued by the same process goes at once)."""
    mail_retry_base_seconds: float = Field(default=30.0, ge=0, le=3600)
    """A mail's wait after its first failed hand-over to the SMTP server; it doubles after each one (at most an hour)."""

    session_lifetime_hours: int = Field(default=12, ge=1, le=24 * 30)
    """How long a portal sign-in lasts."""
    secure_cookies: bool | None = None
    """Mark the portal's cookies Secure (sent over https only). Unset: when `DIRECTORY_PUBLIC_URL` is
    https, or the request came over https."""

    worker_healthcheck_seconds: int = Field(default=60, ge=1, le=3600)
    """How long a server worker may take to answer the supervisor's health check before it is killed
    and replaced (uvicorn's own 5 s is missed by workers starting on a loaded machine)."""
    gc_freeze: bool = True
    """Freeze the heap each worker builds at start-up out of the garbage collector's reach, so that no
    collection walks it again (full collections otherwise pause a worker for hundreds of milliseconds)."""
    gc_young_threshold: int = Field(default=5000, ge=100, le=1_000_000)
    """New objects between two collections of the youngest generation in each worker (Python's own
    is 700). A request in flight keeps what it allocated alive across young collections, which then
    move it up the generations and bring on full collections: at 5,000 a faceted search's full
    collections came 15 times less often and the collector took half the CPU."""

    db_pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL connections kept per process and engine."""
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    """PostgreSQL connections opened beyond the pool under load, per process and engine."""

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


def markdown_table() -> str:
    """The README's Configuration table: one row per setting, from the fields and their docstrings."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None or field.default == "":
            default = "empty"
        elif field.default is None:
            default = "unset"
        elif isinstance(field.default, bool):
            default = f"`{str(field.default).lower()}`"
        else:
            default = f"`{field.default}`"
        if name == "secret_key":
            default = "generated on SQLite"
        meaning = " ".join((field.description or "").split())
        rows.append(f"| `DIRECTORY_{name.upper()}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"


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


if __name__ == "__main__":
    print(markdown_table(), end="")
