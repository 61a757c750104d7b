"""The bounds behind the PostGIS walk in plain degrees: a walk that has passed a number of degrees
has seen every location within the sphere distance it claims, and a cursor's lower bound in
degrees never drops a location that is still ahead."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from directory.search.backends import SPHERE_ERROR
from directory.search.bounds import EARTH_RADIUS_M, RING_STRIPS, box_around, planar_reach, ring_boxes, sphere_horizon


def sphere_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def destination(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    d, b, p = metres / EARTH_RADIUS_M, math.radians(bearing), math.radians(lat)
    p2 = math.asin(math.sin(p) * math.cos(d) + math.cos(p) * math.sin(d) * math.cos(b))
    l2 = math.radians(lon) + math.atan2(math.sin(b) * math.sin(d) * math.cos(p), math.cos(d) - math.sin(p) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


latitudes = st.floats(-70, 70)
longitudes = st.floats(-170, 170)


@settings(max_examples=400, deadline=None)
@given(latitudes, longitudes, st.floats(10, 400_000), st.floats(0, 1), st.floats(0, 360))
def test_every_point_inside_the_horizon_lies_inside_the_walked_degrees(lat, lon, within, share, bearing) -> None:
    reach = planar_reach(lat, lon, within)
    assume(reach is not None)  # near the antimeridian or a pole: the geography answers (tested below)
    walked = reach * share
    horizon = sphere_horizon(lat, lon, walked, within)
    lat2, lon2 = destination(lat, lon, horizon * 0.999999, bearing)
    assert math.hypot(lat2 - lat, lon2 - lon) < walked + 1e-9


@settings(max_examples=400, deadline=None)
@given(latitudes, longitudes, st.floats(1, 400_000), st.floats(0, 360))
def test_plain_degrees_never_understate_the_sphere(lat, lon, metres, bearing) -> None:
    lat2, lon2 = destination(lat, lon, metres, bearing)
    assume(abs(lon2 - lon) <= 180)  # crossed the antimeridian: plain degrees do not apply
    assert math.radians(math.hypot(lat2 - lat, lon2 - lon)) * EARTH_RADIUS_M >= sphere_m(lat, lon, lat2, lon2) * (1 - 1e-7)


def test_the_antimeridian_and_the_poles_fall_back_to_the_geography() -> None:
    assert planar_reach(52.0, 179.9, 50_000) is None
    assert planar_reach(89.95, 0.0, 50_000) is None
    assert planar_reach(40.0, -74.0, 50_000) is not None


@settings(max_examples=300, deadline=None)
@given(latitudes, longitudes, st.floats(500, 800_000), st.floats(0, 1), st.floats(0, 360))
def test_the_ring_s_boxes_hold_every_point_of_the_ring(lat, lon, radius, where, bearing):
    """SQLite reads the thin band at the radius (where sphere and ellipsoid may disagree) through a
    few boxes: every point between the inner and outer circle lies in one of them."""
    inner, outer = radius * (1 - SPHERE_ERROR), radius * (1 + SPHERE_ERROR)
    boxes = ring_boxes(lat, lon, inner, outer)
    assume(boxes is not None)
    point = destination(lat, lon, inner + (outer - inner) * where, bearing)
    assert any(box.south <= point[0] <= box.north and box.west <= point[1] <= box.east for box in boxes)


def test_the_ring_s_boxes_are_a_small_part_of_the_circle_s_box_and_give_way_where_they_cannot_hold():
    area = lambda box: (box.north - box.south) * (box.east - box.west)  # noqa: E731
    for lat, lon, radius in ((40.75, -73.99, 50_000), (61.2, -149.9, 40_234), (25.8, -80.2, 804_672)):
        boxes = ring_boxes(lat, lon, radius * (1 - SPHERE_ERROR), radius * (1 + SPHERE_ERROR))
        assert boxes is not None and len(boxes) == 2 * RING_STRIPS
        assert sum(map(area, boxes)) < 0.2 * area(box_around(lat, lon, radius * (1 + SPHERE_ERROR)))
    assert ring_boxes(84.5, 10.0, 99_000, 101_000) is None  # comes near the pole
    assert ring_boxes(10.0, 179.5, 99_000, 101_000) is None  # crosses the antimeridian


def test_the_postgis_ring_and_exclusion_list_keep_one_statement_text_whatever_the_search():
    """The strips' boxes and the locations left out travel as one array parameter each, so the
    statement's text (what each connection prepares and PostgreSQL plans) does not change with
    the place, the radius or the number of locations in the band."""
    from sqlalchemy import and_
    from sqlalchemy.dialects import postgresql

    from directory.listings.readmodel import search_location
    from directory.search.backends import PostgisBackend

    backend, dialect = PostgisBackend(), postgresql.asyncpg.dialect()

    def compiled(lat: float, lon: float, radius: float, outside: list[int]) -> tuple[str, dict]:
        condition = and_(backend.ring(lat, lon, radius * (1 - SPHERE_ERROR), radius * (1 + SPHERE_ERROR)), backend.not_among(search_location.c.location_id, outside))
        statement = condition.compile(dialect=dialect)
        return str(statement), statement.params

    first, first_params = compiled(40.75, -73.99, 50_000, [1, 2, 3])
    second, second_params = compiled(25.8, -80.2, 804_672, list(range(70)))
    assert first == second
    arrays = [value for value in second_params.values() if isinstance(value, list)]
    assert sorted(len(value) for value in arrays) == [2 * RING_STRIPS, 70]
    assert all(box.startswith("SRID=4326;POLYGON((") for value in arrays if len(value) == 2 * RING_STRIPS for box in value)
