"""Possible duplicates: found as listings are made and over the whole directory, shown to moderators,
dismissed or merged; a merge leads every old address to the listing that stays."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from conftest import ADMIN
from factories import account, assert_problem, create, listing
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_sync import sync_key

from directory.listings.duplicate_scan import scan
from directory.listings.duplicates import DuplicateCandidate, similar_names, site_domain


def npi_with_check_digit(first_nine: str) -> str:
    """A valid NPI: Luhn over the prefix 80840 and the nine digits."""
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return first_nine + str((10 - total % 10) % 10)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.aurora-ketamine.com/denver", "aurora-ketamine.com"),
        ("http://aurora-ketamine.com", "aurora-ketamine.com"),
        ("https://book.aurora-ketamine.com/", "aurora-ketamine.com"),
        ("https://www.calmclinic.co.uk/x", "calmclinic.co.uk"),
        ("https://aurora.wixsite.com/ketamine", "aurora.wixsite.com"),
        ("https://www.facebook.com/auroraketamine", None),
        (None, None),
    ],
)
def test_a_website_is_compared_by_its_registered_domain(url, domain):
    assert site_domain(url) == domain


@pytest.mark.parametrize(
    ("first", "second", "similar"),
    [
        ("Aurora Ketamine Center", "Aurora Ketamine Clinic, PLLC", True),
        ("Aurora Ketamine", "AURORA KETAMINE CENTER LLC", True),
        ("Blue Ridge Infusions", "Blue Ridge Ketamine & Wellness", True),
        ("Aurora Ketamine", "Aurorra Ketamine", True),  # a typo
        ("Ketamine Center", "Ketamine Center", True),
        ("Aurora Ketamine", "Harbor Ketamine", False),
        ("Ketamine Center", "Infusion Clinic", False),
        ("Smith Family Dentistry", "Aurora Ketamine", False),
        ("Aurora Ketamine 12", "Aurora Ketamine 13", False),  # numbered branches, not a typo
    ],
)
def test_names_are_similar_when_their_distinctive_words_agree(first, second, similar):
    assert similar_names(first, second) is similar


async def test_a_second_listing_of_the_same_clinic_is_flagged_not_refused(client):
    first = await create(client, name="Hudson Valley Ketamine")
    assert first["possible_duplicates"] == []
    # The same clinic again, as the sample import would add it: same NPI, phone, site and address.
    second = await create(client, name="Hudson Valley Ketamine Clinic")
    (found,) = second["possible_duplicates"]
    assert found["id"] == first["id"] and set(found["reasons"]) == {"npi", "phone", "website", "nearby"} and found["score"] > 0.9
    queue = (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json()
    assert len(queue) == 1 and {queue[0]["first"]["id"], queue[0]["second"]["id"]} == {first["id"], second["id"]}
    assert {r["reason"] for r in queue[0]["reasons"]} == {"npi", "phone", "website", "nearby"}
    # Only moderators see the queue.
    assert_problem(await client.get("/v1/moderation/duplicates", headers=await account(client)), 403)
    assert_problem(await client.get("/v1/moderation/duplicates"), 401)
    # A change that breaks every link takes the pair out of the queue.
    other = {"name": "Catskill Infusions", "npi": None, "phone": "(518) 555-0199", "website": "https://catskill.example"}
    changed = await client.patch(f"/v1/providers/{second['id']}", json=other, headers={**ADMIN, "If-Match": "*"})
    assert changed.status_code == 200, changed.text
    moved = await client.patch(
        f"/v1/providers/{second['id']}/locations/{changed.json()['locations'][0]['id']}",
        json={"latitude": 42.1, "longitude": -74.2},
        headers={**ADMIN, "If-Match": "*"},
    )
    assert moved.status_code == 200, moved.text
    assert (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json() == []


async def test_the_sample_import_made_twice_flags_every_second_listing(client):
    """The README's sample import, once by an administrator and once by a partner's key, makes each
    clinic twice: every second one is flagged in the import's report and queued for the moderators."""
    csv = (Path(__file__).parent.parent / "seed" / "import-template.csv").read_bytes()
    first = await client.post("/v1/imports", content=csv, headers={**ADMIN, "Content-Type": "text/csv"})
    assert first.status_code == 200, first.text
    key = await sync_key(client)
    second = await client.post("/v1/imports", content=csv, headers={**key, "Content-Type": "text/csv"})
    assert second.status_code == 200, second.text
    firsts = {row["external_id"]: row["id"] for row in first.json()["rows"]}
    published_twins = {}
    for row in second.json()["rows"]:
        if row["possible_duplicates"]:
            published_twins[row["external_id"]] = {d["id"] for d in row["possible_duplicates"]}
    queue = (await client.get("/v1/moderation/duplicates", params={"limit": 200}, headers=ADMIN)).json()
    pairs = {frozenset((p["first"]["id"], p["second"]["id"])) for p in queue}
    for row in second.json()["rows"]:
        assert frozenset((firsts[row["external_id"]], row["id"])) in pairs, row["external_id"]
    # In the report, each listing names its published twin (the partner's rows wait for review: not named).
    assert all(firsts[external_id] in twins for external_id, twins in published_twins.items()) and published_twins


