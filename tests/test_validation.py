"""Every rule on listing input answers with problem+json naming the field, and stores nothing."""

from __future__ import annotations

import pytest
from conftest import ADMIN, ADMIN_ANY
from factories import assert_problem, create, listing, location

from directory.validation import normalise_phone, npi_is_valid

BAD_LISTINGS = [
    ({"npi": "1234567890"}, "npi"),
    ({"npi": "12345"}, "npi"),
    ({"website": "ftp://files.example"}, "website"),
    ({"website": "javascript:alert(1)"}, "website"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "555-01"}, "phone"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"description": "x" * 5001}, "description"),
    ({"languages": ["english"]}, "languages.0"),
    ({"languages": ["en"] * 21}, "languages"),
    ({"insurance_carriers": ["a"] * 51}, "insurance_carriers"),
    ({"telehealth_states": ["XX"]}, "telehealth_states.0"),
    ({"routes": ["smoked"]}, "routes.0"),
    ({"payment_options": ["barter"]}, "payment_options.0"),
    ({"status": "suspended"}, "status"),
    ({"price": {"min": 600, "max": 400}}, "price"),
    ({"price": {"min": -1, "max": 400}}, "price.min"),
    ({"price": {"min": 1, "max": 2, "currency": "EUR"}}, "price.currency"),
    ({"unknown_field": 1}, "unknown_field"),
    ({"locations": [location(latitude=91, longitude=0)]}, "locations.0.latitude"),
    ({"locations": [location(latitude=40, longitude=-181)]}, "locations.0.longitude"),
    ({"locations": [location(latitude=40)]}, "locations.0"),
    ({"locations": [location(state="ZZ")]}, "locations.0.state"),
    ({"locations": [location(postal_code="1234")]}, "locations.0.postal_code"),
    ({"locations": [location(country="CA")]}, "locations.0.country"),
    ({"locations": [location(timezone="Mars/Olympus")]}, "locations.0.timezone"),
    ({"locations": [location(hours=[{"day": "mon", "opens": "09:00", "closes": "09:00"}])]}, "locations.0.hours.0"),
    ({"locations": [location(hours=[{"day": "someday", "opens": "09:00", "closes": "17:00"}])]}, "locations.0.hours.0.day"),
    ({"locations": [location(hours=[{"day": "mon", "opens": "9am", "closes": "17:00"}])]}, "locations.0.hours.0.opens"),
    ({"locations": [{"name": "nowhere"}]}, "locations.0"),
    ({"locations": [location()] * 21}, "locations"),
    ({"services": [{"code": "ketamine-iv"}, {"code": "ketamine-iv"}]}, "services"),
    ({"services": [{"code": "ketamine-iv", "session_minutes": 0}]}, "services.0.session_minutes"),
    ({"clinicians": [{"first_name": "A", "last_name": "B", "credential": "Wizard"}]}, "clinicians.0.credential"),
    ({"clinicians": [{"first_name": "A", "last_name": "B"}]}, "clinicians.0.credential"),
    ({"clinicians": [{"first_name": "A", "last_name": "B", "credential": "MD", "licenses": [{"state": "NY"}]}]}, "clinicians.0.licenses.0.number"),
    ({"telehealth": False, "telehealth_states": ["NY"]}, "body"),
]


@pytest.mark.parametrize(("change", "field"), BAD_LISTINGS, ids=[field for _, field in BAD_LISTINGS])
async def test_bad_listing_input_is_a_422_naming_the_field(client, change, field):
    response = await client.post("/v1/providers", json=listing(**change), headers=ADMIN)
    problem = assert_problem(response, 422, field)
    assert problem["type"] == "/problems/validation"
    assert (await client.get("/v1/providers", headers=ADMIN)).json()["items"] == []


async def test_unknown_taxonomy_codes_are_named(client):
    response = await client.post("/v1/providers", json=listing(conditions=["ptsd", "lycanthropy"]), headers=ADMIN)
    assert "lycanthropy" in assert_problem(response, 422, "conditions.1")["detail"]
    response = await client.post("/v1/providers", json=listing(services=[{"code": "teleportation"}]), headers=ADMIN)
    assert_problem(response, 422, "services.0.code")


async def test_an_address_nothing_can_place_is_a_422_not_a_point_at_zero(client):
    response = await client.post("/v1/providers", json=listing(locations=[{"postal_code": "00000"}]), headers=ADMIN)
    assert_problem(response, 422, "locations.0.postal_code")
    response = await client.post(
        "/v1/providers", json=listing(locations=[{"city": "Gondor", "state": "FL"}]), headers=ADMIN
    )
    assert_problem(response, 422, "locations.0.city")
    assert (await client.get("/v1/providers", headers=ADMIN)).json()["items"] == []


