"""The small promises of the contract: one value per single-valued parameter, JSON sent as JSON,
strict dates and JSON types, fields that cannot be cleared, honest Allow, no 0,0, what the
OpenAPI document says about If-Match, closed bodies and media types."""

from __future__ import annotations

from conftest import ADMIN, ADMIN_ANY
from factories import assert_problem, create, listing


async def test_a_single_valued_parameter_given_twice_is_refused(client):
    await create(client)
    assert_problem(await client.get("/v1/search", params=[("lat", 40.7), ("lat", 41.0), ("lon", -74.0)]), 400, "lat")
    assert_problem(await client.get("/v1/providers", params=[("limit", 5), ("limit", 6)]), 400, "limit")
    assert_problem(await client.get("/hsds/services", params=[("postcode", "10001"), ("postcode", "10002")]), 400, "postcode")
    # Lists take several: any of the conditions.
    several = await client.get("/v1/search", params=[("lat", 40.7), ("lon", -74.0), ("condition", "ptsd"), ("condition", "ocd")])
    assert several.status_code == 200, several.text


async def test_a_json_body_must_be_sent_as_json_and_not_empty(client):
    body = '{"email": "a@clinic.example", "password": "a long passphrase"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        problem = assert_problem(await client.post("/v1/accounts", content=body, headers={"Content-Type": content_type}), 415)
        assert "application/json" in problem["detail"] and content_type in problem["detail"]
    assert_problem(await client.post("/v1/accounts", content=body.encode()), 415)  # no Content-Type at all
    empty = assert_problem(await client.post("/v1/accounts", headers={"Content-Type": "application/json"}), 400, "body")
    assert "no body" in empty["detail"]
    assert (await client.post("/v1/accounts", content=body, headers={"Content-Type": "application/json; charset=utf-8"})).status_code == 201


async def test_dates_in_parameters_are_iso_8601_never_numbers(client):
    await create(client)
    for path, name in (("/v1/providers", "updated_since"), ("/hsds/services", "modified_after"), ("/v1/search", "at")):
        for bad in ("0.5", "1700000000", "yesterday", "2026-13-01T00:00:00Z"):
            assert_problem(await client.get(path, params={name: bad}), 400, name)
        assert (await client.get(path, params={name: "2026-01-01T00:00:00Z"})).status_code == 200
    assert_problem(await client.get("/v1/providers", params={"updated_since": "2026-01-01T00:00:00"}), 400, "updated_since")  # no offset
    assert (await client.get("/hsds/services", params={"modified_after": "2026-01-01"})).status_code == 200  # a date: its midnight, UTC


async def test_json_types_are_taken_as_they_are(client):
    created = await create(client)
    key = created["id"]
    for field, value in (("rems_certified", "true"), ("telehealth", 1), ("accepting_new_patients", "no")):
        assert_problem(await client.patch(f"/v1/providers/{key}", json={field: value}, headers=ADMIN_ANY), 422, field)
    assert_problem(await client.patch(f"/v1/providers/{key}", json={"price": {"min": "300"}}, headers=ADMIN_ANY), 422, "price.min")
    assert_problem(await client.patch(f"/v1/providers/{key}", json={"price": {"min": 300.5}}, headers=ADMIN_ANY), 422, "price.min")


async def test_fields_that_cannot_be_cleared_are_named(client):
    created = await create(client)
    for field in ("name", "status", "telehealth", "rems_certified"):
        problem = assert_problem(await client.patch(f"/v1/providers/{created['id']}", json={field: None}, headers=ADMIN_ANY), 422, field)
        assert "cannot be null" in problem["errors"][0]["reason"]
    cleared = await client.patch(f"/v1/providers/{created['id']}", json={"description": None}, headers=ADMIN_ANY)
    assert cleared.status_code == 200 and cleared.json()["description"] is None


async def test_no_location_is_put_at_0_0(client):
    response = await client.post("/v1/providers", json=listing(locations=[{"latitude": 0, "longitude": 0, "city": "Nowhere", "state": "NY"}]), headers=ADMIN)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"].startswith("locations.0") and "0, longitude 0" in problem["errors"][0]["reason"]


async def test_a_fhir_style_near_with_a_negative_distance_says_so(client):
    problem = assert_problem(await client.get("/v1/search", params={"near": "40.75|-73.99|-10|km"}), 400, "near")
    assert "distance positive" in problem["detail"]


async def test_options_allows_every_method_of_the_path_and_an_empty_key_is_a_wrong_key(client):
    created = await create(client)
    for path, methods in (("/v1/providers", "GET, OPTIONS, POST"), (f"/v1/providers/{created['id']}", "DELETE, GET, OPTIONS, PATCH"), ("/v1/me/npis", "GET, OPTIONS, POST")):
        response = await client.options(path)
        assert response.headers["allow"] == methods, (path, response.headers.get("allow"))
    assert_problem(await client.get("/v1/changes", headers={**ADMIN, "X-API-Key": ""}), 401)


async def test_hsds_search_takes_percent_and_underscore_literally(client):
    await create(client, name="Harbor Ketamine Clinic")
    assert (await client.get("/hsds/organizations", params={"search": "harbor"})).json()["total_items"] == 1
    for text in ("%", "_", "har%or"):
        assert (await client.get("/hsds/organizations", params={"search": text})).json()["total_items"] == 0, text


