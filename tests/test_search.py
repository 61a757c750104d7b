"""GET /v1/search on both databases: places, filters, exact distance order, pages, totals, facets, formats."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import ADMIN, ADMIN_ANY, write_directly
from factories import assert_problem
from geopy.distance import geodesic
from sqlalchemy import update

from directory.listings.models import Provider

MILE = 1609.344
NYC = (40.7484, -73.9857)


async def publish(client, name: str, *points: tuple[float, float], **fields: Any) -> dict[str, Any]:
    """A published listing with a location at each point (exact coordinates)."""
    body: dict[str, Any] = {"name": name, "status": "published", "conditions": ["ptsd"]}
    body.update(fields)
    hours = body.pop("hours", None)
    body["locations"] = [
        {"latitude": lat, "longitude": lon, **({"hours": hours, "timezone": "America/New_York"} if hours else {})}
        for lat, lon in points
    ]
    response = await client.post("/v1/providers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def offset(point: tuple[float, float], miles: float, bearing: float = 90) -> tuple[float, float]:
    destination = geodesic(meters=miles * MILE).destination(point, bearing)
    return destination.latitude, destination.longitude


async def search(client, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict[str, Any]) -> list[str]:
    return [hit["provider"]["name"] for hit in page["items"]]


async def test_hits_come_nearest_first_with_geodesic_distances(client):
    for miles in (7, 1, 12, 3):
        await publish(client, f"{miles} miles", offset(NYC, miles, bearing=miles * 40))
    page = await search(client, lat=NYC[0], lon=NYC[1], radius=10)
    assert names(page) == ["1 miles", "3 miles", "7 miles"]
    for hit in page["items"]:
        location = hit["location"]
        exact = geodesic(NYC, (location["latitude"], location["longitude"])).miles
        assert abs(hit["distance"] - exact) <= exact * 0.001
        assert hit["remote"] is False
    km = await search(client, lat=NYC[0], lon=NYC[1], radius=10, unit="km")
    assert names(km) == ["1 miles", "3 miles"] and abs(km["items"][0]["distance"] - 1.609344) < 0.001


async def test_a_provider_exactly_at_the_radius_is_included(client):
    await publish(client, "edge", offset(NYC, 25))
    await publish(client, "beyond", offset(NYC, 25.01))
    assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=25)) == ["edge"]


async def test_the_default_radius_is_25_miles(client):
    await publish(client, "inside", offset(NYC, 24.9))
    await publish(client, "outside", offset(NYC, 25.1))
    page = await search(client, lat=NYC[0], lon=NYC[1])
    assert names(page) == ["inside"] and page["radius"] == 25 and page["unit"] == "mi"


async def test_alaska_and_hawaii(client):
    await publish(client, "Anchorage", (61.2181, -149.9003))
    await publish(client, "Honolulu", (21.3069, -157.8583))
    assert names(await search(client, near="99501")) == ["Anchorage"]
    page = await search(client, near="Honolulu, HI", radius=10)
    assert names(page) == ["Honolulu"] and page["place"]["state"] == "HI" and page["place"]["precision"] == "city"


async def test_near_says_what_the_place_resolved_to(client):
    await publish(client, "Midtown", NYC)
    page = await search(client, near="10001", radius=5)
    assert page["place"] == {
        "kind": "near", "latitude": 40.7484, "longitude": -73.9967, "label": "New York, NY 10001",
        "precision": "postcode", "state": "NY",
    }  # fmt: skip
    assert names(page) == ["Midtown"]


async def test_fhir_near_form_is_accepted(client):
    await publish(client, "two km", offset(NYC, 2 / 1.609344))
    assert names(await search(client, near=f"{NYC[0]}|{NYC[1]}|3")) == ["two km"]  # km when units are left out
    assert names(await search(client, near=f"{NYC[0]}|{NYC[1]}|1|[mi_i]")) == []


async def test_a_place_with_no_providers_is_an_empty_result(client):
    await publish(client, "far away", NYC)
    page = await search(client, near="Fairbanks, AK", total="true")
    assert page["items"] == [] and page["total"] == 0 and page["next_cursor"] is None


async def test_a_provider_counts_at_its_nearest_matching_location(client):
    await publish(client, "two sites", offset(NYC, 20), offset(NYC, 2, bearing=180))
    await publish(client, "one site", offset(NYC, 5))
    page = await search(client, lat=NYC[0], lon=NYC[1], radius=25)
    assert names(page) == ["two sites", "one site"]
    assert abs(page["items"][0]["distance"] - 2) < 0.001
    by_location = await search(client, lat=NYC[0], lon=NYC[1], radius=25, group="location")
    assert names(by_location) == ["two sites", "one site", "two sites"]


async def test_closed_suspended_and_draft_listings_are_never_shown(client):
    shown = await publish(client, "published", NYC)
    await publish(client, "draft", NYC, status="draft")
    suspended = await publish(client, "suspended", NYC)
    closed = await publish(client, "closed", NYC)
    await client.patch(f"/v1/providers/{suspended['id']}", json={"status": "suspended"}, headers=ADMIN_ANY)
    await client.delete(f"/v1/providers/{closed['id']}", headers=ADMIN_ANY)
    assert names(await search(client, lat=NYC[0], lon=NYC[1])) == ["published"]
    assert names(await search(client)) == ["published"]
    assert (await search(client, total="true"))["total"] == 1
    assert shown["status"] == "published"


async def test_a_map_viewport_finds_what_is_inside_it(client):
    await publish(client, "inside", (40.75, -73.98))
    await publish(client, "on the edge", (40.80, -73.95))
    await publish(client, "outside", (40.85, -73.98))
    page = await search(client, bbox="-74.00,40.70,-73.95,40.80")
    assert names(page) == ["inside", "on the edge"] and page["radius"] is None
    assert page["place"]["kind"] == "bbox"


async def test_a_viewport_across_the_antimeridian(client):
    await publish(client, "Attu", (52.9, 173.2))
    await publish(client, "Adak", (51.88, -176.65))
    await publish(client, "Kamchatka", (53.0, 158.6))
    page = await search(client, bbox="170,50,-170,56")
    assert sorted(names(page)) == ["Adak", "Attu"]


async def test_duplicate_filter_values_change_nothing(client):
    await publish(client, "ptsd clinic", NYC)
    await publish(client, "ocd clinic", NYC, conditions=["ocd"])
    once = await search(client, lat=NYC[0], lon=NYC[1], condition="ptsd")
    twice = (await client.get("/v1/search", params=[("lat", NYC[0]), ("lon", NYC[1]), ("condition", "ptsd"), ("condition", "PTSD")])).json()
    assert names(once) == names(twice) == ["ptsd clinic"]


async def test_condition_filters_take_codes_synonyms_any_and_all(client):
    await publish(client, "trd", NYC, conditions=["treatment-resistant-depression"])
    await publish(client, "both", NYC, conditions=["treatment-resistant-depression", "ptsd"])
    await publish(client, "ptsd", NYC, conditions=["ptsd"])
    assert sorted(names(await search(client, condition="TRD"))) == ["both", "trd"]
    assert sorted(names(await search(client, condition="trd,ptsd"))) == ["both", "ptsd", "trd"]
    assert names(await search(client, condition="trd,ptsd", condition_match="all")) == ["both"]


async def test_every_filter_narrows_the_results(client, database):
    base = {"conditions": ["ptsd"]}
    await publish(client, "plain", NYC, **base)
    await publish(client, "iv spravato", NYC, services=[{"code": "esketamine-spravato"}], routes=["iv", "intranasal"], **base)
    await publish(
        client, "crna", NYC, clinicians=[{"first_name": "A", "last_name": "B", "credential": "CRNA", "specialty": "anesthesiology"}], **base
    )
    await publish(client, "spanish aetna", NYC, languages=["en", "es"], insurance_carriers=["Aetna"], payment_options=["insurance", "sliding_scale"], **base)
    await publish(client, "cheap full", NYC, price={"min": 300, "max": 400}, accepting_new_patients=False, **base)
    now = datetime.now(timezone.utc)
    for name, checked in (("verified", now - timedelta(days=10)), ("stale", now - timedelta(days=400))):
        listing = await publish(client, name, NYC, **base)
        key = uuid.UUID(listing["id"])
        await write_directly(database, update(Provider).where(Provider.id == key).values(verification_status="verified", last_verified_at=checked), key)

    around = {"lat": NYC[0], "lon": NYC[1]}
    assert names(await search(client, **around, service="Spravato")) == ["iv spravato"]
    assert names(await search(client, **around, route="intranasal")) == ["iv spravato"]
    assert names(await search(client, **around, credential="CRNA")) == ["crna"]
    assert names(await search(client, **around, specialty="anesthesiology")) == ["crna"]
    assert names(await search(client, **around, language="ES")) == ["spanish aetna"]
    assert names(await search(client, **around, insurance="aetna")) == ["spanish aetna"]
    assert names(await search(client, **around, payment="sliding_scale")) == ["spanish aetna"]
    assert names(await search(client, **around, max_price=350)) == ["cheap full"]
    assert names(await search(client, **around, accepting_new_patients="false")) == ["cheap full"]
    # Verified means checked within the window (365 days here): a stale check does not count.
    assert names(await search(client, **around, verified="true")) == ["verified"]
    assert len(names(await search(client, **around, verified="false"))) == 6
    flags = {hit["provider"]["name"]: hit["provider"]["verification"] for hit in (await search(client, **around))["items"]}
    assert flags["stale"]["stale"] is True and flags["stale"]["verified"] is True
    assert flags["verified"]["stale"] is False and flags["plain"]["stale"] is False
    assert names(await search(client, **around, credential="CRNA", language="es")) == []


async def test_open_now_uses_each_locations_own_time_zone(client):
    weekdays = [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]
    await publish(client, "office hours", NYC, hours=weekdays)
    await publish(client, "no hours", NYC)
    monday_morning = "2026-11-23T10:00:00-05:00"
    page = await search(client, lat=NYC[0], lon=NYC[1], open_now="true", at=monday_morning)
    assert names(page) == ["office hours"] and page["items"][0]["location"]["open_now"] is True
    # 10:00 in New York is 07:00 in Los Angeles: the same moment, still open in New York.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], open_now="true", at="2026-11-23T07:00:00-08:00")) == ["office hours"]
    assert names(await search(client, lat=NYC[0], lon=NYC[1], open_now="true", at="2026-11-22T10:00:00-05:00")) == []
    everyone = await search(client, lat=NYC[0], lon=NYC[1], at="2026-11-22T10:00:00-05:00", open_now="false")
    assert {hit["location"]["open_now"] for hit in everyone["items"]} == {False, None}


async def test_telehealth_includes_remote_providers_licensed_for_the_searchers_state(client):
    await publish(client, "near telehealth", offset(NYC, 3), telehealth=True, telehealth_states=["NY"])
    await publish(client, "near in person", offset(NYC, 2))
    await publish(client, "Buffalo telehealth", (42.8864, -78.8784), telehealth=True, telehealth_states=["NY"])
    await publish(client, "Boston telehealth for MA", (42.3601, -71.0589), telehealth=True, telehealth_states=["MA"])
    page = await search(client, lat=NYC[0], lon=NYC[1], radius=25, telehealth="true", total="true")
    assert names(page) == ["near telehealth", "Buffalo telehealth"]
    remote = page["items"][1]
    assert remote["remote"] is True and remote["distance"] is None and remote["location"] is None
    assert page["total"] == 2
    assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=25)) == ["near in person", "near telehealth"]


async def test_free_text_matches_names_descriptions_and_taxonomy_synonyms(client):
    await publish(client, "Spravato Center", NYC, conditions=["ptsd"])
    await publish(client, "Quiet Clinic", NYC, services=[{"code": "esketamine-spravato"}])
    await publish(client, "Other", NYC, description="We also offer spravato sessions.")
    await publish(client, "Unrelated", NYC)
    page = await search(client, q="spravato")
    assert names(page) == ["Spravato Center", "Quiet Clinic", "Other"] and page["sort"] == "relevance"
    assert names(await search(client, q="quiet spravato")) == ["Quiet Clinic"]
    assert names(await search(client, q="100%_")) == []


async def test_sorting_by_name_and_by_last_change(client, database):
    from datetime import datetime, timedelta, timezone

    changed = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for hours, name in enumerate(("Cedar", "aspen", "Birch")):
        made = await publish(client, name, NYC)
        # Last changed an hour apart, whatever the clock's resolution: the order does not hang on timing.
        moment = changed + timedelta(hours=hours)
        await write_directly(database, update(Provider).where(Provider.id == uuid.UUID(made["id"])).values(updated_at=moment), uuid.UUID(made["id"]))
    assert names(await search(client)) == ["aspen", "Birch", "Cedar"]
    assert names(await search(client, lat=NYC[0], lon=NYC[1], sort="name")) == ["aspen", "Birch", "Cedar"]
    assert names(await search(client, sort="updated")) == ["Birch", "aspen", "Cedar"]


async def _walk(client, cursor: str | None = None, **params: Any) -> list[dict[str, Any]]:
    hits = []
    for _ in range(100):
        page = await search(client, **params, **({"cursor": cursor} if cursor else {}))
        hits += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return hits
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize(
    "params",
    [
        {"lat": NYC[0], "lon": NYC[1], "radius": 30},
        {"lat": NYC[0], "lon": NYC[1], "radius": 30, "group": "location"},
        {"sort": "name"},
        {"sort": "updated"},
        {"q": "clinic"},
        {"lat": NYC[0], "lon": NYC[1], "radius": 30, "telehealth": "true"},
    ],
    ids=["distance", "location", "name", "updated", "relevance", "telehealth"],
)
async def test_walking_the_pages_returns_every_match_exactly_once(client, params):
    created = []
    for n in range(13):
        # Pairs at the same spot tie on distance; ties are broken by id.
        point = offset(NYC, 1 + n // 2, bearing=n * 30)
        created.append(await publish(client, f"Clinic {n:02d}", point, offset(point, 0.5), telehealth=n % 3 == 0, telehealth_states=["NY"] if n % 3 == 0 else []))
    everything = await search(client, **params, limit=100)
    walked = await _walk(client, **params, limit=4)
    key = (lambda h: (h["provider"]["id"], h["location"]["id"] if h["location"] else None))
    assert [key(h) for h in walked] == [key(h) for h in everything["items"]]
    assert len({key(h) for h in walked}) == len(walked)


async def test_pages_stay_exact_while_listings_are_added_and_edited(client):
    for n in range(10):
        await publish(client, f"Clinic {n}", offset(NYC, 1 + n))
    first = await search(client, lat=NYC[0], lon=NYC[1], radius=30, limit=4)
    # Between two pages: a new listing nearer than the cursor, one beyond it, and an edit.
    await publish(client, "new near", offset(NYC, 0.5))
    await publish(client, "new far", offset(NYC, 20))
    edited = first["items"][1]["provider"]["id"]
    await client.patch(f"/v1/providers/{edited}", json={"name": "Clinic 1 renamed"}, headers=ADMIN_ANY)
    rest = await _walk(client, lat=NYC[0], lon=NYC[1], radius=30, limit=4, cursor=first["next_cursor"])
    seen = names(first) + [hit["provider"]["name"] for hit in rest]
    assert [name for name in seen if name.startswith("Clinic")] == [f"Clinic {n}" for n in range(10)]
    assert "new far" in seen and seen.count("new far") == 1


async def test_totals_and_facets_count_every_match(client):
    await publish(client, "a", NYC, conditions=["ptsd", "ocd"], languages=["en", "es"], insurance_carriers=["Aetna"], telehealth=True)
    await publish(client, "b", offset(NYC, 3), conditions=["ptsd"], languages=["en"], accepting_new_patients=True,
                  clinicians=[{"first_name": "A", "last_name": "B", "credential": "MD"}, {"first_name": "C", "last_name": "D", "credential": "MD"}])  # fmt: skip
    await publish(client, "far", offset(NYC, 50), conditions=["ptsd"])
    page = await search(client, lat=NYC[0], lon=NYC[1], radius=10, limit=1, total="true", facets="true")
    assert page["total"] == 2 and len(page["items"]) == 1
    facets = page["facets"]
    assert facets["condition"] == [{"value": "ptsd", "count": 2}, {"value": "ocd", "count": 1}]
    assert facets["credential"] == [{"value": "MD", "count": 1}]
    assert facets["language"] == [{"value": "en", "count": 2}, {"value": "es", "count": 1}]
    assert facets["insurance"] == [{"value": "Aetna", "count": 1}]
    assert facets["telehealth"] == [{"value": "false", "count": 1}, {"value": "true", "count": 1}]
    assert facets["accepting_new_patients"] == [{"value": "true", "count": 1}]
    assert (await search(client))["total"] is None


async def test_geojson_for_maps(client):
    await publish(client, "mapped", NYC)
    for response in (
        await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "format": "geojson"}),
        await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1]}, headers={"Accept": "application/geo+json"}),
    ):
        assert response.headers["content-type"].startswith("application/geo+json")
        collection = response.json()
        assert collection["type"] == "FeatureCollection"
        (feature,) = collection["features"]
        assert feature["geometry"] == {"type": "Point", "coordinates": [NYC[1], NYC[0]]}
        assert feature["properties"]["provider"]["name"] == "mapped" and feature["properties"]["distance"] == 0
        assert "next_cursor" in collection["properties"]


async def test_etags_let_clients_revalidate(client):
    await publish(client, "cached", NYC)
    first = await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1]})
    assert first.headers["cache-control"].startswith("public") and first.headers["etag"]
    again = await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1]}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    await publish(client, "new", NYC)
    changed = await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1]}, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"lat": 91, "lon": 0}, 400, "lat"),
        ({"lat": 0, "lon": 181}, 400, "lon"),
        ({"lat": 40}, 400, "lon"),
        ({"lat": 40, "lon": -74, "radius": -1}, 400, "radius"),
        ({"lat": 40, "lon": -74, "radius": 0}, 400, "radius"),
        ({"lat": 40, "lon": -74, "radius": 501}, 400, "radius"),
        ({"lat": 40, "lon": -74, "radius": 801, "unit": "km"}, 400, "radius"),
        ({"lat": 40, "lon": -74, "unit": "furlong"}, 400, "unit"),
        ({"lat": 40, "lon": -74, "near": "10001"}, 400, "near"),
        ({"near": "10001", "bbox": "-74,40,-73,41"}, 400, "bbox"),
        ({"bbox": "-74,41,-73,40"}, 400, "bbox"),
        ({"bbox": "-74,40,-73"}, 400, "bbox"),
        ({"bbox": "a,b,c,d"}, 400, "bbox"),
        ({"bbox": "-170,-80,170,80"}, 400, "bbox"),
        ({"bbox": "-74,40,-73,41", "radius": 5}, 400, "radius"),
        ({"radius": 5}, 400, "radius"),
        ({"near": "nowhere at all zz"}, 422, "near"),
        ({"near": "91|0|5"}, 400, "near"),
        ({"condition": "lycanthropy"}, 422, "condition"),
        ({"service": "teleportation"}, 422, "service"),
        ({"route": "smoked"}, 400, "route"),
        ({"credential": "Wizard"}, 400, "credential"),
        ({"language": "english"}, 400, "language"),
        ({"limit": 0}, 400, "limit"),
        ({"limit": 101}, 400, "limit"),
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"sort": "distance"}, 400, "sort"),
        ({"sort": "relevance"}, 400, "sort"),
        ({"group": "location"}, 400, "group"),
        ({"at": "2026-11-23T10:00:00"}, 400, "at"),
        ({"max_price": -5}, 400, "max_price"),
        ({"telehealth": "maybe"}, 400, "telehealth"),
    ],
)
async def test_bad_search_input_is_a_problem_naming_the_parameter(client, params, status, field):
    assert_problem(await client.get("/v1/search", params=params), status, field)


async def test_cursors_cannot_be_tampered_with_or_reused_elsewhere(client):
    for n in range(3):
        await publish(client, f"c{n}", offset(NYC, n + 1))
    cursor = (await search(client, lat=NYC[0], lon=NYC[1], limit=1))["next_cursor"]
    flipped = cursor[:-3] + ("x" if cursor[-3] != "x" else "y") + cursor[-2:]
    assert_problem(await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "limit": 1, "cursor": flipped}), 400, "cursor")
    other = {"lat": NYC[0], "lon": NYC[1], "radius": 5, "limit": 1, "cursor": cursor}
    assert_problem(await client.get("/v1/search", params=other), 400, "cursor")
    same = await search(client, lat=NYC[0], lon=NYC[1], limit=2, cursor=cursor)
    assert names(same) == ["c1", "c2"]


@pytest.mark.parametrize("sort", ["name", "updated"])
async def test_in_name_and_updated_order_a_walk_is_exact_for_the_listings_that_do_not_change(client, sort):
    """What the README promises of these orders, and no more: every listing left alone during the
    walk comes exactly once and in order; one renamed (by name) or updated (by update time) moves to
    its new place, so it comes at most twice, or not at all."""
    for n in range(9):
        await publish(client, f"Clinic {n}", offset(NYC, 1 + n))
    first = await search(client, sort=sort, limit=3)
    seen_first = names(first)
    # Between pages: one listing already seen and one not yet seen change their place in the order.
    everything = names(await search(client, sort=sort, limit=100))
    moved = {everything[1], everything[6]}
    for name in moved:
        hit = next(h for h in (await search(client, sort=sort, limit=100))["items"] if h["provider"]["name"] == name)
        new_name = ("A " if sort == "name" and name == everything[6] else "Z ") + name if sort == "name" else name
        await client.patch(f"/v1/providers/{hit['provider']['id']}", json={"name": new_name, "description": "changed"}, headers=ADMIN_ANY)
    rest = await _walk(client, sort=sort, limit=3, cursor=first["next_cursor"])
    walked = seen_first + [hit["provider"]["name"] for hit in rest]
    unchanged = [name for name in everything if name not in moved]
    assert [name for name in walked if name in unchanged] == unchanged
    for name in moved:
        assert sum(1 for seen in walked if seen.endswith(name)) <= 2


async def test_unknown_parameters_are_named_and_an_empty_q_is_refused(client):
    await publish(client, "named", NYC)
    page = await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "wheelchair": "yes", "rems": "true"})
    assert page.status_code == 200 and page.json()["ignored_parameters"] == ["rems", "wheelchair"]
    assert page.headers["x-ignored-parameters"] == "rems, wheelchair"
    geojson = await client.get("/v1/search.geojson", params={"lat": NYC[0], "lon": NYC[1], "colour": "red"})
    assert geojson.json()["properties"]["ignored_parameters"] == ["colour"]
    clean = await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "condition": "ptsd"})
    assert clean.json()["ignored_parameters"] == [] and "x-ignored-parameters" not in clean.headers
    for nothing in ("%", "\\", "\ufffd\ufffd", "  --  "):
        assert_problem(await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "q": nothing}), 400, "q")
    assert (await client.get("/v1/search", params={"lat": NYC[0], "lon": NYC[1], "q": ""})).status_code == 200


def test_distances_agree_with_geographiclib_everywhere():
    """The distance search ranks by is the geodesic on WGS84: within 0.1 mm of geographiclib's
    (Karney's algorithm, geopy's reference) near, far, across the antimeridian and antipodal."""
    import random

    from geographiclib.geodesic import Geodesic

    from directory.search.geodesy import geodesic_m

    rng = random.Random(5)
    pairs = [(40.7, -74.0, 40.7, -74.0), (0.0, 0.0, 0.5, 179.7), (10.0, 179.9, -10.0, -179.9), (89.9, 0.0, -89.9, 180.0)]
    pairs += [(rng.uniform(-90, 90), rng.uniform(-180, 180), rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(500)]
    pairs += [(lat, lon, lat + rng.uniform(-0.5, 0.5), lon + rng.uniform(-0.5, 0.5)) for lat, lon, *_ in pairs[4:104]]
    worst = max(abs(geodesic_m(*pair) - Geodesic.WGS84.Inverse(*pair, Geodesic.DISTANCE)["s12"]) for pair in pairs)
    assert worst < 1e-4, worst


async def test_searches_of_one_shape_reuse_its_statements_yet_each_keeps_its_own_values(client):
    """The walk's statements are kept by shape (the conditions' SQL and values): the same search
    again reuses them, and a search differing in a value only (another condition, another state's
    telehealth-only listings) gets its own answer, not the earlier one's."""
    from directory.lean import Lean
    from directory.search import matching

    backend = client.app.state.search.backend
    if backend.name == "postgis":
        backend._walks._kept.clear()
    await publish(client, "Trauma care", offset(NYC, 2), conditions=["ptsd"])
    await publish(client, "Mood care", offset(NYC, 3), conditions=["major-depression"])
    await publish(client, "Remote NY", conditions=["ptsd"], telehealth=True, telehealth_states=["NY"])
    await publish(client, "Remote CA", conditions=["ptsd"], telehealth=True, telehealth_states=["CA"])
    matching._WALKS._kept.clear()
    trauma = await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="ptsd")
    kept = dict(matching._WALKS._kept)
    assert names(trauma) == ["Trauma care", "Remote NY"] and len(kept) == 1
    again = await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="ptsd")
    assert names(again) == names(trauma) and matching._WALKS._kept == kept  # the same objects, reused
    assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="major-depression")) == ["Mood care"]
    # Los Angeles: another state, so other remote rows (a value of the same shape).
    la = (34.0522, -118.2437)
    assert names(await search(client, lat=la[0], lon=la[1], radius=10, condition="ptsd")) == ["Remote CA"]
    assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="ptsd")) == ["Trauma care", "Remote NY"]
    assert len(matching._WALKS._kept) == 3
    backend = client.app.state.search.backend
    if backend.name == "postgis":
        # Kept compiled for the driver, one per shape; the two conditions share one text.
        leans = list(backend._walks._kept.values())
        assert len(leans) == 3 and all(isinstance(each, Lean) for each in leans)
        assert len({each.sql for each in leans}) == 1 and len({each.arguments for each in leans}) == 3


