"""Search finds what a patient means (issue: search quality): broad terms find the narrower ones,
the taxonomies are trees with standard codes, and counts include what lies below."""

from __future__ import annotations

from typing import Any

from conftest import ADMIN
from geopy.distance import geodesic
from test_search import NYC, names, offset, publish, search


async def test_depression_finds_every_kind_of_depression(client):
    for code in ("treatment-resistant-depression", "postpartum-depression", "bipolar-depression", "major-depression"):
        await publish(client, code, offset(NYC, 3), conditions=[code])
    await publish(client, "pain only", offset(NYC, 2), conditions=["chronic-pain"])
    found = await search(client, lat=NYC[0], lon=NYC[1], condition="depression", sort="name")
    assert names(found) == ["bipolar-depression", "major-depression", "postpartum-depression", "treatment-resistant-depression"]
    # A narrow term stays narrow: a search for postpartum depression does not return the others.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="PPD")) == ["postpartum-depression"]
    # "MDD" names major depression; the plain word is the broad term.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="MDD")) == ["major-depression"]


async def test_all_of_two_broad_terms_means_one_of_each(client):
    await publish(client, "both", offset(NYC, 1), conditions=["postpartum-depression", "fibromyalgia"])
    await publish(client, "one", offset(NYC, 2), conditions=["postpartum-depression"])
    found = await search(client, lat=NYC[0], lon=NYC[1], condition=["depression", "chronic-pain"], condition_match="all")
    assert names(found) == ["both"]
    either = await search(client, lat=NYC[0], lon=NYC[1], condition=["depression", "chronic-pain"])
    assert names(either) == ["both", "one"]


async def test_broad_service_terms_find_the_narrower_services(client):
    await publish(client, "booster", offset(NYC, 1), services=[{"code": "ketamine-maintenance"}])
    await publish(client, "spray", offset(NYC, 2), services=[{"code": "esketamine-spravato"}])
    assert names(await search(client, lat=NYC[0], lon=NYC[1], service="ketamine")) == ["booster"]


async def test_free_text_of_a_broad_word_finds_the_narrower_entries(client):
    await publish(client, "Northside Clinic", offset(NYC, 1), conditions=["fibromyalgia"])
    assert names(await search(client, lat=NYC[0], lon=NYC[1], q="pain")) == ["Northside Clinic"]


async def test_the_condition_list_is_a_tree_with_standard_codes_and_counts_of_everything_below(client):
    await publish(client, "a", offset(NYC, 1), conditions=["postpartum-depression", "treatment-resistant-depression"])
    await publish(client, "b", offset(NYC, 2), conditions=["major-depression"])
    response = await client.get("/v1/conditions")
    assert response.status_code == 200
    entries = {entry["code"]: entry for entry in response.json()["items"]}
    depression = entries["depression"]
    assert depression["parent"] is None
    assert set(depression["children"]) == {"major-depression", "treatment-resistant-depression", "postpartum-depression", "bipolar-depression"}
    assert "depression" in [s.lower() for s in depression["synonyms"]]
    assert {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.A", "display": "Depression, unspecified"} in depression["codings"]
    # Listing "a" names two kinds of depression and counts once.
    assert depression["provider_count"] == 2
    assert entries["postpartum-depression"]["parent"] == "depression" and entries["postpartum-depression"]["provider_count"] == 1
    assert entries["crps"]["parent"] == "chronic-pain" and entries["neuropathic-pain"]["parent"] == "chronic-pain"
    services = {entry["code"]: entry for entry in (await client.get("/v1/services")).json()["items"]}
    assert "ketamine-iv" in services["ketamine"]["children"] and services["esketamine-spravato"]["parent"] is None


async def test_a_listing_may_name_the_broad_term_itself(client):
    response = await client.post(
        "/v1/providers",
        json={"name": "General", "status": "published", "conditions": ["depression"], "locations": [{"latitude": NYC[0], "longitude": NYC[1]}]},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="depression")) == ["General"]
    # It says depression, not which kind: it is not a match for postpartum depression.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="postpartum-depression")) == []


# --- telehealth-only listings: found by the states they serve -----------------------------------

SACRAMENTO = (38.5816, -121.4944)
BILLINGS = (45.7833, -108.5007)
ABSAROKEE = (45.5205, -109.4429)


