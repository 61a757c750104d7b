"""Provider search: which listings match, in what order, page by page.

Distance order is exact on the WGS84 ellipsoid on both databases. The database walks locations
nearest-first on a sphere (cheap, index-assisted); each candidate's geodesic distance is computed
here; and the walk goes on until the sphere/ellipsoid margin proves that no location not yet seen
could still rank within the page. Ties are broken by id.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, not_, or_, select, true, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import BadParameter
from directory.geocoding import Geocoder
from directory.listings.models import (
    Clinician,
    Location,
    Provider,
    ProviderClinician,
    ProviderCondition,
    ProviderService,
)
from directory.listings import presenters
from directory.listings.schemas import TaxonomyRef
from directory.search import filters
from directory.search.backends import RADIUS_TOLERANCE_M, SPHERE_ERROR, SearchBackend
from directory.search.geodesy import geodesic_m
from directory.search.hours import is_open
from directory.search.query import METRES, RawSearch, SearchQuery, build_query
from directory.search.schemas import (
    FacetCount,
    Facets,
    MatchedLocation,
    PlaceOut,
    ProviderSummary,
    SearchHit,
    SearchPage,
)
from directory.taxonomy.service import TaxonomyIndex


@dataclass(frozen=True)
class Hit:
    provider_id: uuid.UUID
    location_id: int | None
    distance_m: float | None
    key: list[Any]
    """The sort key, which the next page's cursor continues after."""


class SearchService:
    ZONES_TTL_SECONDS = 60.0

    def __init__(self, backend: SearchBackend, geocoder: Geocoder, taxonomy: TaxonomyIndex, secret_key: str) -> None:
        self.backend = backend
        self.geocoder = geocoder
        self.taxonomy = taxonomy
        self.secret_key = secret_key
        self._zones: tuple[float, list[str]] = (-1e9, [])

    async def search(self, session: AsyncSession, raw: RawSearch) -> SearchPage:
        query = await build_query(raw, session, self.taxonomy, self.geocoder, self.secret_key)
        if query.group == "location" and query.sort != "distance":
            raise BadParameter("group", "one hit per location comes in distance order: give a place and sort=distance")
        zones = await self._time_zones(session) if query.open_at else []
        search = _Search(self.backend, session, query, zones)
        hits, has_more = await search.page()
        page = SearchPage(
            place=PlaceOut(**vars(query.place)) if query.place else None,
            radius=round(query.radius_m / METRES[query.unit], 6) if query.radius_m else None,
            unit=query.unit,
            sort=query.sort,
            items=await self._present(session, query, hits),
            next_cursor=query.cursor_for(hits[-1].key, self.secret_key) if has_more and hits else None,
        )
        if query.want_facets:
            page.facets, matches = await search.facets()
            if query.want_total:
                page.total = matches if query.group == "provider" else await search.total()
        elif query.want_total:
            page.total = await search.total()
        return page

    async def _time_zones(self, session: AsyncSession) -> list[str]:
        loaded_at, zones = self._zones
        if time.monotonic() - loaded_at > self.ZONES_TTL_SECONDS:
            rows = await session.execute(select(Location.timezone).where(Location.timezone.is_not(None)).distinct())
            zones = sorted(rows.scalars())
            self._zones = (time.monotonic(), zones)
        return zones

    async def _present(self, session: AsyncSession, query: SearchQuery, hits: list[Hit]) -> list[SearchHit]:
        """The page's hits as the API shows them: plain rows, four queries whatever the page size."""
        if not hits:
            return []
        provider_ids = list({hit.provider_id for hit in hits})
        # Each provider's codes come joined into one string by a subquery, in the same statement.
        condition_codes = (
            select(func.aggregate_strings(ProviderCondition.condition_code, ","))
            .where(ProviderCondition.provider_id == Provider.id)
            .scalar_subquery()
        )
        service_codes = (
            select(func.aggregate_strings(ProviderService.service_code, ","))
            .where(ProviderService.provider_id == Provider.id)
            .scalar_subquery()
        )
        providers: dict[uuid.UUID, Any] = {}
        codes: dict[uuid.UUID, tuple[list[str], list[str]]] = {}
        for row in await session.execute(
            select(*_SUMMARY, condition_codes, service_codes).where(Provider.id.in_(provider_ids))
        ):
            providers[row[0]] = row
            codes[row[0]] = (row[-2].split(",") if row[-2] else [], row[-1].split(",") if row[-1] else [])
        names = (await self.taxonomy.names(session, "condition"), await self.taxonomy.names(session, "service"))
        location_ids = [hit.location_id for hit in hits if hit.location_id is not None]
        locations = {row.id: row for row in await session.execute(select(*_LOCATION).where(Location.id.in_(location_ids)))}
        unit = METRES[query.unit]
        return [
            SearchHit(
                provider=_summary(providers[hit.provider_id], codes[hit.provider_id], names),
                location=_matched(locations[hit.location_id], query) if hit.location_id is not None else None,
                distance=round(hit.distance_m / unit, 4) if hit.distance_m is not None else None,
                remote=query.place is not None and query.sort == "distance" and hit.location_id is None,
            )
            for hit in hits
        ]


