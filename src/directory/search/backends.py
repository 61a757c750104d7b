"""The spatial and JSON primitives search needs, once for PostGIS and once for SQLite.

Both backends measure candidates on the same mean-Earth sphere; the search service then computes the
exact WGS84 distance of each candidate, so that both return the same hits in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Float,
    Integer,
    Select,
    Text,
    all_,
    and_,
    any_,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import UserDefinedType

from directory.lean import Lean, Shapes, compile_lean, dialect_of
from directory.listings.readmodel import search_location
from directory.search.bounds import EARTH_RADIUS_M, Box, box_around, planar_reach, ring_boxes, sphere_horizon

S = search_location.c

#: The sphere and the WGS84 ellipsoid disagree by less than 0.6% on distances; 1% is a safe margin.
SPHERE_ERROR = 0.01
#: A location exactly at the radius is included; a millimetre absorbs floating-point noise.
RADIUS_TOLERANCE_M = 0.001
#: Execution options of the statements whose rows search reads by position or by name only (never
#: by column object). SQLAlchemy otherwise matches the columns of each newly built statement to
#: those of its cached compiled form on every execution, which for the walk's UNION of subqueries
#: rebuilt their column collections: 7% of a worker's time under query A (profiled). The ORM sets
#: the same option on its own statements.
BY_NAME = {"_result_disable_adapt_to_context": True}


@dataclass(slots=True, eq=False)
class Candidate:
    location_id: int
    provider_id: Any
    latitude: float
    longitude: float
    row: Any
    """The whole projection row the walk returned (with the hit's JSON)."""
    sphere_m: float
    """How far the walk had gone: metres on the sphere, or plain degrees for a planar walk."""


class SearchBackend:
    """What differs between the databases. Subclasses implement each primitive."""

    name: str
    #: The names of the bound values that differ between searches of one shape: those of the
    #: searched point and of the exact radius's exclusions. A statement kept for a shape
    #: (``shapes.run_kept``, PostgreSQL only) is run with the current search's values for these.
    changing: frozenset[str] = frozenset({"near_outside"})

    def sphere_distance(self, lat: float, lon: float) -> ColumnElement[float]:
        """Metres from the point to the location on the mean sphere."""
        raise NotImplementedError

    def within(self, lat: float, lon: float, metres: float, *, sampled: bool = False) -> ColumnElement[bool]:
        """Index-assisted: the location is within ``metres`` of the point on the sphere. ``sampled``:
        the caller wants the sample's rows only (and says so in its own conditions); a backend may
        read an index of the sample alone."""
        raise NotImplementedError

    def ring(self, lat: float, lon: float, inner_m: float, outer_m: float) -> ColumnElement[bool]:
        """Index-assisted: the location lies between ``inner_m`` and ``outer_m`` of the point on the sphere."""
        return and_(self.within(lat, lon, outer_m), not_(self.within(lat, lon, inner_m)))

    def inside(self, box: Box) -> ColumnElement[bool]:
        """Index-assisted: the location's longitude/latitude lie in the box (edges included)."""
        raise NotImplementedError

    def not_among(self, column: Any, values: list[int]) -> ColumnElement[bool]:
        """The column's value is none of these (a short list: the locations an exact radius leaves out)."""
        return column.not_in(bindparam("near_outside", values, type_=column.type, expanding=True))

    def json_values(self, column: Any) -> Any:
        """A table of the elements of a JSON array stored as text, with one text column ``value``, for GROUP BY."""
        raise NotImplementedError

    def words_contain(self, word: str) -> ColumnElement[bool]:
        """The row's folded words contain this folded word (letters and digits only), through the
        words' own index where the database has one."""
        return S.words.contains(word, autoescape=True)

    async def nearest(
        self,
        session: AsyncSession,
        compose: Composer,
        lat: float,
        lon: float,
        *,
        within_m: float,
        beyond_m: float,
        limit: int,
        with_also: bool = False,
        shape: Hashable | None = None,
    ) -> Walk:
        """Up to ``limit`` locations nearest the point, between the two sphere distances.

        ``compose()`` gives ``base``, which selects projection rows (location id, provider id,
        latitude, longitude first) with every filter applied, and ``also``: rows with no place (the
        same columns and a null last), read in the same statement when ``with_also`` and returned
        apart. The candidates need not come in distance order, but every matching location between
        the two distances that is not among them lies at least ``horizon_m`` away on the sphere.
        ``shape``: names what ``compose`` gives (the same shape, the same statements:
        ``search.shapes``), so a backend may keep the statement it builds from them, and then need
        not call ``compose`` at all; None when they have no name.
        """
        raise NotImplementedError


#: What a walk reads: the filtered rows' select, and the select of the rows with no place (or None).
Composer = Callable[[], tuple[Select[Any], Select[Any] | None]]


@dataclass(frozen=True)
class Walk:
    candidates: list[Candidate]
    horizon_m: float
    """No matching location left out is nearer than this on the sphere (infinite: none was left out)."""
    remote: list[Any] = field(default_factory=list)
    """The rows of ``also`` (rows with no place), read by the same statement."""


def _sphere_walk(rows: list[Candidate], limit: int, remote: list[Any]) -> Walk:
    """Candidates in sphere order: the last one bounds those left out, if any was."""
    return Walk(rows, rows[-1].sphere_m if len(rows) >= limit else math.inf, remote)


def _with_also(walk: Select[Any], also: Select[Any] | None) -> Select[Any] | CompoundSelect:
    """The walk, and in the same statement the rows of ``also`` (same columns, a null distance last)."""
    if also is None:
        return walk
    return union_all(select(walk.subquery()), select(also.subquery()))


def _candidates(rows: Any) -> tuple[list[Candidate], list[Any]]:
    """The walk's rows as candidates in sphere order, and apart the rows with no place (from ``also``)."""
    found, remote = [], []
    for r in rows:
        if r[2] is None:
            remote.append(r)
        else:
            found.append(Candidate(r[0], r[1], r[2], r[3], r, float(r[-1])))
    found.sort(key=lambda c: c.sphere_m)  # stable: the walk's own order among equals
    return found, remote


class _GeometryArray(UserDefinedType[Any]):
    """PostGIS ``geometry[]``, for a cast of an array of EWKT texts."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geometry[]"


#: The planar walk's point, box, order and row count, built once: the point, the box's reach and
#: the count are named parameters given at execution, so a search neither composes these
#: expressions again nor walks them for SQLAlchemy's cache key.
_GEOM = literal_column("search_location.geom")
_WALK_POINT = func.ST_SetSRID(func.ST_MakePoint(bindparam("walk_lon", type_=Float()), bindparam("walk_lat", type_=Float())), 4326)
_WALK_DISTANCE = _GEOM.op("<->", return_type=Float())(_WALK_POINT)
_WALK_BOX = _GEOM.op("&&")(func.ST_Expand(_WALK_POINT, bindparam("walk_reach", type_=Float())))
_WALK_FETCH = bindparam("walk_fetch", type_=Integer())
_WALK_VALUES = ("walk_lat", "walk_lon", "walk_reach", "walk_fetch")


class PostgisBackend(SearchBackend):
    """Nearest-first walks of the projection's GiST indexes (``<->``, the point a bound parameter): the
    geometry's in plain degrees where that can be bounded on the sphere, the geography's elsewhere."""

    name = "postgis"
    changing = frozenset({"point_lat", "point_lon", "ring_strips", "near_outside"})
    _geog = literal_column("search_location.geog")
    _geom = _GEOM

    def __init__(self) -> None:
        self._walks = Shapes(4096)
        """The walks' statements by shape (see ``nearest``): compiled for the driver, a few hundred
        bytes each (their text is shared by the shapes of one structure)."""

    def _point(self, lat: float, lon: float) -> Any:
        # Named: the searched point's values are the ones a kept statement takes anew (``changing``).
        return func.geography(func.ST_SetSRID(func.ST_MakePoint(bindparam("point_lon", lon, Float), bindparam("point_lat", lat, Float)), 4326))

    def sphere_distance(self, lat: float, lon: float) -> ColumnElement[float]:
        return self._geog.op("<->", return_type=Float())(self._point(lat, lon))

    def within(self, lat: float, lon: float, metres: float, *, sampled: bool = False) -> ColumnElement[bool]:
        # The sample's partial index is chosen by the planner from the caller's own condition on it.
        return func.ST_DWithin(self._geog, self._point(lat, lon), metres, False)

    def ring(self, lat: float, lon: float, inner_m: float, outer_m: float) -> ColumnElement[bool]:
        boxes = ring_boxes(lat, lon, inner_m, outer_m)
        if boxes is None:
            return super().ring(lat, lon, inner_m, outer_m)
        # The strips' boxes, one array parameter, are read from the geometry's index (one bitmap scan
        # per box) and the disc's box from the geography's: the rows of the thin ring only, not the
        # whole disc, get a distance. One parameter keeps the statement's text the same for every
        # search, so each connection prepares and plans it once.
        envelopes = [f"SRID=4326;POLYGON(({b.west!r} {b.south!r},{b.west!r} {b.north!r},{b.east!r} {b.north!r},{b.east!r} {b.south!r},{b.west!r} {b.south!r}))" for b in boxes]
        strips = self._geom.op("&&")(any_(cast(bindparam("ring_strips", envelopes, type_=ARRAY(Text)), _GeometryArray())))
        return and_(strips, super().ring(lat, lon, inner_m, outer_m))

    def not_among(self, column: Any, values: list[int]) -> ColumnElement[bool]:
        # One array parameter, whatever the list's length: the same statement text every time.
        return column != all_(bindparam("near_outside", values, type_=ARRAY(BigInteger)))

    def inside(self, box: Box) -> ColumnElement[bool]:
        # && is the index test; ST_Covers keeps points exactly on the edges. Written as SQL with its
        # corners bound: composing the envelopes' expressions took a tenth of a viewport search.
        parts, corners = [], {"box_south": box.south, "box_north": box.north}
        for i, (west, east) in enumerate(box.spans()):
            envelope = f"ST_MakeEnvelope(:box_west{i}, :box_south, :box_east{i}, :box_north, 4326)"
            parts.append(f"(search_location.geom && {envelope} AND ST_Covers({envelope}, search_location.geom))")
            corners.update({f"box_west{i}": west, f"box_east{i}": east})
        return type_coerce(text(" OR ".join(parts)).bindparams(**corners), Boolean).self_group()

    def json_values(self, column: Any) -> Any:
        return func.jsonb_array_elements_text(cast(column, JSONB)).table_valued("value").alias("element")

    async def nearest(self, session, compose, lat, lon, *, within_m, beyond_m, limit, with_also=False, shape=None):  # noqa: ANN001
        # One index scan: the box around the disc is the index condition, the plain-degree distance
        # its order (three times cheaper per row than the geography's), and the filters are tests
        # on each row it reaches; the scan stops at the limit. How far it went in plain degrees
        # bounds how near an unseen location can be on the sphere. Where plain degrees wrap (the
        # antimeridian, the poles) it walks the geography instead.
        reach = planar_reach(lat, lon, within_m)
        if reach is None:
            base, also = compose()
            sphere = self.sphere_distance(lat, lon)
            query = base.add_columns(sphere).where(self.within(lat, lon, within_m))
            if beyond_m > 0:
                query = query.where(sphere >= beyond_m)
            statement = _with_also(query.order_by(sphere, S.location_id).limit(limit), also if with_also else None)
            rows, remote = _candidates(await session.execute(statement, execution_options=BY_NAME))
            return _sphere_walk(rows, limit, remote)
        # A walk in plain degrees proves a narrower disc on the sphere: take more to prove ``limit``.
        proven = within_m / (math.radians(reach) * EARTH_RADIUS_M)
        fetch = math.ceil(limit / max(proven, 0.05)) + 4
        # The same shape walks with the same statement, run on the driver itself (``directory.lean``):
        # nothing composed, nothing compiled (a later page's own threshold is not kept).
        key = (shape, with_also) if shape is not None and beyond_m <= 0 else None
        statement = self._walks.get(key)
        if statement is None:
            base, also = compose()
            query = base.add_columns(_WALK_DISTANCE).where(_WALK_BOX)
            if beyond_m > 0:
                # Plain degrees never shrink a sphere distance (in radians): what lies beyond ``beyond_m``
                # lies beyond this many degrees.
                query = query.where(_WALK_DISTANCE >= math.degrees(beyond_m / EARTH_RADIUS_M) * (1 - 1e-6))
            statement = _with_also(query.order_by(_WALK_DISTANCE).limit(_WALK_FETCH), also if with_also else None)
            if key is not None:
                statement = self._walks.put(key, compile_lean(statement, await dialect_of(session), _WALK_VALUES) or statement)
        parameters = {"walk_lat": lat, "walk_lon": lon, "walk_reach": reach, "walk_fetch": fetch}
        if isinstance(statement, Lean):
            rows, remote = _candidates(await statement.fetch(session, parameters))
        else:
            rows, remote = _candidates(await session.execute(statement, parameters, execution_options=BY_NAME))
        if len(rows) < fetch:
            return Walk([row for row in rows if row.sphere_m <= reach], math.inf, remote)  # the whole box was read
        horizon = sphere_horizon(lat, lon, rows[-1].sphere_m, within_m)
        return Walk([row for row in rows if row.sphere_m <= reach], horizon, remote)


class SqliteBackend(SearchBackend):
    """An R*Tree box grown step by step around the point; the sphere distance from SQLite's math functions."""

    name = "sqlite"
    FIRST_STEP_M = 8_000.0

    #: The haversine distance in SQLite's math functions, written once: the point comes as bound
    #: parameters (the statement's text, and so its compilation, stays the same), and the expression
    #: costs a tenth of composing it from SQL functions on every search.
    _SPHERE_SQL = (
        f"({2 * EARTH_RADIUS_M!r} * asin(min(1.0, sqrt(pow(sin(radians(search_location.latitude - :sphere_lat) / 2), 2)"
        " + :sphere_cos * cos(radians(search_location.latitude)) * pow(sin(radians(search_location.longitude - :sphere_lon) / 2), 2)))))"
    )

    def sphere_distance(self, lat: float, lon: float) -> ColumnElement[float]:
        bound = text(self._SPHERE_SQL).bindparams(sphere_lat=lat, sphere_lon=lon, sphere_cos=math.cos(math.radians(lat)))
        return type_coerce(bound, Float)

    def _rtree_ids(self, box: Box, *, sampled: bool = False) -> Any:
        spans = box.spans()
        where = " OR ".join(
            f"(min_lat >= :south AND max_lat <= :north AND min_lon >= :west{i} AND max_lon <= :east{i})" for i in range(len(spans))
        )
        # Bound parameters, so that the statement's text stays the same and its compilation is cached.
        bounds = {"south": box.south, "north": box.north}
        for i, (west, east) in enumerate(spans):
            bounds.update({f"west{i}": west, f"east{i}": east})
        # The sample's own R*Tree holds a sixteenth of the locations: reading it skips the rows of the rest.
        return text(f"SELECT id FROM {'search_location_sample_rtree' if sampled else 'search_location_rtree'} WHERE {where}").bindparams(**bounds)

    def ring(self, lat: float, lon: float, inner_m: float, outer_m: float) -> ColumnElement[bool]:
        boxes = ring_boxes(lat, lon, inner_m, outer_m)
        if boxes is None:
            return super().ring(lat, lon, inner_m, outer_m)
        # Each box read by the R*Tree on its own (an OR of them would not be), the distance then tested.
        sql = " UNION ALL ".join(
            f"SELECT id FROM search_location_rtree WHERE min_lat >= :s{i} AND max_lat <= :n{i} AND min_lon >= :w{i} AND max_lon <= :e{i}"
            for i in range(len(boxes))
        )
        bounds = {}
        for i, box in enumerate(boxes):
            bounds.update({f"s{i}": box.south, f"n{i}": box.north, f"w{i}": box.west, f"e{i}": box.east})
        distance = self.sphere_distance(lat, lon)
        return and_(S.location_id.in_(text(sql).bindparams(**bounds)), distance <= outer_m, distance > inner_m)

    def within(self, lat: float, lon: float, metres: float, *, sampled: bool = False) -> ColumnElement[bool]:
        return and_(
            S.location_id.in_(self._rtree_ids(box_around(lat, lon, metres), sampled=sampled)),
            self.sphere_distance(lat, lon) <= metres,
        )

    def inside(self, box: Box) -> ColumnElement[bool]:
        # The R*Tree stores 32-bit floats rounded outwards: it narrows, the exact test decides.
        padded = Box(box.west - 1e-4, box.south - 1e-4, box.east + 1e-4, box.north + 1e-4)
        exact = or_(*(S.longitude.between(west, east) for west, east in box.spans()))
        return and_(S.location_id.in_(self._rtree_ids(padded)), S.latitude.between(box.south, box.north), exact)

    def json_values(self, column: Any) -> Any:
        return func.json_each(column).table_valued("value").alias("element")

    def words_contain(self, word: str) -> ColumnElement[bool]:
        # The FTS5 trigram table answers LIKE from its index for three letters or more.
        if len(word) < 3:
            return super().words_contain(word)
        words = table("search_location_words", column("rowid"), column("words"))
        return S.location_id.in_(select(words.c.rowid).where(words.c.words.like(f"%{word}%")))

    async def nearest(self, session, compose, lat, lon, *, within_m, beyond_m, limit, with_also=False, shape=None):  # noqa: ANN001
        base, also = compose()
        also = also if with_also else None
        distance = self.sphere_distance(lat, lon)
        step = max(self.FIRST_STEP_M, beyond_m * 1.5)
        remote: list[Any] | None = None
        while True:
            reach = min(step, within_m)
            # Every location within `reach` lies in the box around it, so this disc is complete.
            query = base.add_columns(distance).where(self.within(lat, lon, reach))
            if beyond_m > 0:
                query = query.where(distance >= beyond_m)
            rows, found = _candidates(await session.execute(_with_also(query.order_by(distance).limit(limit), also if remote is None else None), execution_options=BY_NAME))
            remote = found if remote is None else remote
            if len(rows) >= limit or reach >= within_m:
                return _sphere_walk(rows, limit, remote)
            # Grow the disc by what the matches found so far say the page needs (its area grows
            # with the square of the step), not blindly: a box four times wider holds sixteen
            # times the rows, and in a dense metro those rows are the cost.
            step *= min(4.0, max(1.5, math.sqrt(limit / max(len(rows), 1)) * 1.25))


def backend_for(dialect: str) -> SearchBackend:
    return PostgisBackend() if dialect == "postgresql" else SqliteBackend()
