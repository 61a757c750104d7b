"""One search's execution: the SQL conditions built once, then the page (nearest first, or by a
key), the nearest beyond the radius, the remote hits, the total and the facets.

Distance order is exact on the WGS84 ellipsoid on both databases. The database walks projection
rows nearest-first on a sphere or in plain degrees (cheap, index-driven, every filter a test on the
row it reaches); each candidate's geodesic distance is computed here; and the walk goes on until
the sphere/ellipsoid margin proves that no location not yet seen could still rank within the page.
Ties are broken by id. The hits' JSON comes ready-made from the rows.
"""


from __future__ import annotations

import copy
import math
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, func, literal, literal_column, select, true, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from directory.lean import Shapes
from directory.listings.readmodel import SAMPLED, search_location
from directory.search import filters
from directory.search.backends import BY_NAME, RADIUS_TOLERANCE_M, SPHERE_ERROR, SearchBackend
from directory.search.facets import count_facets
from directory.search.geodesy import geodesic_m
from directory.search.narrow import narrow_or_wide
from directory.search.ordering import keyed
from directory.search.present import Hit, Ranked, ranked_hits
from directory.search.query import SearchQuery
from directory.search.schemas import Facets
from directory.search.shapes import run_kept, where_shape

S = search_location.c
#: What a walk and a page read of each row: ids and position first, then the hit's ready JSON.
_ROW = (
    S.location_id, S.provider_id, S.latitude, S.longitude, S.summary, S.location, S.hours, S.timezone, S.verified, S.verified_at,
    S.confirmed_at, S.name_key,
)  # fmt: skip
#: The remote rows' parts, built once (expressions are immutable): no distance, no place, by name.
_NO_DISTANCE = literal(None, Float)
_NO_PLACE = S.latitude.is_(None)
_BY_NAME = (S.name_key, S.provider_id)
#: ``beyond_radius``: at most this many hits beyond the radius, found within this distance.
BEYOND_HITS = 5
BEYOND_REACH_M = 1_500_000.0
#: The walks' selects (the filtered rows, the remote rows) by their shape.
_WALKS = Shapes()


