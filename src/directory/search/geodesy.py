"""Distances on the WGS84 ellipsoid, fast enough to rank hundreds of candidates per request."""

from __future__ import annotations

from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points on WGS84, by Karney's algorithm (as geographiclib and geopy
    compute it, nanometres from the exact figure, antipodal pairs included), in PROJ's C code:
    about 1 µs a pair, where Vincenty's formula in Python took 5."""
    return _WGS84.inv(lon1, lat1, lon2, lat2)[2]