def test_a_shape_names_the_conditions_sql_and_values_and_gives_up_on_what_cannot_be_keyed():
    from sqlalchemy import bindparam, literal_column

    from directory.lean import Shapes
    from directory.listings.readmodel import search_location
    from directory.search.shapes import where_shape

    S = search_location.c
    assert where_shape([S.accepting == True]) == where_shape([S.accepting == True])  # noqa: E712
    assert where_shape([S.accepting == True]) != where_shape([S.accepting == False])  # noqa: E712
    assert where_shape([S.location_id <= 100]) != where_shape([S.location_id >= 100])
    assert where_shape([S.location_id.in_([1, 2])]) != where_shape([S.location_id.in_([1, 3])])
    assert where_shape([S.accepting == bindparam("x", {"a": 1})]) is None  # a dict cannot be hashed
    assert where_shape([literal_column("1") == 1]) is not None
    kept = Shapes(size=2)
    for n in range(3):
        kept.put(("shape", n), n)
    assert kept.get(("shape", 0)) is None and kept.get(("shape", 2)) == 2 and kept.get(None) is None


async def test_a_walk_run_on_the_driver_reads_what_sqlalchemy_reads(client, backend, database):
    """PostgreSQL runs a kept walk on asyncpg itself: the same rows, values and value types as
    SQLAlchemy's execution of the same statement; another statement of the same structure (other
    values, a longer IN list) shares the compilation yet reads its own rows."""
    if backend != "postgres":
        pytest.skip("the walk runs on the driver on PostgreSQL only")
    from sqlalchemy import select

    from directory.lean import compile_lean
    from directory.listings.readmodel import search_location
    from directory.search import backends, matching

    S = search_location.c
    first = await publish(client, "Trauma care", offset(NYC, 1), offset(NYC, 2), conditions=["ptsd"])
    await publish(client, "Mood care", offset(NYC, 3), conditions=["major-depression"])
    await publish(client, "Both care", offset(NYC, 4), conditions=["ptsd", "major-depression"])

    def walk(provider_ids: list[uuid.UUID], since: datetime) -> Any:
        base = select(*matching._ROW).where(S.provider_id.in_(provider_ids), S.updated_at > since)
        return base.add_columns(backends._WALK_DISTANCE).where(backends._WALK_BOX).order_by(backends._WALK_DISTANCE).limit(backends._WALK_FETCH)

    everyone = [uuid.UUID(page["provider"]["id"]) for page in (await search(client, lat=NYC[0], lon=NYC[1], radius=20))["items"]]
    assert len(everyone) == 3
    values = {"walk_lat": NYC[0], "walk_lon": NYC[1], "walk_reach": 0.5, "walk_fetch": 10}
    async with database.read_engine.connect() as connection:
        for ids, count in (([uuid.UUID(first["id"])], 2), (everyone, 4)):
            statement = walk(ids, datetime(2000, 1, 1, tzinfo=timezone.utc))
            expected = (await connection.execute(statement, values)).all()
            lean = compile_lean(statement, connection.dialect, backends._WALK_VALUES)
            assert lean is not None
            rows = await lean.fetch(connection, values)
            assert [tuple(row) for row in rows] == [tuple(row) for row in expected] and len(rows) == count
            assert [[type(value) for value in row] for row in rows] == [[type(value) for value in row] for row in expected]
            assert [(row.provider_id, row.verified_at, row.summary) for row in rows] == [(row.provider_id, row.verified_at, row.summary) for row in expected]
        # The later bound: no row changed after it, none read.
        assert await compile_lean(walk(everyone, datetime.now(timezone.utc) + timedelta(days=1)), connection.dialect, backends._WALK_VALUES).fetch(connection, values) == []