_SUMMARY = [
    Provider.id, Provider.slug, Provider.name, Provider.verification_status, Provider.accepting_new_patients,
    Provider.telehealth, Provider.price_min, Provider.price_max, Provider.price_currency,
]  # fmt: skip
_LOCATION = [Location.__table__.c[name] for name in MatchedLocation.model_fields if name != "open_now"]


class _Search:
    """One request's search: the SQL conditions built once, then the page, total and facets."""

    def __init__(self, backend: SearchBackend, session: AsyncSession, query: SearchQuery, zones: list[str]) -> None:
        self.backend = backend
        self.session = session
        self.query = query
        self.provider_where = filters.provider_filters(query, backend)
        self.location_where = filters.location_filters(query, backend, zones)
        self.point = (query.place.latitude, query.place.longitude) if query.place else None
        self._near: ColumnElement[bool] | None = None
        self._distances: dict[tuple[float, float], float] = {}

    # --- the set of matches ----------------------------------------------------------------------

    def distance(self, latitude: float, longitude: float) -> float:
        """Metres from the searched place on the WGS84 ellipsoid (remembered for the request)."""
        assert self.point is not None
        known = self._distances.get((latitude, longitude))
        if known is None:
            known = self._distances[(latitude, longitude)] = geodesic_m(*self.point, latitude, longitude)
        return known

    async def near_condition(self) -> ColumnElement[bool]:
        """Location rows that count: within the radius (exactly), in the box, open if asked."""
        if self._near is not None:
            return self._near
        conditions = list(self.location_where)
        if self.query.radius_m is not None and self.point is not None:
            conditions.append(await self._exactly_within(self.query.radius_m))
        self._near = and_(true(), *conditions)
        return self._near

    async def _exactly_within(self, radius: float) -> ColumnElement[bool]:
        # Everything within the sphere's outer margin, less the few locations of the thin band
        # around the radius that the ellipsoid puts outside. Written as one index-driven range
        # and a short exclusion list (an OR of two conditions would defeat the index).
        lat, lon = self.point  # type: ignore[misc]
        reach = self.backend.within(lat, lon, radius * (1 + SPHERE_ERROR))
        band = await self.session.execute(
            select(Location.id, Location.latitude, Location.longitude)
            .join(Provider, Provider.id == Location.provider_id)
            .where(
                *self.provider_where,
                *self.location_where,
                reach,
                not_(self.backend.within(lat, lon, radius * (1 - SPHERE_ERROR))),
            )
        )
        outside = [row.id for row in band if self.distance(row.latitude, row.longitude) > radius + RADIUS_TOLERANCE_M]
        return and_(reach, Location.id.not_in(outside)) if outside else reach

    def _has_location(self, near: ColumnElement[bool]) -> ColumnElement[bool]:
        # Driven from the spatial side: the locations near the place, then their providers.
        return Provider.id.in_(select(Location.provider_id).where(near))

    def _remote(self, near: ColumnElement[bool]) -> ColumnElement[bool]:
        assert self.query.place is not None and self.query.place.state is not None
        return and_(
            self.backend.json_has_any(Provider.telehealth_states, [self.query.place.state.lower()]),
            not_(self._has_location(near)),
        )

    async def matching_providers(self) -> ColumnElement[bool]:
        """The condition on provider rows for "this provider is a match"."""
        if self.query.place is None and not self.location_where:
            return and_(*self.provider_where)
        near = await self.near_condition()
        where = self._has_location(near)
        if self.query.remote_telehealth:
            where = or_(where, self._remote(near))
        return and_(*self.provider_where, where)

    # --- a page ----------------------------------------------------------------------------------

    async def page(self) -> tuple[list[Hit], bool]:
        if self.query.sort == "distance":
            return await self._by_distance()
        return await self._by_provider_key()

    async def _by_distance(self) -> tuple[list[Hit], bool]:
        query = self.query
        after = query.after
        phase = after[0] if after else 0
        wanted = query.limit + 1
        hits: list[Hit] = []
        if phase == 0:
            hits = await self._nearest(wanted, after[1:] if after else None)
        if len(hits) < wanted and query.remote_telehealth:
            hits += await self._remote_hits(wanted - len(hits), after[1:] if phase == 1 else None)
        return hits[: query.limit], len(hits) > query.limit

    async def _nearest(self, wanted: int, after: list[Any] | None) -> list[Hit]:
        query = self.query
        assert self.point is not None
        lat, lon = self.point
        radius = query.radius_m
        reach = (radius if radius is not None else self._box_reach()) * (1 + SPHERE_ERROR)
        after_distance = float(after[0]) if after else 0.0
        base = (
            select(Location.id, Location.provider_id, Location.latitude, Location.longitude)
            .join(Provider, Provider.id == Location.provider_id)
            .where(*self.provider_where, *self.location_where)
        )
        fetch = wanted + 8
        shape = self._shape()
        while True:
            walk = await self.backend.nearest(
                self.session,
                base,
                lat,
                lon,
                within_m=reach,
                beyond_m=after_distance / (1 + SPHERE_ERROR),
                limit=fetch,
                share=_SHARES.get(shape, 0.25),
            )
            if walk.share is not None:
                _SHARES.learn(shape, walk.share)
            candidates = walk.candidates
            exhausted = walk.horizon_m == math.inf
            # No location left unfetched can be nearer than this on the ellipsoid.
            horizon = walk.horizon_m * (1 - SPHERE_ERROR)
            if query.group == "location":
                ranked = sorted(
                    (d, c.location_id, c.provider_id)
                    for c in candidates
                    if (d := self.distance(c.latitude, c.longitude)) <= (radius + RADIUS_TOLERANCE_M if radius is not None else math.inf)
                )
                ranked = [r for r in ranked if not after or (r[0], r[1]) > (float(after[0]), int(after[1]))]
                hits = [Hit(pid, lid, d, [0, d, lid]) for d, lid, pid in ranked if d < horizon]
            else:
                hits = [h for h in await self._nearest_per_provider(candidates, after) if h.distance_m < horizon]  # type: ignore[operator]
            if len(hits) >= wanted or exhausted:
                return hits[:wanted]
            fetch *= 4

    async def _nearest_per_provider(self, candidates: list[Any], after: list[Any] | None) -> list[Hit]:
        """Each candidate provider at its nearest matching location, wherever that location is."""
        provider_ids = list({c.provider_id for c in candidates})
        if not provider_ids:
            return []
        rows: Any
        if after is None:
            # On the first page the walk already holds each provider's nearest matching location:
            # any location it has not reached is farther than the horizon the caller keeps to.
            rows = [(c.location_id, c.provider_id, c.latitude, c.longitude) for c in candidates]
        else:
            # After a cursor, a provider's nearer locations were skipped: look at all of them to
            # tell whether it was already shown on an earlier page.
            rows = await self.session.execute(
                select(Location.id, Location.provider_id, Location.latitude, Location.longitude).where(
                    Location.provider_id.in_(provider_ids), *self.location_where
                )
            )
        best: dict[uuid.UUID, tuple[float, int]] = {}
        for location_id, provider_id, latitude, longitude in rows:
            d = self.distance(latitude, longitude)
            if self.query.radius_m is not None and d > self.query.radius_m + RADIUS_TOLERANCE_M:
                continue
            if provider_id not in best or (d, location_id) < best[provider_id]:
                best[provider_id] = (d, location_id)
        ranked = sorted((d, str(pid), lid, pid) for pid, (d, lid) in best.items())
        if after:
            ranked = [r for r in ranked if (r[0], r[1]) > (float(after[0]), str(after[1]))]
        return [Hit(pid, lid, d, [0, d, key]) for d, key, lid, pid in ranked]

    def _shape(self) -> tuple[Any, ...]:
        """Which filters this search applies: searches alike match alike shares of what they walk."""
        query = self.query
        shape = tuple(
            (name, repr(value))
            for name in _FILTERS
            if (value := getattr(query, name)) not in (None, [], False) or (name in _BOOLEANS and value is False)
        )
        # "Open at" a moment differs with every request: whether it is asked is what matters.
        return (*shape, ("open_at", query.open_at is not None))

    def _box_reach(self) -> float:
        box = self.query.box
        assert box is not None and self.point is not None
        corners = [(box.south, box.west), (box.south, box.east), (box.north, box.west), (box.north, box.east)]
        edges = [(self.point[0], box.west), (self.point[0], box.east), (box.south, self.point[1]), (box.north, self.point[1])]
        return max(self.distance(lat, lon) for lat, lon in corners + edges) * 1.05 + 1.0

    async def _remote_hits(self, wanted: int, after: list[Any] | None) -> list[Hit]:
        name = func.lower(Provider.name)
        statement = select(Provider.id, name).where(*self.provider_where, self._remote(await self.near_condition()))
        if after:
            statement = statement.where(tuple_(name, Provider.id) > tuple_(after[0], uuid.UUID(after[1])))
        rows = await self.session.execute(statement.order_by(name, Provider.id).limit(wanted))
        return [Hit(pid, None, None, [1, lowered, str(pid)]) for pid, lowered in rows]

    async def _by_provider_key(self) -> tuple[list[Hit], bool]:
        """Name, newest change or relevance order; each hit still gets its nearest matching location."""
        query = self.query
        statement, key_of = self._keyed(select(Provider.id).where(await self.matching_providers()))
        rows = (await self.session.execute(statement.limit(query.limit + 1))).all()
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        nearest = await self._locations_for([row[0] for row in rows])
        hits = []
        for row in rows:
            location_id, distance = nearest.get(row[0], (None, None))
            hits.append(Hit(row[0], location_id, distance, key_of(row)))
        return hits, has_more

    def _keyed(self, statement: Any) -> tuple[Any, Any]:
        """Add the sort key columns, the keyset condition after the cursor, and the ORDER BY."""
        query, after = self.query, self.query.after
        name = func.lower(Provider.name)
        if query.sort == "name":
            statement = statement.add_columns(name)
            if after:
                statement = statement.where(tuple_(name, Provider.id) > tuple_(after[0], uuid.UUID(after[1])))
            return statement.order_by(name, Provider.id), lambda r: [r[1], str(r[0])]
        if query.sort == "updated":
            statement = statement.add_columns(Provider.updated_at)
            if after:
                from datetime import datetime

                moment = datetime.fromisoformat(after[0])
                statement = statement.where(tuple_(Provider.updated_at, Provider.id) < tuple_(moment, uuid.UUID(after[1])))
            return (
                statement.order_by(Provider.updated_at.desc(), Provider.id.desc()),
                lambda r: [r[1].isoformat(), str(r[0])],
            )
        score = filters.relevance(query)
        statement = statement.add_columns(score, name)
        if after:
            statement = statement.where(
                or_(
                    score < after[0],
                    and_(score == after[0], tuple_(name, Provider.id) > tuple_(after[1], uuid.UUID(after[2]))),
                )
            )
        return statement.order_by(score.desc(), name, Provider.id), lambda r: [int(r[1]), r[2], str(r[0])]

    async def _locations_for(self, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, float | None]]:
        """The matching location to show for each provider: the nearest, or the first without a place."""
        if not provider_ids:
            return {}
        near = await self.near_condition()
        rows = await self.session.execute(
            select(Location.id, Location.provider_id, Location.latitude, Location.longitude).where(
                Location.provider_id.in_(provider_ids), near
            )
        )
        chosen: dict[uuid.UUID, tuple[int, float | None]] = {}
        for row in rows:
            d = self.distance(row.latitude, row.longitude) if self.point else None
            current = chosen.get(row.provider_id)
            if current is None or (d is not None and (d, row.id) < (current[1], current[0])) or (d is None and row.id < current[0]):
                chosen[row.provider_id] = (row.id, d)
        return chosen

    # --- total and facets ------------------------------------------------------------------------

    async def total(self) -> int:
        if self.query.group == "location":
            statement = (
                select(func.count())
                .select_from(Location)
                .join(Provider, Provider.id == Location.provider_id)
                .where(*self.provider_where, await self.near_condition())
            )
            count = (await self.session.execute(statement)).scalar_one()
            if self.query.remote_telehealth:
                remote = select(func.count()).select_from(Provider).where(
                    *self.provider_where, self._remote(await self.near_condition())
                )
                count += (await self.session.execute(remote)).scalar_one()
            return count
        statement = select(func.count()).select_from(Provider).where(await self.matching_providers())
        return (await self.session.execute(statement)).scalar_one()

    async def facets(self) -> tuple[Facets, int]:
        """Counts per filter value among all matches, and their total, in one statement."""
        matched = select(Provider.id.label("pid")).where(await self.matching_providers()).cte("matched")
        joined = (matched, matched.c.pid == Provider.id)

        def count_by(kind: str, value: Any, source: Any, *joins: tuple[Any, Any]) -> Any:
            statement = select(literal(kind), cast(value, String), func.count(func.distinct(matched.c.pid)))
            statement = statement.select_from(source)
            for target, on in joins:
                statement = statement.join(target, on)
            return statement.group_by(value)

        insurance = self.backend.json_values(Provider.insurance_carriers)
        language = self.backend.json_values(Provider.languages)
        parts = [
            count_by("condition", ProviderCondition.condition_code, ProviderCondition, (matched, matched.c.pid == ProviderCondition.provider_id)),
            count_by("service", ProviderService.service_code, ProviderService, (matched, matched.c.pid == ProviderService.provider_id)),
            count_by(
                "credential",
                Clinician.credential,
                ProviderClinician,
                (matched, matched.c.pid == ProviderClinician.provider_id),
                (Clinician, Clinician.id == ProviderClinician.clinician_id),
            ),
            count_by("telehealth", Provider.telehealth, Provider, joined),
            count_by("accepting_new_patients", Provider.accepting_new_patients, Provider, joined),
            count_by("insurance", insurance.c.value, Provider, joined, (insurance, true())),
            count_by("language", language.c.value, Provider, joined, (language, true())),
            select(literal("total"), literal(None, String), func.count()).select_from(matched),
        ]
        found: dict[str, list[FacetCount]] = {kind: [] for kind in Facets.model_fields}
        total = 0
        for kind, value, count in await self.session.execute(union_all(*parts)):
            if kind == "total":
                total = count
            elif value is not None:
                found[kind].append(FacetCount(value=_facet_value(kind, value), count=count))
        for counts in found.values():
            counts.sort(key=lambda f: (-f.count, f.value))
        return Facets(**found), total


