"""Provider search: which listings match, in what order, page by page, read from the search
projection (the execution itself is ``matching.Search``)."""


from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import BadParameter
from directory.geocoding import Geocoder
from directory.listings.readmodel import SAMPLE_BUCKETS, SAMPLED, search_location
from directory.search.backends import SearchBackend
from directory.search.facets import scaled
from directory.search.lexicon import LexiconIndex
from directory.search.matching import Search
from directory.search.present import Result
from directory.search.query import RawSearch, build_query
from directory.search.schemas import SearchPage
from directory.taxonomy.service import TaxonomyIndex

S = search_location.c


class SearchService:
    ZONES_TTL_SECONDS = 60.0

    def __init__(
        self,
        backend: SearchBackend,
        geocoder: Geocoder,
        taxonomy: TaxonomyIndex,
        secret_key: str,
        exact_count_limit: int = 10_000,
        *,
        stale_after: timedelta = timedelta(days=365),
        unconfirmed_after: timedelta = timedelta(days=180),
    ) -> None:
        self.backend = backend
        self.stale_after = stale_after
        self.unconfirmed_after = unconfirmed_after
        self.exact_count_limit = exact_count_limit
        self.geocoder = geocoder
        self.taxonomy = taxonomy
        self.secret_key = secret_key
        self.lexicon = LexiconIndex()
        self._zones: tuple[float, list[str]] = (-1e9, [])

    async def search(self, session: AsyncSession, raw: RawSearch) -> SearchPage:
        """The page as a model, for the FHIR and HSDS facades."""
        return (await self.find(session, raw)).model()

    async def find(self, session: AsyncSession, raw: RawSearch) -> Result:
        query = await build_query(raw, session, self.taxonomy, self.geocoder, self.secret_key, lexicon=self.lexicon)
        query.stale_after, query.unconfirmed_after = self.stale_after, self.unconfirmed_after
        if query.group == "location" and query.sort != "distance":
            raise BadParameter("group", "one hit per location comes in distance order: give a place and sort=distance")
        zones = await self._time_zones(session) if query.open_at else []
        search = Search(self.backend, session, query, zones, await self.taxonomy.bits(session), await self.taxonomy.tree(session))
        hits, has_more = await search.page()
        await search.fill(hits)
        result = Result(query=query, hits=hits, next_cursor=query.cursor_for(hits[-1].key, self.secret_key) if has_more and hits else None, beyond=search.beyond)
        if query.want_facets or query.want_total:
            await self._count(search, result)
        return result

    async def _count(self, search: Search, result: Result) -> None:
        """Total and facets: exact up to ``exact_count_limit`` matching listings, estimated beyond
        from the sample (a fixed sixteenth of the listings, by a hash of their id), marked so."""
        query = search.query
        if query.group == "provider":
            # The sample's count decides (a count of few narrow rows); its facets are counted only
            # when they are the answer.
            sample = search.in_sample()
            matches = await sample.total()
            scale = SAMPLE_BUCKETS / SAMPLED
            if matches * scale > self.exact_count_limit:
                result.estimated = True
                result.total = round(matches * scale) if query.want_total else None
                result.facets = scaled((await sample.facets())[0], scale) if query.want_facets else None
                return
        if query.want_facets:
            result.facets, matches = await search.facets()
            if query.want_total:
                result.total = matches if query.group == "provider" else await search.total()
        else:
            result.total = await search.total()

    async def _time_zones(self, session: AsyncSession) -> list[str]:
        loaded_at, zones = self._zones
        if time.monotonic() - loaded_at > self.ZONES_TTL_SECONDS:
            rows = await session.execute(select(S.timezone).where(S.timezone.is_not(None)).distinct())
            zones = sorted(rows.scalars())
            self._zones = (time.monotonic(), zones)
        return zones