async def test_a_walk_on_the_driver_that_finds_its_connection_dead_is_a_503_and_the_next_searches_answer(client, backend, settings):
    """The database dropped every connection of a served app's pool (a restart): the search whose
    kept walk meets a dead one is a 503 to retry (not a 500), and every connection the pool had is
    replaced, so the searches after it answer at once."""
    if backend != "postgres":
        pytest.skip("the walk runs on the driver on PostgreSQL only")
    import asyncio

    import asyncpg
    import httpx
    from conftest import LiveServer
    from sqlalchemy.engine import make_url

    await publish(client, "Trauma care", offset(NYC, 2), conditions=["ptsd"])
    near = {"lat": NYC[0], "lon": NYC[1], "radius": 10, "condition": "ptsd"}
    url = make_url(settings.database_url)
    with LiveServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as served:
            # Searches at once: the pool opens several connections, each with the walk prepared.
            for _ in range(3):
                assert all(r.status_code == 200 for r in await asyncio.gather(*(served.get("/v1/search", params=near) for _ in range(6))))
            killer = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database)
            try:
                killed = await killer.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'directory'"
                )
            finally:
                await killer.close()
            assert killed >= 3
            failed = await served.get("/v1/search", params=near)
            assert failed.status_code == 503 and failed.headers["retry-after"], failed.text
            for _ in range(6):
                page = await served.get("/v1/search", params=near)
                assert page.status_code == 200 and names(page.json()) == ["Trauma care"], page.text