async def _directory_with_planted_duplicates(client, rng: random.Random) -> tuple[list[dict], set[frozenset[str]]]:
    """180 distinct clinics in six cities and 20 second listings of some of them, each sharing one
    thing only: an NPI, a phone number, a website domain, or a place (within 30 m) under a like name."""
    first_words = "Aurora Harbor Cedar Summit Willow Beacon Juniper Meridian Sierra Lakeshore Prairie Redwood Granite Coastal Maple Orchard Riverside Highland".split()
    second_words = "Ketamine Infusion Wellness Mind Clinic Health".split()
    suffixes = ["Center", "Clinic", "Institute", "Partners", "Associates", "Group", "Care", "Therapy", "Practice", "Studio"]
    cities = [(40.75, -73.99, "NY"), (39.74, -104.99, "CO"), (30.27, -97.74, "TX"), (41.88, -87.63, "IL"), (34.05, -118.24, "CA"), (47.61, -122.33, "WA")]
    names = rng.sample([f"{a} {b} {c}" for a in first_words for b in second_words for c in suffixes], 180)
    originals = []
    for i, name in enumerate(names):
        lat, lon, state = cities[i % len(cities)]
        body = listing(
            name=name + f" {i}",  # a number makes each name distinctive: no two originals are alike
            npi=npi_with_check_digit(f"{100000000 + i * 7919}"),
            phone=f"(555) {200 + i // 100:03d}-{1000 + i:04d}",
            website=f"https://clinic-{i}.example",
            clinicians=[],
            locations=[{"latitude": lat + rng.uniform(-0.3, 0.3), "longitude": lon + rng.uniform(-0.3, 0.3), "state": state, "city": "Town"}],
        )
        originals.append(body)
    planted = []
    for j, kind in enumerate(["npi", "phone", "website", "nearby"] * 5):
        source = originals[j * 9]
        twin = listing(
            name=f"Second Opinion Infusions {j}",
            npi=None,
            phone=f"(555) 900-{2000 + j:04d}",
            website=f"https://second-{j}.example",
            clinicians=[],
            locations=[{"latitude": 45.0 + j * 0.1, "longitude": -93.0, "state": "MN", "city": "Elsewhere"}],
        )
        if kind == "npi":
            twin["npi"] = source["npi"]
        elif kind == "phone":
            twin["phone"] = source["phone"].replace("(", "").replace(") ", "-")  # another way to write it
        elif kind == "website":
            twin["website"] = source["website"].replace("https://", "http://www.") + "/locations"
        else:
            place = source["locations"][0]
            twin["name"] = source["name"].replace("Center", "Clinic") + ", PLLC"
            twin["locations"] = [{**place, "latitude": place["latitude"] + 0.0002}]  # 22 m north
        planted.append((source, twin))
    made: dict[str, str] = {}
    for body in originals + [twin for _, twin in planted]:
        response = await client.post("/v1/providers", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        made[body["name"]] = response.json()["id"]
    pairs = {frozenset((made[source["name"]], made[twin["name"]])) for source, twin in planted}
    return list(made.values()), pairs


async def test_every_planted_duplicate_is_found_as_listings_are_made_and_by_the_whole_check(client, database):
    _, planted = await _directory_with_planted_duplicates(client, random.Random(7))
    found = {frozenset((d["first"]["id"], d["second"]["id"])) for d in (await client.get("/v1/moderation/duplicates", params={"limit": 200}, headers=ADMIN)).json()}
    assert planted <= found, f"missed {len(planted - found)} of {len(planted)}"
    assert len(found - planted) <= 5, f"{len(found - planted)} false candidates"
    # The whole check finds the same pairs, from nothing.
    async with database.write_engine.begin() as connection:
        await connection.execute(DuplicateCandidate.__table__.delete())
    async with database.write_engine.connect() as connection:
        report = await connection.run_sync(lambda sync: scan(Session(bind=sync)))
    async with database.reader() as session:
        stored = {frozenset((c.first_id, c.second_id)) for c in (await session.execute(select(DuplicateCandidate))).scalars()}
    assert {frozenset(str(i) for i in pair) for pair in stored} == found
    assert report.listings == 200 and report.pairs == len(found) and report.new == len(found)
    assert all(report.by_reason.get(reason, 0) >= 5 for reason in ("npi", "phone", "website", "nearby")), report.by_reason


async def test_a_merge_leads_every_old_address_to_the_listing_that_stays(client, database):
    keep = await create(client, name="Aurora Ketamine Center")
    gone = await create(client, name="Aurora Ketamine")
    owner = await account(client)
    claim = await client.post(f"/v1/providers/{gone['id']}/claims", json={}, headers=owner)
    await client.post(f"/v1/moderation/claims/{claim.json()['id']}/decision", json={"decision": "approve"}, headers=ADMIN)
    third = await create(client, name="Aurora Ketamine Downtown", npi=None, website=None)  # unowned, claimed
    waiting = await client.post(f"/v1/providers/{third['id']}/claims", json={"message": "I run it"}, headers=await account(client))
    assert waiting.status_code == 202 and waiting.json()["status"] == "pending", waiting.text
    key = await sync_key(client)
    cursor = (await client.get("/v1/changes", params={"limit": 100}, headers=key)).json()["next_cursor"]
    pairs = (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json()
    (pair,) = [p for p in pairs if {p["first"]["id"], p["second"]["id"]} == {keep["id"], gone["id"]}]
    (later,) = [p for p in pairs if {p["first"]["id"], p["second"]["id"]} == {keep["id"], third["id"]}]

    assert_problem(await client.post(f"/v1/moderation/duplicates/{pair['id']}/decision", json={"decision": "merge"}, headers=ADMIN), 422, "keep")
    stranger = str(uuid.uuid4())
    assert_problem(await client.post(f"/v1/moderation/duplicates/{pair['id']}/decision", json={"decision": "merge", "keep": stranger}, headers=ADMIN), 422, "keep")
    merged = await client.post(f"/v1/moderation/duplicates/{pair['id']}/decision", json={"decision": "merge", "keep": keep["id"], "note": "one clinic"}, headers=ADMIN)
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged" and merged.json()["decided_by"] == "admin"
    assert_problem(await client.post(f"/v1/moderation/duplicates/{pair['id']}/decision", json={"decision": "dismiss"}, headers=ADMIN), 409)

    # Every public address of the retired listing leads to the one that stays.
    for path, target in (
        (f"/v1/providers/{gone['id']}", f"/v1/providers/{keep['id']}"),
        (f"/v1/providers/{gone['slug']}", f"/v1/providers/{keep['id']}"),
        (f"/providers/{gone['slug']}", f"/providers/{keep['slug']}"),
        (f"/hsds/organizations/{gone['id']}", f"/hsds/organizations/{keep['id']}"),
    ):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 301 and response.headers["location"] == target, (path, response.status_code)
    fhir = await client.get(f"/fhir/Organization/{gone['id']}", follow_redirects=False)
    assert fhir.status_code == 301 and fhir.headers["location"].endswith(f"/fhir/Organization/{keep['id']}")
    assert (await client.get(f"/v1/providers/{keep['id']}")).status_code == 200
    # Its owner owns the survivor now; moderators still read the old one.
    assert (await client.patch(f"/v1/providers/{keep['id']}", json={"description": "Ours."}, headers={**owner, "If-Match": "*"})).status_code == 200
    old = (await client.get(f"/v1/providers/{gone['id']}", headers=ADMIN)).json()
    assert old["status"] == "merged" and old["merged_into"] == keep["id"]
    assert (await client.get(f"/v1/providers/{gone['id']}/history", headers=ADMIN)).json()["items"][0]["action"] == "merged"
    # Merged again into another: its waiting claim moves along, and the first retired listing leads there too.
    again = await client.post(f"/v1/moderation/duplicates/{later['id']}/decision", json={"decision": "merge", "keep": third["id"]}, headers=ADMIN)
    assert again.status_code == 200, again.text
    queue = (await client.get("/v1/moderation/queue", headers=ADMIN)).json()
    assert [c["provider_id"] for c in queue["claims"]] == [third["id"]]
    for retired in (gone, keep):
        response = await client.get(f"/v1/providers/{retired['id']}", follow_redirects=False)
        assert response.status_code == 301 and response.headers["location"] == f"/v1/providers/{third['id']}"
    assert_problem(await client.patch(f"/v1/providers/{gone['id']}", json={"description": "x"}, headers={**ADMIN, "If-Match": "*"}), 409)
    assert_problem(await client.patch(f"/v1/providers/{third['id']}", json={"status": "merged"}, headers={**ADMIN, "If-Match": "*"}), 422, "status")
    # Partners: one "merged" entry naming both, and the export without the retired listing.
    entries = (await client.get("/v1/changes", params={"after": cursor, "limit": 100}, headers=key)).json()["items"]
    merges = [e for e in entries if e["kind"] == "merged"]
    assert [(e["id"], e["merged_into"]) for e in merges] == [(gone["id"], keep["id"]), (keep["id"], third["id"])]
    assert [e["kind"] for e in entries if e["id"] == gone["id"]] == ["merged"]
    exported = (await client.get("/v1/export/providers.ndjson", headers=key)).text
    assert gone["id"] not in exported and keep["id"] not in exported and third["id"] in exported


async def test_a_dismissed_pair_stays_dismissed(client):
    first = await create(client, name="Cedar Ketamine")
    second = await create(client, name="Cedar Ketamine Downtown", npi=None, phone="(212) 555-0177", website=None)
    (pair,) = (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json()
    assert {r["reason"] for r in pair["reasons"]} == {"nearby"}
    dismissed = await client.post(f"/v1/moderation/duplicates/{pair['id']}/decision", json={"decision": "dismiss", "note": "two practices in one building"}, headers=ADMIN)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    await client.patch(f"/v1/providers/{second['id']}", json={"description": "Changed."}, headers={**ADMIN, "If-Match": "*"})
    assert (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json() == []
    kept = (await client.get("/v1/moderation/duplicates", params={"status": "dismissed"}, headers=ADMIN)).json()
    assert [p["id"] for p in kept] == [pair["id"]] and {kept[0]["first"]["id"], kept[0]["second"]["id"]} == {first["id"], second["id"]}


async def test_a_zip_codes_centre_is_not_a_shared_place(client):
    """Two locations placed at a ZIP code's centre (no street, or different streets) are not one place."""
    await create(client, name="Phoenix Ketamine Wellness", npi=None, phone="(602) 555-0101", website=None, locations=[{"postal_code": "85004", "state": "AZ"}])
    await create(client, name="Phoenix Ketamine Clinic", npi=None, phone="(602) 555-0102", website=None, locations=[{"address_line1": "1 Main Street", "postal_code": "85004", "state": "AZ"}])
    assert (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json() == []
    # The same street address at that ZIP code is one place.
    third = await create(client, name="Phoenix Ketamine", npi=None, phone="(602) 555-0103", website=None, locations=[{"address_line1": "1 Main St.", "postal_code": "85004", "state": "AZ"}])
    (pair,) = (await client.get("/v1/moderation/duplicates", headers=ADMIN)).json()
    assert third["id"] in (pair["first"]["id"], pair["second"]["id"]) and [r["reason"] for r in pair["reasons"]] == ["nearby"]
