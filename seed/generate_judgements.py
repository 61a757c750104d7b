"""Write the expected listings of each case in seed/judgements/cases.json from its ``intent``.

Run from the project root with ``python seed/generate_judgements.py`` after changing the cases or
the listings. The expectations are found by brute force over the listings as written in the seed
files, never by asking the search: what the listing says (conditions and services, with every
narrower entry of a broad one, from seed/taxonomy.json; clinicians; telehealth states; each
location's accessibility and REMS), and geodesic distances from each location as the directory
placed it (the one thing read back: a sample listing's address is geocoded when it is loaded) to
the place as the directory's geocoder reads it.

A careful person expects, with a place: every match within 25 miles, nearest first (ten at most);
then the clinics that serve the place's state by telehealth, by name (those with no location at
all, and, when telehealth is asked for, every telehealth clinic licensed there that is not near);
then, when fewer than ten were near, the three nearest beyond (within 1,500 km, about 930 mi:
farther is no longer a clinic a patient could go to). Without a place: the matches by name.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import unicodedata
from pathlib import Path
from typing import Any

import httpx
from geopy.distance import geodesic

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))

from directory.bench.relevance import CASES, SYNTHETIC, TOP, served  # noqa: E402

RADIUS_MI = 25.0
BEYOND = 3
#: Beyond the radius, a clinic this far (1,500 km) is no longer one a patient could go to.
BEYOND_MI = 1_500_000 / 1609.344


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def below(kind: str) -> dict[str, set[str]]:
    entries = json.loads((ROOT / "taxonomy.json").read_text())[kind]
    children: dict[str, list[str]] = {}
    for entry in entries:
        if entry.get("parent"):
            children.setdefault(entry["parent"], []).append(entry["code"])
    found = {}
    for entry in entries:
        seen, todo = set(), [entry["code"]]
        while todo:
            code = todo.pop()
            seen.add(code)
            todo += children.get(code, [])
        found[entry["code"]] = seen
    return found


CONDITIONS, SERVICES = below("conditions"), below("services")


def matches(listing: dict[str, Any], intent: dict[str, Any]) -> bool:
    if intent.get("conditions") and not set(listing.get("conditions", [])) & set().union(*(CONDITIONS[c] for c in intent["conditions"])):
        return False
    offered = {s["code"] for s in listing.get("services", [])}
    if intent.get("services") and not offered & set().union(*(SERVICES[s] for s in intent["services"])):
        return False
    if intent.get("telehealth") and not listing.get("telehealth"):
        return False
    if intent.get("name") and not all(word in fold(listing["name"]) for word in fold(intent["name"]).split()):
        return False
    clinicians = listing.get("clinicians", [])
    if intent.get("clinician") and not any(fold(intent["clinician"]) in fold(f"{c['first_name']} {c['last_name']}") for c in clinicians):
        return False
    if intent.get("clinician_pair"):
        credential, specialty = intent["clinician_pair"]
        if not any(c["credential"] == credential and c.get("specialty") == specialty for c in clinicians):
            return False
    places = listing.get("locations", [])
    if intent.get("accessibility") and not any(set(intent["accessibility"]) <= set(p.get("accessibility_features", [])) for p in places):
        return False
    if intent.get("accessibility_text") and not any(intent["accessibility_text"] in (p.get("accessibility") or "").lower() for p in places):
        return False
    if intent.get("rems") and not any(p.get("rems_certified_on") for p in places):
        return False
    return True


def placed(database: Path) -> dict[str, tuple[str, list[tuple[float, float]]]]:
    """Each listing's slug and its locations' coordinates as the directory holds them, by name."""
    found = {}
    with sqlite3.connect(database) as connection:
        for (document,) in connection.execute("SELECT document FROM listing_document"):
            listing = json.loads(document)
            found[listing["name"]] = (listing["slug"], [(p["latitude"], p["longitude"]) for p in listing["locations"]])
    return found


def expect(case: dict[str, Any], listings: list[dict[str, Any]], where: dict[str, Any], place: dict[str, Any] | None) -> list[str]:
    chosen = [listing for listing in listings if matches(listing, case["intent"])]
    if place is None:
        return sorted(where[listing["name"]][0] for listing in chosen)[:TOP]
    point = (place["latitude"], place["longitude"])
    near, far, remote = [], [], []
    for listing in chosen:
        slug, points = where[listing["name"]]
        miles = min((geodesic(point, p).miles for p in points), default=None)
        if miles is not None and miles <= RADIUS_MI:
            near.append((miles, slug))
        elif (case["intent"].get("telehealth") or not points) and place.get("state") in listing.get("telehealth_states", []):
            remote.append(slug)
        elif miles is not None and miles <= BEYOND_MI:
            far.append((miles, slug))
    found = [slug for _, slug in sorted(near)][:TOP] + sorted(remote)
    if len(near) < TOP:
        found += [slug for _, slug in sorted(far)][:BEYOND]
    return found[:TOP]


def main() -> int:
    document = json.loads(CASES.read_text())
    sources = {"sample": json.loads((ROOT / "sample_providers.json").read_text()), "synthetic": json.loads(SYNTHETIC.read_text())}
    for directory, listings in sources.items():
        with served(directory) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            where = placed(server.database)
            for case in document["cases"]:
                if case["directory"] != directory:
                    continue
                place = None
                if case.get("place"):
                    response = client.get("/v1/search", params={"near": case["place"], "limit": 1})
                    response.raise_for_status()
                    place = response.json()["place"]
                case["expect"] = expect(case, listings, where, place)
                print(f"{case['id']}: {case['expect']}")
    CASES.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