async def test_where_the_driver_path_cannot_be_built_sqlalchemy_runs_the_kept_walk(client, monkeypatch):
    """Should SQLAlchemy's compiled form not be readable (its internals moved), the kept walk runs
    through SQLAlchemy as before: the same answers."""
    from directory import lean

    def unreadable(*args: Any) -> None:
        raise AttributeError("'SQLCompiler' object has no attribute '_bind_processors'")

    monkeypatch.setattr(lean, "_compile", unreadable)
    monkeypatch.setattr(lean, "_warned", False)
    await publish(client, "Trauma care", offset(NYC, 2), conditions=["ptsd"])
    await publish(client, "Mood care", offset(NYC, 3), conditions=["major-depression"])
    for _ in range(2):
        assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="ptsd")) == ["Trauma care"]
        assert names(await search(client, lat=NYC[0], lon=NYC[1], radius=10, condition="major-depression")) == ["Mood care"]
    backend = client.app.state.search.backend
    if backend.name == "postgis":
        kept = list(backend._walks._kept.values())
        assert kept and not any(isinstance(each, lean.Lean) for each in kept) and lean._warned


def test_facet_counts_from_the_counts_per_mask_match_a_count_per_value():
    """A value's count from the masks' counts (one-bit values by bit, groups by the bits they cover)
    equals the plain definition: the listings with a mask that meets the value, plus those a ticked
    value lets through now, less those counted twice."""
    import random

    from directory.search.facets import _mask_counts

    rng = random.Random(5)
    groups = {f"v{bit}": 1 << bit for bit in range(12)} | {"broad": 0b1110, "other": (1 << 3) | (1 << 9), "far": 1 << 20}
    for _ in range(50):
        counted = [(rng.randrange(1, 1 << 12), rng.randrange(1, 40), 0) for _ in range(rng.randrange(0, 300))]
        counted = [(mask, count, rng.randrange(0, count + 1)) for mask, count, _ in counted]
        now = sum(own for _, _, own in counted)
        want = {}
        for value, group in groups.items():
            having = sum(count for mask, count, _ in counted if mask & group)
            both = sum(own for mask, _, own in counted if mask & group)
            if having:
                want[value] = having + now - both
        assert {f.value: f.count for f in _mask_counts(counted, groups)} == want
