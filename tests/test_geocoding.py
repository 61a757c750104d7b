"""Placing addresses: offline from shipped ZIP and city data; online through a Nominatim-like service."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator

import pytest
from conftest import ADMIN, make_settings
from fake_http import LocalJsonServer
from geopy.distance import geodesic

from directory.database import Database
from directory.geocoding import Geocoder
from directory.geocoding import offline as places
from directory.geocoding.offline import OfflineGeocoder, split_city_state


@pytest.fixture(scope="module")
def offline() -> OfflineGeocoder:
    return OfflineGeocoder()


@pytest.mark.parametrize(
    ("query", "label", "precision", "near"),
    [
        ("10001", "New York, NY 10001", "postcode", (40.75, -74.00)),
        ("10001-1234", "New York, NY 10001", "postcode", (40.75, -74.00)),
        ("99501", "Anchorage, AK 99501", "postcode", (61.22, -149.86)),
        ("96813", "Honolulu, HI 96813", "postcode", (21.31, -157.86)),
        ("Honolulu, HI", "Honolulu, HI", "city", (21.31, -157.86)),
        ("Fairbanks, Alaska", "Fairbanks, AK", "city", (64.84, -147.72)),
        ("austin tx", "Austin, TX", "city", (30.27, -97.74)),
        ("St. Louis, MO", "St. Louis, MO", "city", (38.63, -90.20)),
        ("Saint Paul, MN", "Saint Paul, MN", "city", (44.94, -93.09)),
        ("123 Main St, Boise, ID 83702", "Boise, ID 83702", "postcode", (43.63, -116.20)),
        ("Denver", "Denver, CO", "city", (39.74, -104.98)),
    ],
)
def test_offline_places_zip_codes_and_cities(offline, query, label, precision, near):
    found = offline.geocode(query)
    assert found is not None and found.address == label and found.raw["precision"] == precision
    assert geodesic((found.latitude, found.longitude), near).km < 15


@pytest.mark.parametrize("query", ["00000", "99999", "Gondor, FL", "", "   ", "zzzz qqqq"])
def test_offline_knows_when_it_does_not_know(offline, query):
    assert offline.geocode(query) is None


def test_military_zip_codes_are_never_placed_at_zero(offline):
    assert offline.geocode("09001") is None  # an APO/FPO code: the data has 0,0 for it


def test_city_and_state_are_split_from_free_text():
    assert split_city_state("350 Fifth Ave, New York, NY") == ("New York", "NY")
    assert split_city_state("Salt Lake City Utah") == ("Salt Lake City", "UT")
    assert split_city_state("Springfield") == ("Springfield", None)


class FakeNominatim(LocalJsonServer):
    """Answers /search like Nominatim, counting the requests it gets."""

    def __init__(self, hang: bool = False) -> None:
        #: Set: answer. Cleared: hold every answer until it is set (a geocoder that never answers in time).
        self.go = threading.Event()
        if not hang:
            self.go.set()
        self.queries: list[str] = []
        super().__init__(self.answer)

    def answer(self, query: dict[str, str]) -> tuple[int, list]:
        self.queries.append(query.get("q", ""))
        self.go.wait(timeout=60)
        if "fifth avenue" not in self.queries[-1].lower():
            return 200, []
        return 200, [{
            "lat": "40.7484", "lon": "-73.9857", "display_name": "350, Fifth Avenue, New York, NY 10118",
            "addresstype": "building", "address": {"house_number": "350", "road": "Fifth Avenue"},
        }]  # fmt: skip


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    server = FakeNominatim()
    yield server
    server.close()


@pytest.fixture
async def online_geocoder(settings, nominatim):
    from conftest import empty_listings

    await empty_listings(settings.database_url)
    online = settings.model_copy(update={"geocoder": "nominatim", "geocoder_url": nominatim.url, "geocoder_timeout": 1.0})
    database = Database.from_settings(online)
    geocoder = Geocoder(online, database.writer)
    yield geocoder
    await geocoder.close()
    await database.dispose()


async def test_the_online_geocoder_is_asked_and_its_answers_are_cached(online_geocoder, nominatim):
    place = await online_geocoder.locate("350 Fifth Avenue, New York, NY 10118")
    assert place is not None and place.precision == "address" and place.source == "nominatim"
    assert (place.latitude, place.longitude) == (40.7484, -73.9857)
    again = await online_geocoder.locate("350  FIFTH avenue, new york, ny 10118")
    assert again == place
    assert len(nominatim.queries) == 1


async def test_when_the_online_geocoder_knows_nothing_the_offline_data_answers(online_geocoder, nominatim):
    place = await online_geocoder.locate("1 Nowhere Road, Austin, TX 78701")
    assert place is not None and place.precision == "postcode" and place.source == "offline"
    assert nominatim.queries == ["1 Nowhere Road, Austin, TX 78701"]


async def test_a_slow_or_absent_online_geocoder_falls_back_to_offline(settings):
    """A geocoder that holds its answer until the test ends, and one where nothing listens: each lookup
    returns the offline answer on its own timeout (the outer wait_for only keeps a broken timeout
    from hanging the suite; nothing here measures time)."""
    slow = FakeNominatim(hang=True)
    try:
        for url in (slow.url, "http://127.0.0.1:9"):
            configured = make_settings(settings.database_url, geocoder="nominatim", geocoder_url=url, geocoder_timeout=0.3)
            database = Database.from_settings(configured)
            geocoder = Geocoder(configured, database.writer)
            place = await asyncio.wait_for(geocoder.locate("350 Fifth Avenue, New York, NY 10118"), timeout=60)
            assert place is not None and place.source == "offline" and place.precision == "postcode"
            await geocoder.close()
            await database.dispose()
        assert slow.queries == ["350 Fifth Avenue, New York, NY 10118"]  # it was asked, and not waited for
    finally:
        slow.go.set()
        slow.close()


async def test_a_listing_written_with_the_online_geocoder_stores_address_precision(settings, nominatim):
    from conftest import empty_listings
    from factories import listing
    from litestar.testing import AsyncTestClient

    from directory.app import create_app

    await empty_listings(settings.database_url)
    online = settings.model_copy(update={"geocoder": "nominatim", "geocoder_url": nominatim.url})
    async with AsyncTestClient(app=create_app(online)) as client:
        response = await client.post("/v1/providers", json=listing(), headers=ADMIN)
    (place,) = response.json()["locations"]
    assert place["coordinate_precision"] == "address" and place["latitude"] == 40.7484
    assert place["timezone"] == "America/New_York"


def _places_file(path, zips, cities):
    import gzip

    with gzip.open(path, "wt", encoding="utf-8") as out:
        for code, lat, lon, city, state, zone in zips:
            out.write(f"Z\t{code}\t{lat}\t{lon}\t{city}\t{state}\t{zone}\n")
        for name, state, lat, lon, zone, population in cities:
            out.write(f"C\t{name}\t{state}\t{lat}\t{lon}\t{zone}\t{population}\n")


def test_the_place_index_is_made_once_per_compact_file_and_answers_from_it(tmp_path, monkeypatch):
    """The index is an SQLite file beside the compact one (in the temporary folder where that
    cannot be written), named by the compact file's content: a changed file makes a new one."""
    from directory.geocoding import offline

    source = tmp_path / "places" / "us_places.tsv.gz"
    source.parent.mkdir()
    _places_file(source, [("59001", 45.51, -109.45, "Absarokee", "MT", "America/Denver"), ("82001", 41.14, -104.82, "Cheyenne", "WY", "America/Denver")],
                 [("Springfield", "IL", 39.80, -89.64, "America/Chicago", 114394), ("Springfield", "MO", 37.21, -93.29, "America/Chicago", 170188)])  # fmt: skip
    index = offline._Index(source)
    assert index.path.parent == source.parent and index.path.suffix == ".sqlite"
    assert index.zip("59001") == offline._Point(45.51, -109.45, "Absarokee, MT 59001", "America/Denver")
    assert index.zip("00000") is None
    assert index.city("springfield", "IL").label == "Springfield, IL"
    assert index.most_populous("springfield").label == "Springfield, MO"
    assert index.nearest_state(41.0, -104.9, *offline._cell(41.0, -104.9), 0) == "WY"
    assert offline._Index(source).path == index.path  # made once

    _places_file(source, [("59001", 45.0, -109.0, "Absarokee", "MT", "America/Denver")], [])
    changed = offline._Index(source)
    assert changed.path != index.path and changed.zip("59001").latitude == 45.0 and changed.zip("82001") is None

    written = []

    def refuse_beside_the_source(source_file, target):
        written.append(target.parent)
        if target.parent == source.parent:
            raise PermissionError("read-only")
        real(source_file, target)

    real = offline._write_index
    monkeypatch.setattr(offline, "_write_index", refuse_beside_the_source)
    monkeypatch.setattr(offline.tempfile, "gettempdir", lambda: str(tmp_path))
    _places_file(source, [("82001", 41.14, -104.82, "Cheyenne", "WY", "America/Denver")], [])
    elsewhere = offline._Index(source)
    assert elsewhere.path.parent == tmp_path and elsewhere.zip("82001") is not None and written == [source.parent, tmp_path]


