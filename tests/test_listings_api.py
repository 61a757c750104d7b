"""The listing API as a client uses it: create, read, list, change, close, and the sub-resources."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ADMIN, ADMIN_ANY
from factories import assert_problem, create, listing, location

from directory import migrate


async def test_a_created_listing_comes_back_whole_with_etag_and_location(client):
    response = await client.post("/v1/providers", json=listing(), headers=ADMIN)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/providers/{body['id']}"
    assert body["slug"] == "harbor-ketamine-clinic-new-york"
    assert body["phone"] == "+12125550100"
    assert body["email"] == "intake@harbor.example"
    assert body["price"] == {"min": 400, "max": 550, "currency": "USD"}
    assert [c["code"] for c in body["conditions"]] == ["ptsd", "treatment-resistant-depression"]
    assert body["services"][0] == {
        "code": "ketamine-iv",
        "name": "IV ketamine infusion",
        "price_min": 400,
        "price_max": 550,
        "session_minutes": 50,
    }
    (place,) = body["locations"]
    assert place["coordinate_source"] == "geocoded" and place["coordinate_precision"] == "postcode"
    assert place["timezone"] == "America/New_York"
    assert abs(place["latitude"] - 40.75) < 0.05 and abs(place["longitude"] + 73.99) < 0.05
    (person,) = body["clinicians"]
    assert person["role"] == "Medical director" and person["licenses"][0]["expires_on"] == "2027-06-30"
    assert body["published_at"] is not None and body["version"] == 1

    assert body["pending_changes"] == []  # shown to those who may change the listing
    public = {**body, "pending_changes": None, "possible_duplicates": None}  # what only the creation answers
    again = await client.get(f"/v1/providers/{body['slug']}")
    assert again.status_code == 200 and again.json() == public
    by_id = await client.get(f"/v1/providers/{body['id']}")
    assert by_id.json() == public


async def test_given_coordinates_are_kept_exactly(client):
    body = await create(client, locations=[location(latitude=40.7484, longitude=-73.9857)])
    (place,) = body["locations"]
    assert (place["latitude"], place["longitude"]) == (40.7484, -73.9857)
    assert place["coordinate_source"] == "given" and place["coordinate_precision"] == "exact"


async def test_a_zip_only_address_gets_its_city_and_state(client):
    body = await create(client, locations=[{"postal_code": "96813"}])
    (place,) = body["locations"]
    assert place["city"] == "Honolulu" and place["state"] == "HI"
    assert place["timezone"] == "Pacific/Honolulu"


async def test_slugs_stay_unique(client):
    first = await create(client)
    second = await create(client)
    assert first["slug"] == "harbor-ketamine-clinic-new-york"
    assert second["slug"] == "harbor-ketamine-clinic-new-york-2"


async def test_unpublished_listings_are_hidden_from_the_public(client):
    draft = await create(client, status="draft")
    assert_problem(await client.get(f"/v1/providers/{draft['slug']}"), 404)
    assert (await client.get(f"/v1/providers/{draft['id']}", headers=ADMIN)).status_code == 200
    public = (await client.get("/v1/providers")).json()
    assert public["items"] == []
    asked = (await client.get("/v1/providers?status=draft")).json()
    assert asked["items"] == []
    admin = (await client.get("/v1/providers?status=draft", headers=ADMIN)).json()
    assert [item["id"] for item in admin["items"]] == [draft["id"]]


async def test_walking_the_pages_returns_every_listing_once(client):
    created = {(await create(client, name=f"Clinic {n}"))["id"] for n in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/providers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == created


async def test_the_list_filters_by_state_and_update_time(client):
    await create(client, name="Anchorage Clinic", locations=[location(city="Anchorage", state="AK", postal_code="99501")])
    ny = await create(client)
    alaska = (await client.get("/v1/providers?state=ak")).json()["items"]
    assert [item["name"] for item in alaska] == ["Anchorage Clinic"]
    since = ny["updated_at"]
    recent = (await client.get("/v1/providers", params={"updated_since": since})).json()["items"]
    assert ny["id"] in [item["id"] for item in recent]
    future = (await client.get("/v1/providers", params={"updated_since": "2999-01-01T00:00:00Z"})).json()
    assert future["items"] == []


async def test_patch_changes_fields_and_replaces_lists(client):
    body = await create(client)
    response = await client.patch(
        f"/v1/providers/{body['id']}",
        json={"accepting_new_patients": False, "conditions": ["ocd"], "services": [{"code": "esketamine-spravato"}]},
        headers=ADMIN_ANY,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["accepting_new_patients"] is False
    assert [c["code"] for c in changed["conditions"]] == ["ocd"]
    assert [s["code"] for s in changed["services"]] == ["esketamine-spravato"]
    assert changed["version"] == 2 and response.headers["etag"] == '"2"'
    assert changed["updated_at"] > body["updated_at"]
    assert changed["name"] == body["name"] and changed["languages"] == body["languages"]


async def test_patch_can_clear_optional_fields_but_not_the_name(client):
    body = await create(client)
    cleared = await client.patch(f"/v1/providers/{body['id']}", json={"website": None, "price": None}, headers=ADMIN_ANY)
    assert cleared.json()["website"] is None and cleared.json()["price"] is None
    assert_problem(await client.patch(f"/v1/providers/{body['id']}", json={"name": None}, headers=ADMIN_ANY), 422)


async def test_the_slug_is_stable_once_published(client):
    draft = await create(client, status="draft")
    renamed = (await client.patch(f"/v1/providers/{draft['id']}", json={"name": "Tidewater Infusions"}, headers=ADMIN_ANY)).json()
    assert renamed["slug"] == "tidewater-infusions-new-york"
    published = (await client.patch(f"/v1/providers/{draft['id']}", json={"status": "published"}, headers=ADMIN_ANY)).json()
    assert published["published_at"] is not None
    again = (await client.patch(f"/v1/providers/{draft['id']}", json={"name": "Harbor Mind"}, headers=ADMIN_ANY)).json()
    assert again["name"] == "Harbor Mind" and again["slug"] == "tidewater-infusions-new-york"


async def test_a_stale_if_match_is_refused_and_changes_nothing(client):
    body = await create(client)
    ok = await client.patch(f"/v1/providers/{body['id']}", json={"name": "A"}, headers={**ADMIN, "If-Match": '"1"'})
    assert ok.status_code == 200
    stale = await client.patch(f"/v1/providers/{body['id']}", json={"name": "B"}, headers={**ADMIN, "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["name"] == "A"


async def test_delete_closes_the_listing_and_keeps_it(client):
    body = await create(client)
    response = await client.delete(f"/v1/providers/{body['id']}", headers=ADMIN_ANY)
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert_problem(await client.get(f"/v1/providers/{body['id']}"), 404)
    kept = await client.get(f"/v1/providers/{body['id']}", headers=ADMIN)
    assert kept.json()["status"] == "closed" and kept.json()["version"] == 2


async def test_locations_can_be_added_changed_and_removed(client):
    body = await create(client)
    path = f"/v1/providers/{body['id']}/locations"
    added = await client.post(path, json={"city": "Brooklyn", "state": "NY"}, headers=ADMIN)
    assert added.status_code == 201, added.text
    second = added.json()
    assert second["coordinate_precision"] == "city"

    moved = await client.patch(f"{path}/{second['id']}", json={"postal_code": "99501", "city": "Anchorage", "state": "AK"}, headers=ADMIN_ANY)
    assert moved.status_code == 200, moved.text
    assert moved.json()["latitude"] > 60 and moved.json()["coordinate_precision"] == "postcode"

    renamed = await client.patch(f"{path}/{second['id']}", json={"name": "Downtown"}, headers=ADMIN_ANY)
    assert renamed.json()["latitude"] == moved.json()["latitude"] and renamed.json()["name"] == "Downtown"

    assert (await client.delete(f"{path}/{second['id']}", headers=ADMIN_ANY)).status_code == 204
    after = (await client.get(f"/v1/providers/{body['id']}")).json()
    assert len(after["locations"]) == 1 and after["version"] == 5
    assert_problem(await client.delete(f"{path}/{second['id']}", headers=ADMIN_ANY), 404)


async def test_a_published_listing_keeps_its_last_location(client):
    body = await create(client)
    only = body["locations"][0]["id"]
    assert_problem(await client.delete(f"/v1/providers/{body['id']}/locations/{only}", headers=ADMIN_ANY), 409)


async def test_clinicians_can_be_added_changed_and_removed(client):
    body = await create(client)
    path = f"/v1/providers/{body['id']}/clinicians"
    added = await client.post(
        path, json={"first_name": "Omar", "last_name": "Haddad", "credential": "CRNA", "role": "Nurse anesthetist"}, headers=ADMIN
    )
    assert added.status_code == 201, added.text
    person = added.json()
    changed = await client.patch(f"{path}/{person['id']}", json={"specialty": "anesthesiology", "role": "Lead CRNA"}, headers=ADMIN_ANY)
    assert changed.json()["specialty"] == "anesthesiology" and changed.json()["role"] == "Lead CRNA"
    assert_problem(await client.patch(f"{path}/{person['id']}", json={"credential": None}, headers=ADMIN_ANY), 422)
    assert (await client.delete(f"{path}/{person['id']}", headers=ADMIN_ANY)).status_code == 204
    names = [c["last_name"] for c in (await client.get(f"/v1/providers/{body['id']}")).json()["clinicians"]]
    assert names == ["Chen"]


async def test_the_taxonomies_count_published_listings(client):
    await create(client)
    await create(client, status="draft", conditions=["ptsd"])
    conditions = {entry["code"]: entry for entry in (await client.get("/v1/conditions")).json()["items"]}
    seeded = json.loads((Path(__file__).resolve().parents[1] / "seed" / "taxonomy.json").read_text())
    assert set(conditions) == {entry["code"] for entry in seeded["conditions"]}
    assert conditions["ptsd"]["provider_count"] == 1
    assert conditions["ocd"]["provider_count"] == 0
    assert "TRD" in conditions["treatment-resistant-depression"]["synonyms"]
    services = {entry["code"]: entry for entry in (await client.get("/v1/services")).json()["items"]}
    assert services["ketamine-iv"]["provider_count"] == 1 and "Spravato" in services["esketamine-spravato"]["synonyms"]


async def test_health_and_readiness(client, backend):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "ready" and ready["migration"] == migrate.head_revision()
    assert ready["database"] == ("sqlite" if backend == "sqlite" else "postgresql")