async def test_a_body_that_is_not_a_json_object_is_refused(client):
    # Not JSON at all: 400. JSON, but not an object: 422 naming the body. No body: 400 saying so.
    for body, status in ((b"not json", 400), (b'{"name": ', 400), (b"[1, 2]", 422), (b"", 400)):
        response = await client.post("/v1/providers", content=body, headers={**ADMIN, "Content-Type": "application/json"})
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if body in (b"[1, 2]", b""):
            assert assert_problem(response, status, "body")


async def test_a_patch_is_validated_like_a_create(client):
    body = await create(client)
    response = await client.patch(f"/v1/providers/{body['id']}", json={"npi": "1111111111"}, headers=ADMIN_ANY)
    assert_problem(response, 422, "npi")
    response = await client.patch(f"/v1/providers/{body['id']}", json={"conditions": ["nope"]}, headers=ADMIN_ANY)
    assert_problem(response, 422, "conditions.0")
    response = await client.patch(f"/v1/providers/{body['id']}", json={"telehealth": False}, headers=ADMIN_ANY)
    assert_problem(response, 422, "telehealth_states")
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["version"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=bogus", "status"),
        ("state=XX", "state"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-01-01T00:00:00", "updated_since"),
        ("cursor=abc", "cursor"),
    ],
)
async def test_bad_list_parameters_are_a_400_naming_them(client, query, field):
    problem = assert_problem(await client.get(f"/v1/providers?{query}"), 400, field)
    assert problem["type"] == "/problems/bad-parameter"


async def test_a_tampered_cursor_is_refused(client):
    for n in range(3):
        await create(client, name=f"Clinic {n}")
    cursor = (await client.get("/v1/providers?limit=1")).json()["next_cursor"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert_problem(await client.get(f"/v1/providers?cursor={tampered}"), 400, "cursor")


async def test_unknown_routes_and_methods_are_problems_too(client):
    assert_problem(await client.get("/v1/nothing-here"), 404)
    assert_problem(await client.put("/v1/providers/x", json={}), 405)
    assert_problem(await client.get("/v1/providers/x/locations/1"), 405)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(212) 555-0100", "+12125550100"),
        ("212.555.0100", "+12125550100"),
        ("1-212-555-0100", "+12125550100"),
        ("+1 212 555 0100", "+12125550100"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_stored_in_e164(raw, expected):
    assert normalise_phone(raw) == expected


def test_the_npi_check_digit_follows_the_cms_luhn_rule():
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("abcdefghij")


async def test_null_empties_a_list_and_never_breaks_the_listing(client):
    body = await create(client)
    cleared = await client.patch(
        f"/v1/providers/{body['id']}", json={"languages": None, "telehealth_states": None, "conditions": None}, headers=ADMIN_ANY
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["languages"] == [] and cleared.json()["conditions"] == []
    person = body["clinicians"][0]["id"]
    licenses = await client.patch(f"/v1/providers/{body['id']}/clinicians/{person}", json={"licenses": None}, headers=ADMIN_ANY)
    assert licenses.json()["licenses"] == []
    assert (await client.get(f"/v1/providers/{body['id']}")).status_code == 200


async def test_a_location_change_that_leaves_it_unplaceable_is_a_422(client):
    body = await create(client, locations=[{"latitude": 40.7, "longitude": -74.0}])
    path = f"/v1/providers/{body['id']}/locations/{body['locations'][0]['id']}"
    problem = assert_problem(await client.patch(path, json={"latitude": None, "longitude": None}, headers=ADMIN_ANY), 422)
    assert "postal_code" in problem["detail"]


async def test_changes_since_must_be_a_date_and_time_and_an_empty_if_match_is_none(client):
    """Found by the tightened contract: changed_since=0.5 was read as seconds since 1970 (now a 400
    naming it, like every moment parameter); an empty If-Match named no version and got 412 (now a 400
    naming it, and a blank one 428, as without one); 5.0 is the whole number 5, as JSON Schema's integer says."""
    from conftest import ADMIN
    from factories import assert_problem, create

    listing = await create(client)
    assert_problem(await client.get("/v1/export/providers.ndjson", params={"changed_since": "0.5"}, headers=ADMIN), 400, "changed_since")
    assert (await client.get("/v1/export/providers.ndjson", params={"changed_since": "2026-01-01T00:00:00Z"}, headers=ADMIN)).status_code == 200
    assert_problem(await client.patch(f"/v1/providers/{listing['id']}", json={"name": "x"}, headers={**ADMIN, "If-Match": ""}), 400, "If-Match")
    assert_problem(await client.patch(f"/v1/providers/{listing['id']}", json={"name": "x"}, headers={**ADMIN, "If-Match": " "}), 428)
    made = await client.post("/v1/admin/api-keys", json={"name": "P", "owner_contact": "p@x.example", "rate_limit": 5.0}, headers=ADMIN)
    assert made.status_code == 201 and made.json()["rate_limit"] == 5, made.text
    assert_problem(await client.post("/v1/admin/api-keys", json={"name": "P", "owner_contact": "p@x.example", "rate_limit": 5.5}, headers=ADMIN), 422, "rate_limit")