async def telehealth_only(client, name: str, states: list[str], **fields: Any) -> dict[str, Any]:
    body = {"name": name, "status": "published", "conditions": ["ptsd"], "telehealth": True, "telehealth_states": states, **fields}
    response = await client.post("/v1/providers", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_telehealth_only_listing_is_a_remote_hit_for_searchers_in_its_states(client):
    await publish(client, "Near Clinic", offset(SACRAMENTO, 3))
    await telehealth_only(client, "Online Only", ["CA", "OR"])
    await telehealth_only(client, "Elsewhere Online", ["NY"])
    page = await search(client, lat=SACRAMENTO[0], lon=SACRAMENTO[1], condition="ptsd", total="true", facets="true")
    assert names(page) == ["Near Clinic", "Online Only"]
    remote = page["items"][1]
    assert remote["remote"] is True and remote["distance"] is None and remote["location"] is None
    assert page["items"][0]["remote"] is False and page["total"] == 2
    assert {"value": "ptsd", "count": 2} in page["facets"]["condition"]
    # A searcher in New York sees the New York one; telehealth=false leaves them out.
    assert names(await search(client, lat=NYC[0], lon=NYC[1], condition="ptsd")) == ["Elsewhere Online"]
    assert names(await search(client, lat=SACRAMENTO[0], lon=SACRAMENTO[1], telehealth="false")) == ["Near Clinic"]
    # Nationwide, and a nationwide telehealth search, include both.
    assert set(names(await search(client, telehealth="true"))) == {"Online Only", "Elsewhere Online"}
    everyone = await search(client, total="true")
    assert everyone["total"] == 3 and all(hit["location"] is None for hit in everyone["items"] if hit["provider"]["name"] != "Near Clinic")
    # Text and other orders find it too; a map viewport (no state) does not.
    assert names(await search(client, q="online", lat=SACRAMENTO[0], lon=SACRAMENTO[1], sort="name")) == ["Online Only"]
    assert names(await search(client, bbox="-122,38,-121,39")) == ["Near Clinic"]


async def test_remote_hits_page_after_the_near_ones(client):
    await publish(client, "Near", offset(SACRAMENTO, 1))
    for n in range(3):
        await telehealth_only(client, f"Online {n}", ["CA"])
    first = await search(client, lat=SACRAMENTO[0], lon=SACRAMENTO[1], limit=2)
    assert names(first) == ["Near", "Online 0"] and first["next_cursor"]
    second = await search(client, lat=SACRAMENTO[0], lon=SACRAMENTO[1], limit=2, cursor=first["next_cursor"])
    assert names(second) == ["Online 1", "Online 2"] and second["next_cursor"] is None


# --- the nearest beyond the radius ---------------------------------------------------------------


async def test_beyond_the_radius_answers_the_nearest_apart_with_exact_distances(client):
    for name, miles in (("Billings", 0), ("Farther", 60), ("Farthest", 200), ("Other condition", 10)):
        await publish(client, name, offset(BILLINGS, miles, bearing=90) if miles else BILLINGS, conditions=["crps" if name == "Other condition" else "ptsd"])
    page = await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], condition="ptsd", beyond_radius="true")
    assert page["items"] == [] and [hit["provider"]["name"] for hit in page["beyond_radius"]] == ["Billings", "Farther", "Farthest"]
    for hit in page["beyond_radius"]:
        location = hit["location"]
        exact = geodesic(ABSAROKEE, (location["latitude"], location["longitude"])).miles
        assert abs(hit["distance"] - exact) <= exact * 1e-6 and hit["distance"] > 25 and hit["remote"] is False
    # Not asked: null. A near match: it comes in items and the rest beyond.
    assert (await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], condition="ptsd"))["beyond_radius"] is None
    wide = await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], condition="ptsd", radius=50, beyond_radius="true")
    assert names(wide) == ["Billings"] and [hit["provider"]["name"] for hit in wide["beyond_radius"]] == ["Farther", "Farthest"]
    # A full page has nothing beyond; a limit leaves room for at most that many.
    full = await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], condition="ptsd", radius=500, limit=2, beyond_radius="true")
    assert names(full) == ["Billings", "Farther"] and full["beyond_radius"] == []
    room = await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], condition="ptsd", radius=50, limit=2, beyond_radius="true")
    assert [hit["provider"]["name"] for hit in room["beyond_radius"]] == ["Farther"]


