"""Open Referral HSDS 3.0 under /hsds: page envelopes, records, taxonomy terms, postcode and proximity."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import ADMIN
from factories import assert_problem, create, location

ENVELOPE = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}
REQUIRED = {
    "organization": {"id", "name", "description"},
    "service": {"id", "name", "status"},
    "location": {"id", "location_type"},
    "service_at_location": {"id", "service_id", "location_id"},
}


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def check(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The fields HSDS 3.0 requires are there, and every id in the record is a UUID."""
    assert REQUIRED[kind] <= set(record), (kind, record)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if (key == "id" or key.endswith("_id")) and item is not None:
                    assert is_uuid(item), (key, item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(record)
    return record


async def get_page(client, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == ENVELOPE
    assert page["size"] == len(page["contents"])
    return page


async def test_about_and_taxonomies(client):
    about = (await client.get("/hsds/")).json()
    assert about["version"] == "3.0" and about["openapi_url"].endswith("/schema/openapi.json")
    taxonomies = await get_page(client, "/hsds/taxonomies")
    assert {t["name"] for t in taxonomies["contents"]} == {"Conditions treated", "Services offered", "Verification"}
    terms = await get_page(client, "/hsds/taxonomy_terms", per_page=100)
    ptsd = next(t for t in terms["contents"] if t["code"] == "ptsd")
    assert is_uuid(ptsd["id"]) and ptsd["taxonomy_id"] in {t["id"] for t in taxonomies["contents"]}


async def test_listing_as_organization_service_and_service_at_location(client):
    body = await create(client, name="Hudson Ketamine", description="Infusions in Midtown.")
    organizations = await get_page(client, "/hsds/organizations")
    [organization] = organizations["contents"]
    check("organization", organization)
    assert organization["id"] == body["id"]
    assert organization["organization_identifiers"][0]["identifier"] == "1234567893"
    assert organizations["total_items"] == 1 and organizations["first_page"] and organizations["last_page"]

    full = check("organization", (await client.get(f"/hsds/organizations/{body['id']}")).json())
    [service] = full["services"]
    check("service", service)
    assert service["organization_id"] == body["id"] and service["status"] == "active"
    codes = {(a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"]) for a in service["attributes"]}
    # The registry check is an attribute too (a new listing with an NPI waits for it).
    assert codes == {("service", "ketamine-iv"), ("condition", "ptsd"), ("condition", "treatment-resistant-depression"), ("verification", "pending")}
    assert service["cost_options"][0]["amount"] == 400
    assert {language["code"] for language in service["languages"]} == {"en", "es"}
    [place] = full["locations"]
    check("location", place)
    assert place["addresses"][0]["postal_code"] == "10118"
    assert place["schedules"][0]["byday"] == "MO" and place["schedules"][0]["opens_at"] == "09:00"

    again = check("service", (await client.get(f"/hsds/services/{service['id']}")).json())
    assert again["organization"]["id"] == body["id"]
    [at] = again["service_at_locations"]
    at_location = check("service_at_location", (await client.get(f"/hsds/service_at_locations/{at['id']}")).json())
    assert at_location["location"]["id"] == place["id"] and at_location["service"]["id"] == service["id"]
    listed = await get_page(client, "/hsds/service_at_locations")
    assert [check("service_at_location", r)["id"] for r in listed["contents"]] == [at["id"]]


async def test_unpublished_and_unknown_records_are_404(client):
    draft = await create(client, status="draft")
    for path in (
        f"/hsds/organizations/{draft['id']}",
        f"/hsds/organizations/{uuid.uuid4()}",
        "/hsds/organizations/not-a-uuid",
        f"/hsds/services/{uuid.uuid4()}",
        f"/hsds/service_at_locations/{uuid.uuid4()}",
    ):
        assert_problem(await client.get(path), 404)
    assert (await get_page(client, "/hsds/services"))["empty"] is True


async def test_taxonomy_term_filter_by_term_id_or_code(client):
    iv = await create(client, name="IV Clinic")
    spravato = await create(client, name="Spravato Clinic", services=[{"code": "esketamine-spravato"}], conditions=["major-depression"])
    terms = {t["code"]: t["id"] for t in (await get_page(client, "/hsds/taxonomy_terms", per_page=100))["contents"]}

    async def names(**params: Any) -> list[str]:
        return [s["name"] for s in (await get_page(client, "/hsds/services", **params))["contents"]]

    assert await names(taxonomy_term_id=terms["ptsd"]) == ["IV Clinic"]
    assert await names(taxonomy_term_id="major-depression") == ["Spravato Clinic"]
    assert await names(taxonomy_term_id=f"{terms['ptsd']},major-depression") == ["IV Clinic", "Spravato Clinic"]
    assert await names(taxonomy_term_id="ptsd,esketamine-spravato") == []  # a condition and a service: both must hold
    assert await names(organization_id=spravato["id"]) == ["Spravato Clinic"]
    assert await names(search="spravato") == ["Spravato Clinic"]
    assert [o["id"] for o in (await get_page(client, "/hsds/organizations", taxonomy_term_id="ketamine-iv"))["contents"]] == [iv["id"]]
    assert_problem(await client.get("/hsds/services", params={"taxonomy_term_id": "astrology"}), 422, "taxonomy_term_id")


async def test_postcode_proximity_and_lat_lon(client):
    # Around ZIP 10001 (Chelsea, Manhattan): one clinic in it, one across the river, one upstate.
    await create(client, name="Chelsea Clinic", locations=[location(postal_code="10001", address_line1="1 W 30th St", city="New York")])
    await create(client, name="Hoboken Clinic", locations=[location(latitude=40.7440, longitude=-74.0324, postal_code="07030", city="Hoboken", state="NJ")])
    await create(client, name="Albany Clinic", locations=[location(latitude=42.6526, longitude=-73.7562, postal_code="12207", city="Albany")])

    exact = await get_page(client, "/hsds/service_at_locations", postcode="10001")
    assert [r["location"]["name"] for r in exact["contents"]] == ["Chelsea Clinic"]

    near = await get_page(client, "/hsds/service_at_locations", postcode="10001", proximity=20_000)
    assert [r["service"]["name"] for r in near["contents"]] == ["Chelsea Clinic", "Hoboken Clinic"]
    assert near["total_items"] == 2
    distances = [r["distance"] for r in near["contents"]]
    assert distances == sorted(distances) and 2_000 < distances[1] < 6_000

    wide = await get_page(client, "/hsds/services", lat=40.7506, lon=-73.9972, proximity=300_000, per_page=2)
    assert [s["name"] for s in wide["contents"]] == ["Chelsea Clinic", "Hoboken Clinic"]
    assert (wide["total_items"], wide["total_pages"], wide["last_page"]) == (3, 2, False)
    second = await get_page(client, "/hsds/services", lat=40.7506, lon=-73.9972, proximity=300_000, per_page=2, page=2)
    assert [s["name"] for s in second["contents"]] == ["Albany Clinic"] and second["last_page"]
    assert 200_000 < second["contents"][0]["distance"] < 250_000


async def test_modified_after_and_paging(client):
    for i in range(5):
        await create(client, name=f"Clinic {i}")
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    assert (await get_page(client, "/hsds/services", modified_after=later))["total_items"] == 0
    earlier = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    assert (await get_page(client, "/hsds/services", modified_after=earlier))["total_items"] == 5
    pages = [await get_page(client, "/hsds/organizations", per_page=2, page=n) for n in (1, 2, 3, 4)]
    assert [p["size"] for p in pages] == [2, 2, 1, 0]
    assert [p["total_pages"] for p in pages] == [3, 3, 3, 3]
    assert pages[3]["empty"] and pages[2]["last_page"]
    names = [o["name"] for p in pages for o in p["contents"]]
    assert names == sorted(names) and len(set(names)) == 5


async def test_bad_parameters_name_the_field(client):
    for params, field in (
        ({"proximity": 1000}, "proximity"),
        ({"postcode": "10001", "proximity": 0}, "proximity"),
        ({"postcode": "10001", "proximity": 900_000}, "proximity"),
        ({"lat": 40.7}, "lon"),
        ({"lat": 95, "lon": 0}, "lat"),
        ({"per_page": 0}, "per_page"),
        ({"page": "first"}, "page"),
        ({"modified_after": "last week"}, "modified_after"),
        ({"lat": 40.7, "lon": -74, "modified_after": "2026-01-01T00:00:00Z"}, "modified_after"),
        ({"lat": 40.7, "lon": -74, "page": 30, "per_page": 50}, "page"),
    ):
        assert_problem(await client.get("/hsds/service_at_locations", params=params), 400, field)
    assert_problem(await client.get("/hsds/service_at_locations", params={"postcode": "00000", "proximity": 5000}), 422, "postcode")


async def test_the_schema_check_on_every_hsds_answer_catches_a_broken_one(client):
    """Every HSDS answer in the suite goes through hsds_schema (conftest's client hook); this shows the
    check can fail: a real answer passes, the same answer with a required field gone or a bad UUID does not."""
    import hsds_schema

    if not hsds_schema.available():
        pytest.skip("HSDS 3.0's schema files are not here and cannot be downloaded")
    await create(client, name="Schema Clinic")
    page = await get_page(client, "/hsds/services", full="true")
    assert hsds_schema.problems("/hsds/services", page) == []
    service = page["contents"][0]
    assert hsds_schema.problems(f"/hsds/services/{service['id']}", service) == []
    nameless = {key: value for key, value in service.items() if key != "name"}
    assert any("'name' is a required property" in p for p in hsds_schema.problems(f"/hsds/services/{service['id']}", nameless))
    assert any("is not a 'uuid'" in p for p in hsds_schema.problems("/hsds/services/x", {**service, "organization_id": "x"}))
    assert any("contents/0" in p for p in hsds_schema.problems("/hsds/services", {**page, "contents": [nameless]}))


async def test_terms_name_their_parents_and_a_broad_term_filters_for_the_narrower(client):
    await create(client, name="Perinatal Care", status="published", conditions=["postpartum-depression"])
    term = (await client.get("/hsds/taxonomy_terms/postpartum-depression")).json()
    broad = (await client.get("/hsds/taxonomy_terms/depression")).json()
    assert term["parent_id"] == broad["id"] and broad.get("parent_id") is None
    page = await get_page(client, "/hsds/services", taxonomy_term_id="depression")
    assert [item["name"] for item in page["contents"]] == ["Perinatal Care"]


async def test_taxonomy_terms_in_spanish_keep_their_ids_and_codes(client):
    english = (await client.get("/hsds/taxonomy_terms/ptsd")).json()
    spanish = await client.get("/hsds/taxonomy_terms/ptsd", headers={"Accept-Language": "es"})
    assert spanish.headers["content-language"] == "es" and "Accept-Language" in spanish.headers["vary"]
    term = spanish.json()
    assert term["language"] == "es" and english["language"] == "en" and term["name"] != english["name"]
    assert "estrés postraumático" in term["name"].lower()
    assert {key: term[key] for key in ("id", "code", "parent_id", "taxonomy_id") if key in term} == {
        key: english[key] for key in ("id", "code", "parent_id", "taxonomy_id") if key in english
    }
    page = await get_page(client, "/hsds/taxonomy_terms", per_page=100, lang="es")
    by_code = {item["code"]: item for item in page["contents"]}
    assert by_code["depression"]["name"] == "Depresión" and by_code["depression"]["language"] == "es"
    assert by_code["verified"]["name"] == "Verificado en el registro NPPES" and by_code["verified"]["language"] == "es"
    assert_problem(await client.get("/hsds/taxonomy_terms", params={"lang": "fr"}), 400, "lang")


async def test_a_telehealth_only_listing_is_a_service_with_service_areas(client):
    body = {"name": "Online Only", "status": "published", "telehealth": True, "telehealth_states": ["CA", "OR"], "conditions": ["ptsd"]}
    created = (await client.post("/v1/providers", json=body, headers=ADMIN)).json()
    service = next(item for item in (await get_page(client, "/hsds/services"))["contents"] if item["organization_id"] == created["id"])
    assert [area["name"] for area in service["service_areas"]] == ["CA (telehealth)", "OR (telehealth)"]
    assert all(area["service_id"] == service["id"] for area in service["service_areas"])


async def test_accessibility_terms_are_accessibility_records(client):
    created = await create(client, name="Accessible", status="published", locations=[location(accessibility_features=["elevator"], accessibility="Side door ramp.", rems_certified=True)])
    full = check("organization", (await client.get(f"/hsds/organizations/{created['id']}")).json())
    [place] = full["locations"]
    check("location", place)
    assert [item["description"] for item in place["accessibility"]] == ["Elevator", "Side door ramp."]
    assert "REMS" in place["description"]
