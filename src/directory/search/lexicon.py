"""The terms a misspelt word of free text is compared with: the words of listings' and clinicians'
names (``search_term``), of the taxonomies' names and synonyms (in every language), and of the accessibility terms.
Kept in memory for five minutes; the nearest spellings are found in memory too."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.listings.models import ACCESSIBILITY_LABELS
from directory.listings.readwords import search_term
from directory.taxonomy.models import Condition, Service, spoken
from directory.words import Lexicon, tokens


class LexiconIndex:
    TTL_SECONDS = 300.0

    def __init__(self) -> None:
        self._loaded_at = -1e9
        self._lexicon = Lexicon([])

    async def lexicon(self, session: AsyncSession | AsyncConnection) -> Lexicon:
        if time.monotonic() - self._loaded_at >= self.TTL_SECONDS:
            terms = set((await session.execute(select(search_term.c.term))).scalars())
            for table in (Condition, Service):
                rows = await session.execute(select(table.code, table.name, table.synonyms, table.translations))
                for code, name, synonyms, translations in rows.all():
                    terms.update(tokens(" ".join([code, *spoken(name, synonyms, translations)])))
            for label in ACCESSIBILITY_LABELS.values():
                terms.update(tokens(label))
            self._lexicon, self._loaded_at = Lexicon(terms), time.monotonic()
        return self._lexicon

    def forget(self) -> None:
        """Load again on next use (after the seed or a test changed the terms)."""
        self._loaded_at = -1e9
