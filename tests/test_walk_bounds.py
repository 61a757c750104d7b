"""The bounds behind the PostGIS walk in plain degrees: a walk that has passed a number of degrees
has seen every location within the sphere distance it claims, and a cursor's lower bound in
degrees never drops a location that is still ahead."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from directory.search.backends import EARTH_RADIUS_M, planar_reach, sphere_horizon


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
