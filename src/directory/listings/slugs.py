"""Readable, unique listing slugs such as ``hudson-ketamine-clinic-new-york``."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.listings.models import Provider

MAX_LENGTH = 100
#: How many numbered slugs of one base ``free_slugs`` tries before asking on its own.
TRIED = 10


def slugify(*parts: str | None) -> str:
    text = " ".join(part for part in parts if part)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:MAX_LENGTH].rstrip("-") or "provider"


async def unique_slug(session: AsyncSession, base: str, *, exclude_id: object = None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free."""
    return _first_free(base, await _taken(session, base, exclude_id))


def _first_free(base: str, taken: set[str], number: int = 1) -> str:
    """The first of ``base``, ``base-2``, ... from the ``number``-th on that is not taken."""
    while _numbered(base, number) in taken:
        number += 1
    return _numbered(base, number)


def _numbered(base: str, number: int) -> str:
    """The slug ``unique_slug`` gives the ``number``-th listing of a base: ``base``, ``base-2``, ..."""
    return f"{base}-{number}" if number > 1 else base


async def _taken(session: AsyncSession, base: str, exclude_id: object = None) -> set[str]:
    """The slugs in use that are ``base`` or ``base-`` something (but the excluded listing's)."""
    rows = await session.execute(select(Provider.slug, Provider.id).where((Provider.slug == base) | Provider.slug.like(f"{base}-%")))
    return {slug for slug, provider_id in rows if provider_id != exclude_id}


async def named_slug(session: AsyncSession, name: str, city: str | None, *, exclude_id: object = None) -> str:
    """A free slug made of the listing's name and its first location's city."""
    return await unique_slug(session, slugify(name, city), exclude_id=exclude_id)


async def free_slugs(session: AsyncSession, bases: list[str]) -> list[str]:
    """A free slug for each base, as ``unique_slug`` gives it, for many listings in one question:
    ``base`` or ``base-2`` ... ``base-{TRIED}`` (a base taken further than that is asked on its own).
    Two equal bases get two different slugs."""
    candidates = {_numbered(base, number) for base in set(bases) for number in range(1, TRIED + 1)}
    taken: set[str] = set()
    ordered = sorted(candidates)
    for start in range(0, len(ordered), 1000):
        taken.update((await session.execute(select(Provider.slug).where(Provider.slug.in_(ordered[start : start + 1000])))).scalars())
    slugs = []
    for base in bases:
        free = next((slug for number in range(1, TRIED + 1) if (slug := _numbered(base, number)) not in taken), None)
        if free is None:  # taken further than asked: ask about this base alone
            taken |= await _taken(session, base)
            free = _first_free(base, taken, TRIED + 1)
        taken.add(free)
        slugs.append(free)
    return slugs
