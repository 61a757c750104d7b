"""Readable, unique listing slugs such as ``hudson-ketamine-clinic-new-york``."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.listings.models import Provider

MAX_LENGTH = 100


def slugify(*parts: str | None) -> str:
    text = " ".join(part for part in parts if part)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:MAX_LENGTH].rstrip("-") or "provider"


async def unique_slug(session: AsyncSession, base: str, *, exclude_id: object = None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free."""
    rows = await session.execute(
        select(Provider.slug, Provider.id).where((Provider.slug == base) | Provider.slug.like(f"{base}-%"))
    )
    taken = {slug for slug, provider_id in rows if provider_id != exclude_id}
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def named_slug(session: AsyncSession, name: str, city: str | None, *, exclude_id: object = None) -> str:
    """A free slug made of the listing's name and its first location's city."""
    return await unique_slug(session, slugify(name, city), exclude_id=exclude_id)
