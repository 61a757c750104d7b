"""Both backends return the same hits in the same order: checked against a brute-force reference on
generated data (ties included), and against each other when the suite runs on both."""

from __future__ import annotations

import random
from typing import Any

from conftest import ADMIN
from geopy.distance import geodesic

MILE = 1609.344
CENTRES = [(40.7484, -73.9857), (61.2181, -149.9003), (21.3069, -157.8583)]
CONDITIONS = ["ptsd", "ocd", "migraine", "fibromyalgia"]


def generate(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    listings = []
    spots = []
    for n in range(90):
        centre = rng.choice(CENTRES)
        points = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            if spots and rng.random() < 0.15:
                point = rng.choice(spots)  # the same spot as another location: a tie
            else:
                point = geodesic(meters=rng.uniform(0, 60) * MILE).destination(centre, rng.uniform(0, 360))
                point = (round(point.latitude, 6), round(point.longitude, 6))
                spots.append(point)
            points.append(point)
        listings.append(
            {
                "name": f"Generated {n:03d}",
                "status": "published",
                "conditions": rng.sample(CONDITIONS, rng.randint(1, 2)),
                "locations": [{"latitude": lat, "longitude": lon} for lat, lon in points],
            }
        )
    return listings


def queries(seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found = []
    for _ in range(14):
        centre = rng.choice(CENTRES)
        start = geodesic(meters=rng.uniform(0, 20) * MILE).destination(centre, rng.uniform(0, 360))
        params: dict[str, Any] = {
            "lat": round(start.latitude, 5),
            "lon": round(start.longitude, 5),
            "radius": rng.choice([1, 5, 12.5, 30, 60]),
            "limit": rng.randint(2, 9),
            "group": rng.choice(["provider", "location"]),
        }
        if rng.random() < 0.5:
            params["condition"] = rng.choice(CONDITIONS)
        found.append(params)
    return found


def reference(listings: list[dict[str, Any]], stored: list[dict[str, Any]], params: dict[str, Any]) -> list[tuple]:
    """The answer computed by brute force over every location, on the WGS84 ellipsoid."""
    point, radius = (params["lat"], params["lon"]), params["radius"] * MILE
    rows = []
    for source, listing in zip(listings, stored, strict=True):
        if "condition" in params and params["condition"] not in source["conditions"]:
            continue
        inside = [
            (geodesic(point, (loc["latitude"], loc["longitude"])).meters, loc["id"])
            for loc in listing["locations"]
        ]
        inside = [(d, lid) for d, lid in inside if d <= radius + 0.001]
        if params["group"] == "location":
            rows += [(d, lid, listing["id"]) for d, lid in inside]
        elif inside:
            d, lid = min(inside)
            rows.append((d, listing["id"], lid))
    if params["group"] == "location":
        return [(pid, lid, round(d / MILE, 4)) for d, lid, pid in sorted(rows)]
    return [(pid, lid, round(d / MILE, 4)) for d, pid, lid in sorted(rows)]


async def walk(client, params: dict[str, Any]) -> list[tuple]:
    hits, cursor = [], None
    while True:
        response = await client.get("/v1/search", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        hits += [(h["provider"]["id"], h["location"]["id"], h["distance"]) for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return hits


async def answer_generated(client) -> list[Any]:
    """Store the generated listings, check every query against the reference, and return the
    answers in a form both databases must share: per query, the distances in order, each with the
    names at that distance (ids are random, so they differ between databases, and so does the order
    among ties, broken by id, which the reference check verifies on each database)."""
    listings = generate()
    stored = []
    for body in listings:
        response = await client.post("/v1/providers", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        stored.append(response.json())
    names = {listing["id"]: listing["name"] for listing in stored}
    answers = []
    for params in queries():
        expected = reference(listings, stored, params)
        got = await walk(client, params)
        assert [(p, loc) for p, loc, _ in got] == [(p, loc) for p, loc, _ in expected], params
        for (_, _, d_got), (_, _, d_ref) in zip(got, expected, strict=True):
            assert abs(d_got - d_ref) <= max(1e-4, d_ref * 0.001)
        by_distance: dict[float, list[str]] = {}
        for p, _, d in got:
            by_distance.setdefault(d, []).append(names[p])
        answers.append([(d, sorted(group)) for d, group in by_distance.items()])
    return answers


async def test_each_backend_agrees_with_the_reference_on_generated_data(client):
    await answer_generated(client)


async def test_sqlite_and_postgresql_give_the_same_answers(tmp_path):
    """Both databases in one test, each prepared here: nothing depends on which test ran before."""
    from conftest import empty_listings, make_settings, postgres_url, prepared
    from litestar.testing import AsyncTestClient

    from directory.app import create_app

    answers = []
    for url in (f"sqlite+aiosqlite:///{tmp_path / 'equivalence.db'}", postgres_url()):
        await prepared(url)
        await empty_listings(url)
        async with AsyncTestClient(app=create_app(make_settings(url))) as client:
            answers.append(await answer_generated(client))
    assert answers[0] == answers[1]