class Search:
    """One request's search: the SQL conditions built once, then the page, total and facets."""

    def __init__(
        self,
        backend: SearchBackend,
        session: AsyncSession,
        query: SearchQuery,
        zones: list[str],
        bits: dict[str, dict[str, int]],
        below: dict[str, dict[str, list[str]]] | None = None,
    ) -> None:
        self.backend = backend
        self.below = below or {"condition": {}, "service": {}}
        self.session = session
        self.query = query
        self.bits = bits
        # Free text over the whole country reads the words' own index; near a place, the rows the
        # place's index finds are few and each is tested directly.
        nationwide = query.place is None and query.box is None
        self.plain_listing = filters.listing_filters(query, bits) + filters.text_filters(query, backend.words_contain if nationwide else filters.words_contain)
        self.plain_location = filters.location_filters(query, backend, zones)
        self.faceted = filters.faceted_filters(query, bits)
        self._with(self.faceted)
        self.point = (query.place.latitude, query.place.longitude) if query.place else None
        self.sampled = False
        """Only the rows of the listings in the sample (``sample < SAMPLED``), for estimates."""
        self._near: ColumnElement[bool] | None = None
        self._distances: dict[tuple[float, float], float] = {}
        self._outside: dict[float, list[int]] = {}
        self.beyond: list[Hit] = []
        """With ``beyond_radius``: the nearest matches beyond the radius, when the near ones do not fill the page."""

    def _with(self, faceted: list[filters.Faceted]) -> None:
        self.listing_where = self.plain_listing + [f.predicate for f in faceted if not f.location]
        self.location_where = self.plain_location + [f.predicate for f in faceted if f.location]

    def without_disjunctive(self) -> Search:
        """The same search without the filters whose facets count what ticking a value would give:
        the rows every facet count is taken from."""
        wider = copy.copy(self)
        wider._near = None
        wider._with([f for f in self.faceted if not f.disjunctive])
        return wider

    def in_sample(self) -> Search:
        """The same search over the sampled listings only: the radius taken on the sphere (the
        ellipsoid's band at the edge is below the sample's own error)."""
        sampled = copy.copy(self)
        sampled.sampled, sampled._near = True, None
        return sampled

    def _sample(self) -> list[ColumnElement[bool]]:
        # A literal, not a parameter: the planner must see it to use the partial index of the sample.
        return [S.sample < literal_column(str(SAMPLED))] if self.sampled else []

    # --- the set of matches ----------------------------------------------------------------------

    def distance(self, latitude: float, longitude: float) -> float:
        """Metres from the searched place on the WGS84 ellipsoid (remembered for the request)."""
        assert self.point is not None
        known = self._distances.get((latitude, longitude))
        if known is None:
            known = self._distances[(latitude, longitude)] = geodesic_m(*self.point, latitude, longitude)
        return known

    async def near_condition(self) -> ColumnElement[bool]:
        """Rows whose location counts: within the radius (exactly), in the box, open if asked."""
        if self._near is not None:
            return self._near
        conditions = [*self._sample(), *self.location_where]
        if self.query.radius_m is not None and self.point is not None:
            if self.sampled:
                conditions.append(self.backend.within(*self.point, self.query.radius_m, sampled=True))
            else:
                conditions.append(await self._exactly_within(self.query.radius_m))
        self._near = and_(true(), *conditions)
        return self._near

    async def _exactly_within(self, radius: float) -> ColumnElement[bool]:
        # Everything within the sphere's outer margin, less the few locations of the thin band
        # around the radius that the ellipsoid puts outside. Written as one index-driven range
        # and a short exclusion list (an OR of two conditions would defeat the index).
        lat, lon = self.point  # type: ignore[misc]
        reach = self.backend.within(lat, lon, radius * (1 + SPHERE_ERROR))
        # With the filters that have no facet only: the same list serves the facets' wider set of
        # rows (read once for both: the copies of this search share it).
        outside = self._outside.get(radius)
        if outside is None:
            ring = [*self.plain_listing, *self.plain_location, self.backend.ring(lat, lon, radius * (1 - SPHERE_ERROR), radius * (1 + SPHERE_ERROR))]
            band = await run_kept(self.session, self.backend.changing, "band", ring, lambda: narrow_or_wide(select(S.location_id, S.latitude, S.longitude).where(*ring)))
            outside = self._outside[radius] = [row.location_id for row in band if self.distance(row.latitude, row.longitude) > radius + RADIUS_TOLERANCE_M]
        # The exclusions even when there are none: one statement shape whatever the point.
        return and_(reach, self.backend.not_among(S.location_id, outside))

    def _remote(self, near: ColumnElement[bool]) -> ColumnElement[bool]:
        """Rows of the remote hits: listings serving the searcher's state by telehealth that have no
        location near. With ``telehealth=true``, every such listing; otherwise those with no location
        at all (a telehealth-only listing has nowhere else to be found), read by their own index; such
        a listing has no location, so a filter on locations (accessibility, REMS, open now) leaves it out."""
        assert self.query.place is not None and self.query.place.state is not None
        serves = filters.serves_state(self.query.place.state)
        if self.query.remote_telehealth:
            near_providers = select(S.provider_id).where(near).correlate(None)
            return and_(*self._sample(), serves, S.provider_id.not_in(near_providers))
        return and_(*self._sample(), *self.location_where, S.latitude.is_(None), serves)

    async def matching_parts(self) -> list[ColumnElement[bool]]:
        """Rows of the matching listings (every match has at least one, and only matches have any),
        as parts each read by an index of its own: the rows near, and the remote hits' rows. An OR
        of the two would read every row of the table."""
        if self.query.place is None and not self.location_where:
            return [and_(true(), *self._sample(), *self.listing_where)]
        near = await self.near_condition()
        parts = [and_(*self.listing_where, near)]
        if self.query.remote:
            parts.append(and_(*self.listing_where, self._remote(near)))
        return parts

    async def matching_rows(self) -> ColumnElement[bool]:
        """The parts as one condition: the rows whose key is in the union of the parts (still read by
        their indexes; an OR would not be)."""
        parts = await self.matching_parts()
        if len(parts) == 1:
            return parts[0]
        return S.location_id.in_(union_all(*(select(S.location_id).where(part) for part in parts)))

    # --- a page ----------------------------------------------------------------------------------

    async def page(self) -> tuple[list[Hit], bool]:
        if self.query.sort == "distance":
            return await self._by_distance()
        return await self._by_provider_key()

    async def _by_distance(self) -> tuple[list[Hit], bool]:
        """The near hits nearest first, then the remote ones by name; and with ``beyond_radius`` on
        the first page, the nearest beyond the radius when the near ones do not fill it."""
        query = self.query
        after = query.after
        phase = after[0] if after else 0
        wanted = query.limit + 1
        hits: list[Hit] = []
        remote: list[Any] | None = None
        if phase == 0:
            hits, self.beyond, remote = await self._nearest(wanted, after[1:] if after else None)
        if len(hits) < wanted and query.remote:
            if remote is not None:
                # Read with the walk (telehealth-only listings), up to ``wanted``: enough whatever the near ones left.
                hits += [Hit(row.provider_id, None, None, [1, row.name_key, str(row.provider_id)], listing=row) for row in remote][: wanted - len(hits)]
            else:
                hits += await self._remote_hits(wanted - len(hits), after[1:] if phase == 1 else None)
        if len(hits) > query.limit or after is not None:
            self.beyond = []
        else:
            self.beyond = self.beyond[: max(0, min(BEYOND_HITS, query.limit - sum(hit.distance_m is not None for hit in hits)))]
        return hits[: query.limit], len(hits) > query.limit

    def _remote_rows(self, base: Any, wanted: int) -> Any:
        """The telehealth-only listings serving the searcher's state, for the walk to read in its own
        statement (when remote hits are these alone, on the first page): the walk's own rows and
        filters (``base``), without a place."""
        query = self.query
        assert query.place is not None and query.place.state is not None
        return base.add_columns(_NO_DISTANCE).where(_NO_PLACE, filters.serves_state(query.place.state)).order_by(*_BY_NAME).limit(wanted)

    async def _nearest(self, wanted: int, after: list[Any] | None) -> tuple[list[Hit], list[Hit], list[Any] | None]:
        """The near hits (up to ``wanted``), the nearest beyond the radius (with ``beyond_radius`` on
        the first page: the same walk goes on past the radius), and the remote rows it read."""
        query = self.query
        assert self.point is not None
        lat, lon = self.point
        radius = query.radius_m
        going_beyond = query.beyond_radius and radius is not None and after is None
        reach = (radius if radius is not None else self._box_reach()) * (1 + SPHERE_ERROR)
        if going_beyond:
            reach = max(reach, BEYOND_REACH_M)
        after_distance = float(after[0]) if after else 0.0
        # A search of the same shape as an earlier one walks with that one's statements.
        shape = where_shape([*self.listing_where, *self.location_where])
        if shape is not None:
            shape = (shape, wanted, after is None, query.remote, query.remote_telehealth, query.place.state if query.place else None)
        # The walk's selects are composed only when the backend has no statement of this shape kept.
        def compose() -> tuple[Any, Any]:
            kept = _WALKS.get(shape)
            if kept is None:
                base = select(*_ROW).where(*self.listing_where, *self.location_where)
                kept = _WALKS.put(shape, (base, self._remote_rows(base, wanted) if reads_remote else None))
            return kept

        # On the first page the telehealth-only listings come in the walk's own statement (the
        # first walk's: a wider walk after it need not read them again).
        reads_remote = with_also = after is None and query.remote and not query.remote_telehealth
        remote: list[Any] | None = None
        fetch = wanted + 8
        while True:
            walk = await self.backend.nearest(
                self.session, compose, lat, lon, within_m=reach, beyond_m=after_distance / (1 + SPHERE_ERROR), limit=fetch, with_also=with_also, shape=shape
            )
            if with_also:
                remote, with_also = walk.remote, False
            exhausted = walk.horizon_m == math.inf
            # No location left unfetched can be nearer than this on the ellipsoid.
            horizon = walk.horizon_m * (1 - SPHERE_ERROR)
            limit_m = radius + RADIUS_TOLERANCE_M if radius is not None else math.inf
            ranked = [r for r in await self._ranked(walk.candidates, after) if r[0] < horizon]
            near = [r for r in ranked if r[0] <= limit_m]
            far = ranked[len(near) :]  # in distance order: the near ones come first
            # A far hit lies beyond every near one: once one is proven, the near ones are all known.
            if len(near) >= wanted or exhausted or (far and (not going_beyond or len(far) >= BEYOND_HITS)):
                return ranked_hits(near[:wanted]), ranked_hits(far[:BEYOND_HITS]) if going_beyond else [], remote
            fetch *= 4

    async def _ranked(self, candidates: list[Any], after: list[Any] | None) -> list[Ranked]:
        """The candidates in exact distance order: each location (``group=location``) or each
        provider at its nearest location among them, after the cursor."""
        if self.query.group == "location":
            ranked = sorted((self.distance(c.latitude, c.longitude), c.location_id, c.location_id, c.provider_id, c.row) for c in candidates)
            if after:
                ranked = [r for r in ranked if (r[0], r[1]) > (float(after[0]), int(after[1]))]
            return ranked
        return await self._nearest_per_provider(candidates, after)

    async def _nearest_per_provider(self, candidates: list[Any], after: list[Any] | None) -> list[Ranked]:
        """Each candidate provider at its nearest matching location, wherever that location is."""
        provider_ids = list({c.provider_id for c in candidates})
        if not provider_ids:
            return []
        places: Any
        if after is None:
            # On the first page the walk already holds each provider's nearest matching location:
            # any location it has not reached is farther than the horizon the caller keeps to.
            places = [(c.provider_id, c.location_id, c.latitude, c.longitude, c.row) for c in candidates]
        else:
            # After a cursor, a provider's nearer locations were skipped: look at all of them to
            # tell whether it was already shown on an earlier page.
            rows = await self.session.execute(select(*_ROW).where(S.provider_id.in_(provider_ids), *self.location_where, S.latitude.is_not(None)), execution_options=BY_NAME)
            places = [(row.provider_id, row.location_id, row.latitude, row.longitude, row) for row in rows]
        best: dict[uuid.UUID, tuple[float, int, Any]] = {}
        for provider_id, location_id, latitude, longitude, row in places:
            d = self.distance(latitude, longitude)
            current = best.get(provider_id)
            if current is None or (d, location_id) < current[:2]:
                best[provider_id] = (d, location_id, row)
        ranked = sorted((d, str(pid), lid, pid, row) for pid, (d, lid, row) in best.items())
        if after:
            ranked = [r for r in ranked if (r[0], r[1]) > (float(after[0]), str(after[1]))]
        return ranked

    def _box_reach(self) -> float:
        box = self.query.box
        assert box is not None and self.point is not None
        corners = [(box.south, box.west), (box.south, box.east), (box.north, box.west), (box.north, box.east)]
        edges = [(self.point[0], box.west), (self.point[0], box.east), (box.south, self.point[1]), (box.north, self.point[1])]
        return max(self.distance(lat, lon) for lat, lon in corners + edges) * 1.05 + 1.0

    async def _remote_hits(self, wanted: int, after: list[Any] | None) -> list[Hit]:
        statement = (
            select(S.provider_id, S.name_key)
            .where(*self.listing_where, self._remote(await self.near_condition()))
            .group_by(S.provider_id, S.name_key)
        )
        if after:
            statement = statement.where(tuple_(S.name_key, S.provider_id) > tuple_(after[0], uuid.UUID(after[1])))
        rows = await self.session.execute(statement.order_by(S.name_key, S.provider_id).limit(wanted))
        return [Hit(pid, None, None, [1, name, str(pid)]) for pid, name in rows]

    async def _by_provider_key(self) -> tuple[list[Hit], bool]:
        """Name, newest change or relevance order; each hit still gets its nearest matching location."""
        query = self.query
        statement, key_of = keyed(self.query, self.bits, select(S.provider_id).where(await self.matching_rows()))
        rows = (await self.session.execute(statement.limit(query.limit + 1))).all()
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        nearest = await self._locations_for([row[0] for row in rows])
        hits = []
        for row in rows:
            location_id, distance, found = nearest.get(row[0], (None, None, None))
            hits.append(Hit(row[0], location_id, distance, key_of(row), found))
        return hits, has_more

    async def _locations_for(self, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, float | None, Any]]:
        """The matching location to show for each provider: the nearest, or the first without a place."""
        if not provider_ids:
            return {}
        near = await self.near_condition()
        rows = await self.session.execute(select(*_ROW).where(S.provider_id.in_(provider_ids), near), execution_options=BY_NAME)
        chosen: dict[uuid.UUID, tuple[int, float | None, Any]] = {}
        for row in rows:
            if row.latitude is None:
                continue  # a telehealth-only listing's row: no location to show
            d = self.distance(row.latitude, row.longitude) if self.point else None
            current = chosen.get(row.provider_id)
            if current is None or (d is not None and (d, row.location_id) < (current[1], current[0])) or (d is None and row.location_id < current[0]):
                chosen[row.provider_id] = (row.location_id, d, row)
        return chosen

    async def fill(self, hits: list[Hit]) -> None:
        """Give every hit the provider summary its row did not bring (remote telehealth hits)."""
        missing = list({hit.provider_id for hit in hits if hit.source is None})
        if not missing:
            return
        # Every row of a listing carries the same summary and dates: any one will do.
        first = select(S.provider_id, func.min(S.location_id).label("location_id")).where(S.provider_id.in_(missing)).group_by(S.provider_id).subquery()
        rows = await self.session.execute(
            select(S.provider_id, S.summary, S.verified, S.verified_at, S.confirmed_at).join(first, first.c.location_id == S.location_id)
        )
        found = {row.provider_id: row for row in rows}
        for hit in hits:
            if hit.source is None:
                hit.listing = found[hit.provider_id]

    # --- total and facets ------------------------------------------------------------------------

    async def facets(self) -> tuple[Facets, int]:
        wider = self.without_disjunctive()
        return await count_facets(self.session, self.backend, self.bits, self.query, await wider.matching_parts(), self.faceted, self.below)

    async def total(self) -> int:
        if self.query.group == "location":
            statement = select(func.count()).select_from(search_location).where(*self.listing_where, await self.near_condition())
            count = (await self.session.execute(narrow_or_wide(statement))).scalar_one()
            if self.query.remote:
                remote = select(func.count(func.distinct(S.provider_id))).where(*self.listing_where, self._remote(await self.near_condition()))
                count += (await self.session.execute(narrow_or_wide(remote))).scalar_one()
            return count
        parts = await self.matching_parts()

        def build() -> Any:
            if len(parts) == 1:
                return narrow_or_wide(select(func.count(func.distinct(S.provider_id))).where(parts[0]))
            rows = union_all(*(select(S.provider_id).where(part) for part in parts)).subquery()
            return narrow_or_wide(select(func.count(func.distinct(rows.c.provider_id))))

        return (await run_kept(self.session, self.backend.changing, ("total", len(parts)), parts, build))[0][0]

