"""Bounds on the sphere for walking a plain longitude/latitude index: the box around a circle, the
boxes around a ring, and how far a walk in plain degrees must go to have seen every point of a disc."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Box:
    """A longitude/latitude box. ``west > east`` means it crosses the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    def spans(self) -> list[tuple[float, float]]:
        """The longitude ranges it covers: two when it crosses the antimeridian."""
        if self.west <= self.east:
            return [(self.west, self.east)]
        return [(self.west, 180.0), (-180.0, self.east)]


def box_around(lat: float, lon: float, metres: float) -> Box:
    """A box holding every point within ``metres`` of (lat, lon) on the sphere (a little larger)."""
    dlat = math.degrees(metres / EARTH_RADIUS_M) * 1.001
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.9 or metres >= EARTH_RADIUS_M * math.pi / 2:
        return Box(-180.0, south, 180.0, north)
    dlon = math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(widest)))) * 1.001
    if dlon >= 180:
        return Box(-180.0, south, 180.0, north)
    west, east = lon - dlon, lon + dlon
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    return Box(west, south, east, north)


#: A ring is covered by boxes in this many latitude strips, two boxes each (a constant, so that
#: the statement's text, and so its compilation, stays the same).
RING_STRIPS = 16


def ring_boxes(lat: float, lon: float, inner_m: float, outer_m: float) -> list[Box] | None:
    """Boxes that together hold every point between ``inner_m`` and ``outer_m`` of (lat, lon) on
    the sphere, in a small part of the box around the outer circle; None where the circle reaches
    a pole or the antimeridian (the caller then reads the whole box).

    Per latitude strip, a point's distance grows with its longitude's distance from the centre's:
    the ring holds the longitudes between the inner circle's half-width at that latitude and the
    outer circle's. Each half-width rises to one peak and falls across latitudes, so its extremes
    over a strip lie at the strip's edges or at the peak."""
    phi0, a_out, a_in = math.radians(lat), outer_m / EARTH_RADIUS_M, inner_m / EARTH_RADIUS_M
    if a_out >= 0.5 or abs(lat) + math.degrees(a_out) >= 85:
        return None
    peak = math.asin(min(1.0, math.sin(phi0) / math.cos(a_out)))

    def half_width(phi: float, a: float) -> float:
        """Radians of longitude from the centre to the circle of angular radius ``a`` at latitude ``phi`` (0 where it does not reach)."""
        hav_dphi = math.sin((phi - phi0) / 2) ** 2
        hav_a = math.sin(a / 2) ** 2
        if hav_dphi >= hav_a:
            return 0.0
        hav_dlam = (hav_a - hav_dphi) / (math.cos(phi) * math.cos(phi0))
        return math.pi if hav_dlam >= 1 else 2 * math.asin(math.sqrt(hav_dlam))

    pad = 1e-4  # degrees: the R*Tree's 32-bit floats and rounding here
    edges = [phi0 + a_out * math.sin(-math.pi / 2 + k * math.pi / RING_STRIPS) for k in range(RING_STRIPS + 1)]
    boxes = []
    for south, north in zip(edges, edges[1:], strict=False):
        reach = max(half_width(phi, a_out) for phi in (south, north, *([peak] if south <= peak <= north else [])))
        hole = min(half_width(south, a_in), half_width(north, a_in))
        far, near = math.degrees(reach) + pad, max(0.0, math.degrees(hole) - pad)
        if lon - far < -180 or lon + far > 180:
            return None
        s, n = math.degrees(south) - pad, math.degrees(north) + pad
        boxes += [Box(lon - far, s, lon - near, n), Box(lon + near, s, lon + far, n)]
    return boxes


def planar_reach(lat: float, lon: float, metres: float) -> float | None:
    """How far (in plain degrees) a walk must go to hold every point within ``metres`` on the sphere.

    Along the great circle to such a point the latitude stays within the box around the point, where
    a degree of longitude is at least cos(widest latitude) of a degree of arc; so the plain-degree
    distance is at most the arc over that cosine: the box's half-width in longitude. None where
    plain degrees cannot do it: the box wraps the antimeridian or reaches a pole.
    """
    box = box_around(lat, lon, metres)
    if box.west > box.east or box.east - box.west >= 360.0 or abs(box.north) >= 89.9 or abs(box.south) >= 89.9:
        return None
    return max(box.east - lon, lon - box.west, box.north - lat, lat - box.south)


def sphere_horizon(lat: float, lon: float, degrees: float, ceiling: float) -> float:
    """The largest distance (at most ``ceiling``) whose whole disc lies within ``degrees`` of the point.

    A walk in plain-degree order that has passed ``degrees`` has seen every point this near.
    ``planar_reach`` grows with the distance; away from the poles and the antimeridian its inverse
    is the fixed point of x = D cos(|lat| + 1.001 x) (x the distance in radians, D the degrees less
    the 0.1% margin ``box_around`` adds), reached in a few steps and checked against
    ``planar_reach`` itself; where that check fails, a bisection decides (40 steps of it on every
    walk took 3% of a search's time).
    """
    reach = planar_reach(lat, lon, ceiling)
    if reach is not None and reach < degrees:
        return ceiling
    target, base = math.radians(degrees / 1.001), math.radians(abs(lat))
    x = target * math.cos(base)
    for _ in range(20):
        x = target * math.cos(min(base + 1.001 * x, math.pi / 2))
    for shrink in (1e-12, 1e-10, 1e-8):
        metres = min(ceiling, x * EARTH_RADIUS_M * (1 - shrink))
        reach = planar_reach(lat, lon, metres)
        if reach is not None and reach < degrees:
            return metres
    low, high = 0.0, ceiling
    for _ in range(40):
        middle = (low + high) / 2
        reach = planar_reach(lat, lon, middle)
        if reach is not None and reach < degrees:
            low = middle
        else:
            high = middle
    return low