async def test_geojson_has_an_operation_of_its_own(client):
    await create(client)
    answer = await client.get("/v1/search.geojson", params={"lat": 40.75, "lon": -73.99})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/geo+json")
    assert answer.json()["type"] == "FeatureCollection" and len(answer.json()["features"]) == 1


async def test_the_document_says_what_is_required_closed_and_answered(client):
    document = (await client.get("/schema/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    for method in ("patch", "delete"):
        if_match = [p for p in paths["/v1/providers/{key}"][method]["parameters"] if p["name"] == "If-Match"]
        assert if_match and if_match[0]["required"] is True, method
    assert schemas["ProviderUpdate"]["additionalProperties"] is False and schemas["AccountCreate"]["additionalProperties"] is False
    assert {"type": "null"} not in schemas["ProviderUpdate"]["properties"]["status"].get("oneOf", [])
    assert {"type": "null"} in schemas["ProviderUpdate"]["properties"]["description"]["oneOf"]
    assert set(paths["/v1/search"]["get"]["responses"]["200"]["content"]) == {"application/json", "application/geo+json"}
    assert list(paths["/v1/search.geojson"]["get"]["responses"]["200"]["content"]) == ["application/geo+json"]
    assert "text/csv" in paths["/v1/imports"]["post"]["requestBody"]["content"]
    assert "application/fhir+json" in paths["/fhir/{resource_type}"]["get"]["responses"]["400"]["content"]
    links = paths["/v1/providers"]["post"]["responses"]["201"]["links"]
    assert links["ChangeListing"]["parameters"]["header.If-Match"] == "$response.header.ETag"


async def test_hsds_leaves_out_what_has_no_value_and_serves_each_taxonomy_and_term(client):
    await create(client)
    services = (await client.get("/hsds/services", params={"full": "true"})).json()["contents"]

    def nulls(value, where=""):
        if isinstance(value, dict):
            return [n for key, item in value.items() for n in ([f"{where}.{key}"] if item is None else nulls(item, f"{where}.{key}"))]
        if isinstance(value, list):
            return [n for index, item in enumerate(value) for n in nulls(item, f"{where}[{index}]")]
        return []

    assert services and nulls(services) == []
    assert "assured_date" not in services[0]  # never verified: left out, not null
    terms = (await client.get("/hsds/taxonomy_terms")).json()["contents"]
    ids = {term["id"] for term in terms}
    assert nulls(terms) == []  # a top-level term leaves parent_id out rather than sending null
    assert any("parent_id" not in term for term in terms)
    assert all(term["parent_id"] in ids for term in terms if "parent_id" in term)
    term = terms[0]
    assert (await client.get(f"/hsds/taxonomy_terms/{term['id']}")).json() == term
    assert (await client.get(f"/hsds/taxonomy_terms/{term['code']}")).json() == term
    taxonomy = (await client.get("/hsds/taxonomies")).json()["contents"][0]
    assert (await client.get(f"/hsds/taxonomies/{taxonomy['id']}")).json() == taxonomy
    assert_problem(await client.get("/hsds/taxonomy_terms/no-such-term"), 404)
    assert_problem(await client.get("/hsds/services", params={"format": "xml"}), 400, "format")
    assert (await client.get("/hsds/services", params={"format": "json"})).status_code == 200
    assert_problem(await client.get("/hsds/services", params={"minimal": "true"}), 400, "minimal")


async def test_fhir_negotiates_as_its_rest_rules_say(client):
    await create(client)
    outcome = await client.get("/fhir/Organization", params={"_format": "json", "bogus": "1"}, headers={"Accept": "*/*"})
    assert outcome.status_code == 400 and outcome.headers["content-type"].startswith("application/fhir+json")
    assert outcome.json()["resourceType"] == "OperationOutcome"
    xml = await client.get("/fhir/Organization", headers={"Accept": "application/fhir+xml"})
    assert xml.status_code == 406 and "JSON only" in xml.json()["issue"][0]["diagnostics"]
    overridden = await client.get("/fhir/Organization", params={"_format": "json"}, headers={"Accept": "application/fhir+xml"})
    assert overridden.status_code == 200 and overridden.json()["resourceType"] == "Bundle"
    assert (await client.get("/fhir/Organization", headers={"Accept": "application/fhir+json, application/fhir+xml;q=0.5"})).status_code == 200


async def test_a_token_this_directory_never_issued_is_named_as_such(client, settings):
    from litestar.testing import AsyncTestClient

    from directory.app import create_app

    problem = assert_problem(await client.post("/v1/providers", json=listing(), headers={"Authorization": "Bearer dev-secret"}), 401)
    assert "not one this directory issued" in problem["detail"] and "DIRECTORY_ADMIN_TOKEN" not in problem["detail"]
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"admin_token": None}))) as plain:
        problem = assert_problem(await plain.post("/v1/providers", json=listing(), headers={"Authorization": "Bearer dev-secret"}), 401)
        assert "started with DIRECTORY_ADMIN_TOKEN" in problem["detail"]