def test_the_state_of_a_point_is_the_same_kept_per_cell_as_looked_up_afresh():
    """Searches ask which state a place is in (for telehealth hits); the answer is kept per cell of
    the place index where it is the same for every point of the cell. Points all over the US, on
    borders, at sea and abroad, asked twice (the second time from what was kept), answer as a
    fresh lookup does (the nearest centroid in the first square of cells around the point's that
    holds any)."""
    index = places._get_index()

    def fresh_lookup(lat: float, lon: float) -> str | None:
        row, col = places._cell(lat, lon)
        return next(filter(None, (index.nearest_state(lat, lon, row, col, ring) for ring in range(places._RINGS))), None)

    places._BY_CELL.clear()
    rng = random.Random(28)
    points = [(rng.uniform(24.0, 49.5), rng.uniform(-125.0, -66.5)) for _ in range(3000)]
    points += [(rng.uniform(51.0, 71.0), rng.uniform(-170.0, -130.0)) for _ in range(300)]  # Alaska and the sea around it
    points += [(rng.uniform(18.5, 22.5), rng.uniform(-160.5, -154.5)) for _ in range(300)]  # Hawaii
    points += [(40.99, -111.05), (41.0, -111.05), (45.0, -71.5), (38.9, -77.03), (39.72, -75.79), (0.0, 0.0), (35.0, -40.0), (51.5, -0.12)]
    fresh = [fresh_lookup(lat, lon) for lat, lon in points]
    for _ in range(2):
        assert [places.state_at(lat, lon) for lat, lon in points] == fresh
    kinds = {kind for kind, _ in places._BY_CELL.values()}
    assert kinds == {"state", "ring"}, "both whole cells and border cells were met"
    assert places.state_at(30.27, -97.74) == "TX" and places.state_at(35.0, -40.0) is None