async def test_beyond_the_radius_per_location_and_as_geojson(client):
    await publish(client, "Two places", BILLINGS, offset(BILLINGS, 30), conditions=["ptsd"])
    page = await search(client, lat=ABSAROKEE[0], lon=ABSAROKEE[1], beyond_radius="true", group="location")
    distances = [hit["distance"] for hit in page["beyond_radius"]]
    assert len(distances) == 2 and distances == sorted(distances)
    geo = await client.get("/v1/search.geojson", params={"lat": ABSAROKEE[0], "lon": ABSAROKEE[1], "beyond_radius": "true"})
    assert geo.status_code == 200
    beyond = [f for f in geo.json()["features"] if f["properties"].get("beyond_radius")]
    assert [f["properties"]["provider"]["name"] for f in beyond] == ["Two places"]


# --- overnight hours: one interval past midnight ---------------------------------------------------


async def test_overnight_hours_are_one_interval_and_open_now_holds_across_midnight_and_dst(client):
    night = [{"day": "sat", "opens": "22:00", "closes": "02:00"}, {"day": "sun", "opens": "00:00", "closes": "01:00"}]
    created = await publish(client, "Night Owl", offset(NYC, 1), hours=night)
    location = created["locations"][0]
    # Shown as entered: the overnight interval is one, not two.
    assert {"day": "sat", "opens": "22:00", "closes": "02:00"} in location["hours"] and len(location["hours"]) == 2

    async def open_at(moment: str) -> list[str]:
        return names(await search(client, lat=NYC[0], lon=NYC[1], open_now="true", at=moment))

    # Saturday 2026-10-24, an ordinary weekend (EDT, -04:00).
    assert await open_at("2026-10-24T21:59:00-04:00") == []
    assert await open_at("2026-10-24T22:00:00-04:00") == ["Night Owl"]
    assert await open_at("2026-10-25T01:30:00-04:00") == ["Night Owl"]
    assert await open_at("2026-10-25T02:00:00-04:00") == []
    # The night the clocks go back (2026-11-01 02:00 EDT becomes 01:00 EST): 01:30 happens twice, open both times.
    assert await open_at("2026-11-01T01:30:00-04:00") == ["Night Owl"]
    assert await open_at("2026-11-01T01:30:00-05:00") == ["Night Owl"]
    assert await open_at("2026-11-01T02:30:00-05:00") == []
    hit = (await search(client, lat=NYC[0], lon=NYC[1], at="2026-10-25T01:00:00-04:00"))["items"][0]
    assert hit["location"]["open_now"] is True


