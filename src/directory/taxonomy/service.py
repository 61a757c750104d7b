"""Reading the taxonomies, and loading them from seed files."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.taxonomy.models import MAX_ENTRIES, Condition, Service
from directory.taxonomy.schemas import TaxonomyEntry, TaxonomyList

Table = type[Condition] | type[Service]
#: How many published listings name each entry of a taxonomy (given by the listings, which sit above).
Counter = Callable[[AsyncSession, Table], Awaitable[dict[str, int]]]


class TaxonomyService:
    """The taxonomy lists. Their listing counts are a full aggregate, so they are kept a minute."""

    COUNTS_TTL_SECONDS = 60.0

    def __init__(self, count_listings: Counter | None = None) -> None:
        self.count_listings = count_listings
        self._cached: dict[str, tuple[float, TaxonomyList]] = {}

    async def entries(self, session: AsyncSession, table: Table) -> TaxonomyList:
        """Every entry, by name, with the number of published listings linked to it."""
        cached = self._cached.get(table.__tablename__)
        if cached is not None and time.monotonic() - cached[0] < self.COUNTS_TTL_SECONDS:
            return cached[1]
        entries = await self._count(session, table)
        self._cached[table.__tablename__] = (time.monotonic(), entries)
        return entries

    async def _count(self, session: AsyncSession, table: Table) -> TaxonomyList:
        counts = await self.count_listings(session, table) if self.count_listings else {}
        rows = await session.execute(select(table).order_by(table.name))
        return TaxonomyList(
            items=[
                TaxonomyEntry(
                    code=entry.code,
                    name=entry.name,
                    description=entry.description,
                    synonyms=entry.synonyms,
                    provider_count=counts.get(entry.code, 0),
                )
                for entry in rows.scalars()
            ]
        )

    async def load(
        self, session: AsyncSession, table: Table, entries: list[dict[str, Any]]
    ) -> tuple[int, list[str]]:
        """Insert or update entries by code: how many rows changed, and the codes of the entries changed.

        A new entry takes the next free bit of the read model's masks; an entry keeps its bit for good.
        """
        changed = 0
        renamed: list[str] = []
        top = (await session.execute(select(func.max(table.bit)))).scalar()
        next_bit = 0 if top is None else top + 1
        for entry in entries:
            current = await session.get(table, entry["code"])
            values = {"name": entry["name"], "description": entry.get("description"), "synonyms": entry.get("synonyms", [])}
            if current is None:
                if next_bit >= MAX_ENTRIES:
                    raise ValueError(f"a taxonomy holds at most {MAX_ENTRIES} entries; {entry['code']!r} is one too many")
                session.add(table(code=entry["code"], bit=next_bit, **values))
                next_bit += 1
                changed += 1
            elif any(getattr(current, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(current, key, value)
                changed += 1
                renamed.append(current.code)
        return changed, renamed


class TaxonomyIndex:
    """Codes, names and synonyms of both taxonomies, for turning what a searcher typed into codes.

    Kept in memory for a minute: the taxonomies change only when the seed is loaded again.
    """

    TTL_SECONDS = 60.0

    def __init__(self) -> None:
        self._loaded_at = -1e9
        self._entries: dict[str, list[tuple[str, list[str]]]] = {}
        self._bits: dict[str, dict[str, int]] = {}

    async def _refresh(self, session: AsyncSession) -> None:
        if time.monotonic() - self._loaded_at < self.TTL_SECONDS:
            return
        entries: dict[str, list[tuple[str, list[str]]]] = {}
        bits: dict[str, dict[str, int]] = {}
        for kind, table in (("condition", Condition), ("service", Service)):
            rows = (await session.execute(select(table.code, table.name, table.synonyms, table.bit))).all()
            entries[kind] = [(code, [code, name, *synonyms]) for code, name, synonyms, _ in rows]
            bits[f"{kind}s"] = {code: bit for code, _, _, bit in rows if bit is not None}
        self._entries, self._bits = entries, bits
        self._loaded_at = time.monotonic()

    async def resolve(self, session: AsyncSession, kind: str, term: str) -> str | None:
        """The code a term names exactly (its code, name or a synonym, any case), or None."""
        await self._refresh(session)
        wanted = term.strip().lower()
        for code, names in self._entries[kind]:
            if any(wanted == name.lower() for name in names):
                return code
        return None

    async def mentioning(self, session: AsyncSession, kind: str, word: str) -> list[str]:
        """Codes whose code, name or synonyms contain the word (for free-text search)."""
        await self._refresh(session)
        word = word.lower()
        return [code for code, names in self._entries[kind] if any(word in name.lower() for name in names)]

    async def bits(self, session: AsyncSession) -> dict[str, dict[str, int]]:
        """Each code's bit in the read model's masks, by ``conditions`` and ``services``."""
        await self._refresh(session)
        return self._bits

    async def names(self, session: AsyncSession, kind: str) -> dict[str, str]:
        await self._refresh(session)
        return {code: names[1] for code, names in self._entries[kind]}
