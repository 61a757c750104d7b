"""Reading the taxonomies, and loading them from seed files."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.taxonomy.models import MAX_ENTRIES, Condition, Service, spoken
from directory.taxonomy.schemas import TaxonomyEntry, TaxonomyList
from directory.words import fold

Table = type[Condition] | type[Service]
#: How many published listings name any entry of each group, by the group's code (given by the
#: listings, which sit above): a broad entry's group is itself and every entry below it.
Counter = Callable[[AsyncSession, Table, dict[str, list[str]]], Awaitable[dict[str, int]]]


def descendants(parents: dict[str, str | None]) -> dict[str, list[str]]:
    """Each code with every code below it (itself first, then the narrower ones by code)."""
    children: dict[str, list[str]] = {}
    for code, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(code)
    found: dict[str, list[str]] = {}
    for code in parents:
        seen, todo = [code], sorted(children.get(code, []))
        while todo:
            child = todo.pop(0)
            if child not in seen:
                seen.append(child)
                todo += sorted(children.get(child, []))
        found[code] = [code, *sorted(seen[1:])]
    return found


class TaxonomyService:
    """The taxonomy lists. Their listing counts are a full aggregate, so they are kept a minute."""

    COUNTS_TTL_SECONDS = 60.0

    def __init__(self, count_listings: Counter | None = None) -> None:
        self.count_listings = count_listings
        self._cached: dict[str, tuple[float, TaxonomyList]] = {}

    async def entries(self, session: AsyncSession, table: Table, language: str = "en") -> TaxonomyList:
        """Every entry, by name in the language asked, with the number of published listings linked to it."""
        key = f"{table.__tablename__}:{language}"
        cached = self._cached.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.COUNTS_TTL_SECONDS:
            return cached[1]
        entries = await self._count(session, table, language)
        self._cached[key] = (time.monotonic(), entries)
        return entries

    async def _count(self, session: AsyncSession, table: Table, language: str) -> TaxonomyList:
        entries = list((await session.execute(select(table))).scalars())
        groups = descendants({entry.code: entry.parent for entry in entries})
        counts = await self.count_listings(session, table, groups) if self.count_listings else {}
        items = []
        for entry in entries:
            # The entry's words in the language asked; English where a translation lacks one.
            words = (entry.translations or {}).get(language, {}) if language != "en" else {}
            items.append(
                TaxonomyEntry(
                    code=entry.code,
                    name=words.get("name") or entry.name,
                    description=words.get("description") or entry.description,
                    synonyms=words.get("synonyms") or entry.synonyms,
                    parent=entry.parent,
                    children=sorted(e.code for e in entries if e.parent == entry.code),
                    codings=entry.codings or [],
                    provider_count=counts.get(entry.code, 0),
                )
            )
        return TaxonomyList(items=sorted(items, key=lambda item: (fold(item.name), item.code)))

    async def load(self, session: AsyncSession, table: Table, entries: list[dict[str, Any]]) -> tuple[int, list[str]]:
        """Insert or update entries by code: how many rows changed, and the codes of the entries changed.

        A new entry takes the next free bit of the read model's masks; an entry keeps its bit for good.
        """
        changed = 0
        renamed: list[str] = []
        top = (await session.execute(select(func.max(table.bit)))).scalar()
        next_bit = 0 if top is None else top + 1
        known = set((await session.execute(select(table.code))).scalars())
        for entry in entries:
            parent = entry.get("parent")
            if parent is not None and parent not in known:
                raise ValueError(f"{entry['code']!r} names {parent!r} as its parent: list the parent first")
            known.add(entry["code"])
            current = await session.get(table, entry["code"])
            values = {
                "name": entry["name"],
                "description": entry.get("description"),
                "synonyms": entry.get("synonyms", []),
                "parent": parent,
                "codings": entry.get("codings", []),
                "translations": entry.get("translations", {}),
            }
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
        self._names: dict[str, dict[str, str]] = {}
        self._bits: dict[str, dict[str, int]] = {}
        self._below: dict[str, dict[str, list[str]]] = {}

    async def _refresh(self, session: AsyncSession) -> None:
        if time.monotonic() - self._loaded_at < self.TTL_SECONDS:
            return
        entries: dict[str, list[tuple[str, list[str]]]] = {}
        names: dict[str, dict[str, str]] = {}
        bits: dict[str, dict[str, int]] = {}
        below: dict[str, dict[str, list[str]]] = {}
        for kind, table in (("condition", Condition), ("service", Service)):
            rows = (await session.execute(select(table.code, table.name, table.synonyms, table.translations, table.bit, table.parent))).all()
            words = {row.code: spoken(row.name, row.synonyms, row.translations) for row in rows}
            entries[kind] = [(row.code, [fold(word) for word in [row.code, *words[row.code]]]) for row in rows]
            # An entry's own code and name before any synonym: a synonym never takes another's name.
            # Compared folded (case and accents off): "depresion" is "Depresión".
            named: dict[str, str] = {}
            for row in rows:
                for word in (row.code, row.name):
                    named.setdefault(fold(word), row.code)
            for row in rows:
                for word in words[row.code]:
                    named.setdefault(fold(word), row.code)
            names[kind] = named
            bits[f"{kind}s"] = {row.code: row.bit for row in rows if row.bit is not None}
            below[kind] = descendants({row.code: row.parent for row in rows})
        self._entries, self._names, self._bits, self._below = entries, names, bits, below
        self._loaded_at = time.monotonic()

    async def resolve(self, session: AsyncSession, kind: str, term: str) -> str | None:
        """The code a term names exactly (its code, name or a synonym in any language, any case,
        accents optional), or None."""
        await self._refresh(session)
        return self._names[kind].get(fold(term.strip()))

    async def below(self, session: AsyncSession, kind: str, code: str) -> list[str]:
        """The code and every narrower code under it: what a search for it matches."""
        await self._refresh(session)
        return self._below[kind].get(code, [code])

    async def mentioning(self, session: AsyncSession, kind: str, word: str) -> list[str]:
        """Codes whose code, name or synonyms contain the word (for free-text search)."""
        await self._refresh(session)
        word = fold(word)
        mentioned = [code for code, names in self._entries[kind] if any(word in name for name in names)]
        return list(dict.fromkeys(found for code in mentioned for found in self._below[kind].get(code, [code])))

    async def tree(self, session: AsyncSession) -> dict[str, dict[str, list[str]]]:
        """Each code with every code below it, by ``condition`` and ``service``."""
        await self._refresh(session)
        return self._below

    async def bits(self, session: AsyncSession) -> dict[str, dict[str, int]]:
        """Each code's bit in the read model's masks, by ``conditions`` and ``services``."""
        await self._refresh(session)
        return self._bits
