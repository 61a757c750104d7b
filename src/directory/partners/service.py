"""Creating, listing and revoking partner keys, and recognising a key on a request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.accounts import callers
from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.errors import InvalidInput, NotAuthenticated, NotFound
from directory.partners.models import ApiKey
from directory.partners.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from directory.ratelimit import LimitStore

USAGE_DAYS = 7
DAY = 86_400


@dataclass(frozen=True)
class KnownKey:
    id: uuid.UUID
    key_hash: str
    scopes: tuple[str, ...]
    rate_limit: int
    revoked: bool
    kind: str = "secret"
    allowed_origins: tuple[str, ...] = ()

    @property
    def browser(self) -> bool:
        return self.kind == "browser"


#: How each kind of key begins: ``dir_<prefix>_<secret>`` and ``pk_<prefix>_<secret>``.
KEY_STARTS = {"secret": "dir", "browser": "pk"}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split(key: str) -> str | None:
    parts = key.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] in KEY_STARTS.values() and len(parts[1]) == 8 else None


def _check_kind(data: ApiKeyCreate) -> None:
    if data.kind == "browser":
        if not data.allowed_origins:
            raise InvalidInput("allowed_origins", "a browser key needs at least one origin, such as https://www.publisher.example")
        if set(data.scopes) != {"read"}:
            raise InvalidInput("scopes", 'a browser key can only read: scopes ["read"]')
    elif data.allowed_origins:
        raise InvalidInput("allowed_origins", "only browser keys are bound to origins; a secret key must never reach a browser")


class ApiKeyService:
    """Keys are looked up by their prefix and cached for half a minute, so a request costs no query."""

    CACHE_SECONDS = 30.0

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], limits: LimitStore,
        sent_through: Callable[[AsyncSession], Awaitable[dict[uuid.UUID, dict[str, int]]]] | None = None,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self.limits = limits
        self.sent_through = sent_through
        """Consultation requests sent through each key, per month (counts only), from the area that keeps them."""
        self._cache: dict[str, tuple[float, KnownKey | None]] = {}

    async def create(self, session: AsyncSession, caller: Caller, data: ApiKeyCreate) -> ApiKeyCreated:
        callers.ensure_admin(caller)
        _check_kind(data)
        prefix = secrets.token_hex(4)
        key = f"{KEY_STARTS[data.kind]}_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKey(
            prefix=prefix,
            key_hash=_hash(key),
            name=data.name,
            owner_contact=data.owner_contact,
            scopes=sorted(set(data.scopes)),
            rate_limit=data.rate_limit,
            kind=data.kind,
            allowed_origins=sorted(set(data.allowed_origins)),
        )
        async with session.begin():
            session.add(row)
        return ApiKeyCreated(**ApiKeyPublic.model_validate(row, from_attributes=True).model_dump(), key=key)

    async def list(self, session: AsyncSession, caller: Caller) -> list[ApiKeyPublic]:
        callers.ensure_admin(caller)
        rows = (await session.execute(select(ApiKey).order_by(ApiKey.created_at))).scalars().all()
        consultations = await self.sent_through(session) if self.sent_through else {}
        keys = []
        for row in rows:
            public = ApiKeyPublic.model_validate(row, from_attributes=True)
            public.usage = await self.usage(row.id)
            public.consultation_requests = consultations.get(row.id, {})
            keys.append(public)
        return keys

    async def revoke(self, session: AsyncSession, caller: Caller, key_id: uuid.UUID) -> ApiKeyPublic:
        callers.ensure_admin(caller)
        async with session.begin():
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"no API key {key_id}")
            row.revoked_at = row.revoked_at or utcnow()
        self._cache.pop(row.prefix, None)
        return ApiKeyPublic.model_validate(row, from_attributes=True)

    async def recognise(self, key: str) -> KnownKey:
        """The key behind an X-API-Key header or a ``key`` query parameter; a wrong, unknown or revoked key is a 401."""
        prefix = _split(key.strip())
        if prefix is None:
            raise NotAuthenticated("the API key is not a key issued by this directory")
        cached = self._cache.get(prefix)
        if cached is None or time.monotonic() - cached[0] > self.CACHE_SECONDS:
            async with self.sessions() as session:
                row = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()
            known = (
                KnownKey(
                    row.id, row.key_hash, tuple(row.scopes), row.rate_limit, row.revoked_at is not None, row.kind, tuple(row.allowed_origins)
                )
                if row
                else None
            )
            cached = (time.monotonic(), known)
            self._cache[prefix] = cached
        known = cached[1]
        if known is None or not hmac.compare_digest(known.key_hash, _hash(key.strip())):
            raise NotAuthenticated("the API key is not valid")
        if known.revoked:
            raise NotAuthenticated("this API key was revoked")
        return known

    async def count_use(self, key_id: uuid.UUID) -> None:
        await self.limits.hit(f"usage:{key_id}", 2**62, DAY)

    async def usage(self, key_id: uuid.UUID) -> dict[str, int]:
        """Requests per UTC day; counted in the limit store (shared through Redis in production)."""
        today = datetime.now(timezone.utc).date()
        counts = {}
        for back in range(USAGE_DAYS):
            day = today - timedelta(days=back)
            start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
            count = await self.limits.count_at(f"usage:{key_id}", DAY, start)
            if count:
                counts[day.isoformat()] = count
        return counts