_FILTERS = (
    "conditions", "condition_match", "services", "routes", "credentials", "specialties", "telehealth",
    "accepting_new_patients", "insurance", "payment", "languages", "max_price", "verified", "words",
)  # fmt: skip
_BOOLEANS = {"telehealth", "accepting_new_patients", "verified"}


class _Shares:
    """What share of the walked locations matched, per search shape, as a moving average.

    It sizes the first walk of the next search alike, so that one walk usually suffices. Only a
    guess: a wrong one costs a second walk, never a wrong answer.
    """

    LIMIT = 2_000

    def __init__(self) -> None:
        self._shares: dict[tuple[Any, ...], float] = {}

    def get(self, shape: tuple[Any, ...], default: float) -> float:
        return self._shares.get(shape, default)

    def learn(self, shape: tuple[Any, ...], share: float) -> None:
        if len(self._shares) >= self.LIMIT and shape not in self._shares:
            self._shares.clear()
        known = self._shares.get(shape)
        self._shares[shape] = share if known is None else known * 0.8 + share * 0.2


_SHARES = _Shares()

_BOOLEAN_FACETS = {"telehealth", "accepting_new_patients"}


def _facet_value(kind: str, value: str) -> str:
    # Booleans cast to text read "true"/"false" on PostgreSQL and "1"/"0" on SQLite.
    if kind in _BOOLEAN_FACETS:
        return "true" if value.lower() in ("1", "true", "t") else "false"
    return value


def _summary(row: Any, codes: tuple[list[str], list[str]], names: tuple[dict[str, str], dict[str, str]]) -> ProviderSummary:
    return ProviderSummary(
        id=row.id,
        slug=row.slug,
        name=row.name,
        verified=row.verification_status == "verified",
        accepting_new_patients=row.accepting_new_patients,
        telehealth=row.telehealth,
        price=presenters.price(row),
        conditions=[TaxonomyRef(code=code, name=names[0][code]) for code in sorted(codes[0])],
        services=[TaxonomyRef(code=code, name=names[1][code]) for code in sorted(codes[1])],
    )


def _matched(row: Any, query: SearchQuery) -> MatchedLocation:
    values = dict(row._mapping)
    values["open_now"] = is_open(row.hours, row.timezone, query.moment)
    return MatchedLocation.model_validate(values)