async def test_an_interval_that_opens_and_closes_at_once_is_refused(client):
    body = {"name": "Odd", "status": "published", "locations": [{"latitude": NYC[0], "longitude": NYC[1], "timezone": "America/New_York", "hours": [{"day": "mon", "opens": "09:00", "closes": "09:00"}]}]}
    response = await client.post("/v1/providers", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert any(error["field"].startswith("locations.0.hours.0") for error in response.json()["errors"])


# --- one clinician with both; accessibility and REMS per location -----------------------------------


async def test_credential_and_specialty_together_mean_one_clinician(client):
    person = lambda first, credential, specialty: {"first_name": first, "last_name": "Test", "credential": credential, "specialty": specialty}  # noqa: E731
    await publish(client, "MD anesthesiologist", offset(SACRAMENTO, 1), clinicians=[person("A", "MD", "anesthesiology")])
    await publish(client, "Two people", offset(SACRAMENTO, 2), clinicians=[person("B", "MD", "psychiatry"), person("C", "CRNA", "anesthesiology")])
    at = {"lat": SACRAMENTO[0], "lon": SACRAMENTO[1]}
    assert names(await search(client, **at, credential="MD", specialty="anesthesiology")) == ["MD anesthesiologist"]
    # Any case; each alone still means any clinician.
    assert names(await search(client, **at, credential="md", specialty="Anesthesiology")) == ["MD anesthesiologist"]
    assert names(await search(client, **at, credential="md")) == ["MD anesthesiologist", "Two people"]
    assert names(await search(client, **at, specialty="anesthesiology")) == ["MD anesthesiologist", "Two people"]
    # Either of two credentials, with the specialty.
    assert names(await search(client, **at, credential=["CRNA", "DO"], specialty="anesthesiology")) == ["Two people"]
    bad = await client.get("/v1/search", params={**at, "credential": "wizard"})
    assert bad.status_code == 400 and "credential" in bad.text


async def test_accessibility_terms_and_rems_are_per_location(client):
    created = await publish(client, "Accessible", offset(SACRAMENTO, 1))
    location_id = created["locations"][0]["id"]
    change = {"accessibility_features": ["Step-Free-Entrance", "elevator"], "accessibility": "Ramp by the side door.", "rems_certified_on": "2025-03-01"}
    response = await client.patch(f"/v1/providers/{created['id']}/locations/{location_id}", json=change, headers={**ADMIN, "If-Match": "*"})
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["accessibility_features"] == ["step_free_entrance", "elevator"] and shown["rems_certified"] is True and shown["rems_certified_on"] == "2025-03-01"
    await publish(client, "Plain", offset(SACRAMENTO, 2))
    at = {"lat": SACRAMENTO[0], "lon": SACRAMENTO[1]}
    assert names(await search(client, **at, accessibility="step_free_entrance")) == ["Accessible"]
    assert names(await search(client, **at, accessibility=["elevator", "step_free_entrance"])) == ["Accessible"]
    assert names(await search(client, **at, accessibility=["elevator", "hearing_loop"])) == []
    assert names(await search(client, **at, rems_certified="true")) == ["Accessible"]
    assert names(await search(client, **at, rems_certified="false")) == ["Plain"]
    # Free text finds the terms and the note.
    assert names(await search(client, **at, q="elevator")) == ["Accessible"]
    assert names(await search(client, **at, q="ramp")) == ["Accessible"]
    hit = (await search(client, **at, accessibility="elevator"))["items"][0]
    assert hit["location"]["accessibility_features"] == ["step_free_entrance", "elevator"] and hit["location"]["rems_certified"] is True
    bad = await client.patch(f"/v1/providers/{created['id']}/locations/{location_id}", json={"rems_certified": False, "rems_certified_on": "2025-03-01"}, headers={**ADMIN, "If-Match": "*"})
    assert bad.status_code == 422 and "rems" in bad.text


def test_the_migration_reads_the_terms_a_note_clearly_says():
    import importlib.util
    from pathlib import Path

    path = next((Path(__file__).resolve().parents[1] / "migrations" / "versions").glob("*_0020_*.py"))
    spec = importlib.util.spec_from_file_location("m0020", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.terms_in("Wheelchair accessible entrance and restroom; free parking.") == ["step_free_entrance"]
    assert module.terms_in("Accessible restroom, elevator to the 2nd floor, ADA parking") == ["accessible_restroom", "elevator", "accessible_parking"]
    assert module.terms_in("ASL interpreters on request. Service dogs welcome.") == ["sign_language_interpreter", "service_animals_welcome"]
    assert module.terms_in("Second floor, no elevator.") == []
    assert module.terms_in(None) == []


# --- forgiving free text ------------------------------------------------------------------------------


async def test_free_text_folds_accents_forgives_typos_and_matches_prefixes(client):
    person = {"first_name": "Ana", "last_name": "Núñez", "credential": "MD", "specialty": "psychiatry"}
    await publish(client, "Sérénité Ketamine Clinic", offset(SACRAMENTO, 1), conditions=["generalized-anxiety-disorder"])
    await publish(client, "Valley Institute", offset(SACRAMENTO, 2), conditions=["postpartum-depression"], clinicians=[person])
    await publish(client, "Spray Center", offset(SACRAMENTO, 3), conditions=["treatment-resistant-depression"], services=[{"code": "esketamine-spravato"}])
    everywhere = {"sort": "relevance"}
    for typed, expected in (
        ("serenite", ["Sérénité Ketamine Clinic"]),       # accents folded
        ("SÉRÉNITÉ", ["Sérénité Ketamine Clinic"]),
        ("seren", ["Sérénité Ketamine Clinic"]),          # a prefix
        ("nunez", ["Valley Institute"]),                  # a clinician's name, accents folded
        ("spravto", ["Spray Center"]),                    # one letter missing
        ("anxeity", ["Sérénité Ketamine Clinic"]),        # two letters swapped
        ("depresion", ["Spray Center", "Valley Institute"]),
        ("postpartum depresion", ["Valley Institute"]),   # every word must match
    ):
        assert sorted(names(await search(client, q=typed, **everywhere))) == expected, typed
    # Near a place too (the place's index first, then each row's words).
    assert names(await search(client, q="serenit", lat=SACRAMENTO[0], lon=SACRAMENTO[1])) == ["Sérénité Ketamine Clinic"]
    # Nothing searchable left after folding: a 400 naming q.
    for nothing in ("%", "¿?", "—"):
        response = await client.get("/v1/search", params={"q": nothing})
        assert response.status_code == 400 and "q" in response.text


async def test_relevance_puts_the_name_before_a_mention_and_the_typed_word_before_a_near_one(client):
    await publish(client, "Harbor Clinic", offset(SACRAMENTO, 1), description="Near the water.")
    await publish(client, "Northside", offset(SACRAMENTO, 2), description="By the harbor.")
    await publish(client, "Harbour House", offset(SACRAMENTO, 3))
    # A word some name has is taken as typed: the name first, then the mention.
    assert names(await search(client, q="harbor", sort="relevance")) == ["Harbor Clinic", "Northside"]
    # A misspelling means the names near it (both spellings), before a mention of one of them.
    ranked = names(await search(client, q="harbur", sort="relevance"))
    assert set(ranked[:2]) == {"Harbor Clinic", "Harbour House"} and ranked[2] == "Northside"


# --- facets that add up ----------------------------------------------------------------------------------


def counts(page: dict[str, Any], facet: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in page["facets"][facet]}


async def test_each_facet_count_is_what_ticking_it_gives(client):
    await publish(client, "ptsd only", offset(SACRAMENTO, 1), conditions=["ptsd"], payment_options=["self_pay"], price={"min": 350, "max": 500})
    await publish(client, "both", offset(SACRAMENTO, 2), conditions=["ptsd", "major-depression"], payment_options=["insurance"], price={"min": 450, "max": 600})
    await publish(client, "md one", offset(SACRAMENTO, 3), conditions=["major-depression"], payment_options=["self_pay"], price={"min": 700, "max": 900})
    await publish(client, "md two", offset(SACRAMENTO, 4), conditions=["major-depression"], payment_options=["self_pay"], price={"min": 800, "max": 900})
    at = {"lat": SACRAMENTO[0], "lon": SACRAMENTO[1], "facets": "true", "total": "true"}
    ticked = await search(client, **at, condition="ptsd")
    assert ticked["total"] == 2
    conditions = counts(ticked, "condition")
    # Ticking major depression too would give ptsd or major depression: all four.
    assert conditions["major-depression"] == 4 == (await search(client, **at, condition=["ptsd", "major-depression"]))["total"]
    assert conditions["ptsd"] == 2 and conditions["depression"] == 4
    # The other facets count within the ticked condition; payment and price bands are facets too.
    assert counts(ticked, "payment") == {"self_pay": 1, "insurance": 1}
    assert counts(ticked, "price") == {"400": 1, "500": 2, "750": 2, "1000": 2}
    # Every count is what the search gives when it is ticked (checked against the search itself).
    for value, count in counts(ticked, "payment").items():
        assert (await search(client, **at, condition="ptsd", payment=value))["total"] == count
    paying = await search(client, **at, payment="self_pay")
    for value, count in counts(paying, "payment").items():
        assert (await search(client, **at, payment=["self_pay", value]))["total"] == count
    priced = await search(client, **at, max_price=400)
    assert priced["total"] == 1 and counts(priced, "price")["750"] == 3
    assert (await search(client, **at, max_price=750))["total"] == 3


async def test_facets_of_clinicians_accessibility_and_rems(client):
    person = lambda credential, specialty: {"first_name": "A", "last_name": "B", "credential": credential, "specialty": specialty}  # noqa: E731
    await publish(client, "md anes", offset(SACRAMENTO, 1), clinicians=[person("MD", "anesthesiology")])
    await publish(client, "crna anes", offset(SACRAMENTO, 2), clinicians=[person("CRNA", "anesthesiology"), person("MD", "psychiatry")])
    at = {"lat": SACRAMENTO[0], "lon": SACRAMENTO[1], "facets": "true", "total": "true"}
    page = await search(client, **at, specialty="anesthesiology")
    # With anesthesiology ticked, MD counts the listings with an MD anesthesiologist (what ticking MD gives).
    assert counts(page, "credential")["MD"] == 1 == (await search(client, **at, specialty="anesthesiology", credential="MD"))["total"]
    assert counts(page, "specialty") == {"anesthesiology": 2, "psychiatry": 2}
    created = await publish(client, "ramp", offset(SACRAMENTO, 3))
    location = created["locations"][0]["id"]
    change = {"accessibility_features": ["step_free_entrance", "elevator"], "rems_certified": True}
    assert (await client.patch(f"/v1/providers/{created['id']}/locations/{location}", json=change, headers={**ADMIN, "If-Match": "*"})).status_code == 200
    page = await search(client, **at, accessibility="step_free_entrance")
    # All terms must hold: elevator counts those that have both.
    assert counts(page, "accessibility") == {"step_free_entrance": 1, "elevator": 1}
    everyone = await search(client, **at)
    assert counts(everyone, "rems_certified") == {"true": 1, "false": 2}
    assert counts(await search(client, **at, rems_certified="true"), "rems_certified") == {"true": 1, "false": 3}


async def test_location_facets_count_a_listing_once_by_any_of_its_locations(client):
    """A listing with two locations here: one has an elevator, the other is certified for REMS. It
    counts once under each value some location of it has, and with REMS ticked under both."""
    two = await publish(client, "two places", offset(SACRAMENTO, 1), offset(SACRAMENTO, 2, bearing=0))
    one = await publish(client, "one place", offset(SACRAMENTO, 3))
    first, second = (place["id"] for place in two["locations"])
    changes = [(two["id"], first, {"accessibility_features": ["elevator"]}), (two["id"], second, {"rems_certified": True}), (one["id"], one["locations"][0]["id"], {"accessibility_features": ["elevator", "accessible_parking"]})]
    for provider, location, change in changes:
        answer = await client.patch(f"/v1/providers/{provider}/locations/{location}", json=change, headers={**ADMIN, "If-Match": "*"})
        assert answer.status_code == 200, answer.text
    at = {"lat": SACRAMENTO[0], "lon": SACRAMENTO[1], "facets": "true", "total": "true"}
    everyone = await search(client, **at)
    assert everyone["total"] == 2
    assert counts(everyone, "accessibility") == {"elevator": 2, "accessible_parking": 1}
    assert counts(everyone, "rems_certified") == {"true": 1, "false": 2}
    ticked = await search(client, **at, rems_certified="true")
    assert ticked["total"] == 1 and counts(ticked, "rems_certified") == {"true": 1, "false": 2}
    # Location filters hold at one location: the certified one has no elevator, so none counts.
    assert counts(ticked, "accessibility") == {} and (await search(client, **at, rems_certified="true", accessibility="elevator"))["total"] == 0
    # With "not certified" ticked, ticking "certified" too gives both listings.
    assert counts(await search(client, **at, rems_certified="false"), "rems_certified") == {"true": 2, "false": 2}


async def test_the_words_index_follows_every_change(client):
    created = await publish(client, "Quokka Infusions", offset(SACRAMENTO, 1))
    assert names(await search(client, q="quokka")) == ["Quokka Infusions"]
    renamed = await client.patch(f"/v1/providers/{created['id']}", json={"name": "Wombat Infusions"}, headers={**ADMIN, "If-Match": "*"})
    assert renamed.status_code == 200
    assert names(await search(client, q="quokka")) == [] and names(await search(client, q="wombat")) == ["Wombat Infusions"]
    closed = await client.patch(f"/v1/providers/{created['id']}", json={"status": "closed"}, headers={**ADMIN, "If-Match": "*"})
    assert closed.status_code == 200, closed.text
    assert names(await search(client, q="wombat")) == []
