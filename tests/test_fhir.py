"""FHIR R4 under /fhir: shapes checked with the fhir.resources models, searches against real data."""

from __future__ import annotations

import importlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conftest import ADMIN
from factories import changing, create, location

FHIR = {"Accept": "application/fhir+json"}


def check(resource: dict[str, Any]) -> dict[str, Any]:
    """Parse with the FHIR model library (R4B models: these resources are unchanged from R4)."""
    kind = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    getattr(module, kind).model_validate(resource)
    return resource


async def fhir_get(client, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=FHIR)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return check(response.json())


def assert_outcome(response, status: int, field: str | None = None) -> dict[str, Any]:
    """A FHIR error: an OperationOutcome with this status, naming ``field`` in an issue if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json"), response.headers["content-type"]
    outcome = check(response.json())
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"]
    if field is not None:
        assert any(field in issue.get("expression", []) for issue in outcome["issue"]), outcome
    return outcome


def resources(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == mode]


async def follow(client, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Every match of a search, following the next links."""
    found = resources(bundle)
    pages = 0
    while (following := next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)) is not None:
        url = urlsplit(following)
        bundle = await fhir_get(client, url.path, **{k: v[0] for k, v in parse_qs(url.query).items()})
        found += resources(bundle)
        pages += 1
        assert pages < 50
    return found


async def test_capability_statement_lists_what_is_supported(client):
    statement = await fhir_get(client, "/fhir/metadata")
    assert statement["fhirVersion"] == "4.0.1"
    by_type = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}
    assert set(by_type) == {"Organization", "Location", "HealthcareService", "Practitioner", "PractitionerRole", "CodeSystem"}
    assert [i["code"] for i in by_type.pop("CodeSystem")["interaction"]] == ["read"]
    for entry in by_type.values():
        assert [i["code"] for i in entry["interaction"]] == ["read", "search-type"]
    location_params = {p["name"] for p in by_type["Location"]["searchParam"]}
    assert {"near", "organization", "address-postalcode", "_lastUpdated"} <= location_params
    assert "PractitionerRole:practitioner" in by_type["PractitionerRole"]["searchInclude"]
    # Every advertised parameter is accepted by the search.
    for kind, entry in by_type.items():
        for param in entry["searchParam"]:
            value = {"near": "40.75|-73.99|5|km", "_lastUpdated": "ge2020-01-01", "active": "true"}.get(param["name"], "x")
            response = await client.get(f"/fhir/{kind}", params={param["name"]: value}, headers=FHIR)
            assert response.status_code == 200, (kind, param["name"], response.text)


async def test_a_listing_reads_as_organization_service_location_and_practitioners(client):
    body = await create(client, name="Hudson Ketamine", description="Infusions in Midtown.")
    pid = body["id"]
    organization = await fhir_get(client, f"/fhir/Organization/{pid}")
    assert organization["name"] == "Hudson Ketamine"
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893", "use": "official"} in organization["identifier"]
    assert organization["meta"]["versionId"] == str(body["version"])
    assert organization["address"][0]["postalCode"] == "10118"

    service = await fhir_get(client, f"/fhir/HealthcareService/{pid}")
    assert service["providedBy"]["reference"] == f"Organization/{pid}"
    assert [t["coding"][0]["code"] for t in service["type"]] == ["ketamine-iv"]
    assert {c["coding"][0]["code"] for c in service["characteristic"]} == {"ptsd", "treatment-resistant-depression"}
    assert service["specialty"][0]["coding"][0] == {
        "system": "http://nucc.org/provider-taxonomy", "code": "207L00000X", "display": "Anesthesiology"
    }
    extensions = {e["url"]: e for e in service["extension"]}
    accepting = extensions["http://hl7.org/fhir/us/ndh/StructureDefinition/base-ext-newpatients"]["extension"][0]
    assert accepting["valueCodeableConcept"]["coding"][0]["code"] == "newpt"
    methods = [
        e["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
        for e in service["extension"]
        if e["url"].endswith("base-ext-delivery-method")
    ]
    assert methods == ["physical", "virtual"]  # the test listing offers telehealth too

    location_id = body["locations"][0]["id"]
    place = await fhir_get(client, f"/fhir/Location/{location_id}")
    assert place["managingOrganization"]["reference"] == f"Organization/{pid}"
    assert place["hoursOfOperation"] == [{"daysOfWeek": ["mon"], "openingTime": "09:00:00", "closingTime": "17:00:00"}]
    assert place["position"]["latitude"] == body["locations"][0]["latitude"]

    clinician = body["clinicians"][0]
    person = await fhir_get(client, f"/fhir/Practitioner/{clinician['id']}")
    assert person["name"][0]["family"] == "Chen"
    assert person["qualification"][1]["identifier"][0]["value"] == "123456"
    assert person["qualification"][1]["period"]["end"] == "2027-06-30"

    roles = await fhir_get(client, "/fhir/PractitionerRole", practitioner=f"Practitioner/{clinician['id']}")
    [role] = resources(roles)
    assert role["organization"]["reference"] == f"Organization/{pid}"
    assert role["code"] == [{"text": "Medical director"}]
    again = await fhir_get(client, f"/fhir/PractitionerRole/{role['id']}")
    assert again["id"] == role["id"]


async def test_unpublished_listings_do_not_exist_here(client):
    draft = await create(client, status="draft")
    response = await client.get(f"/fhir/Organization/{draft['id']}")
    assert_outcome(response, 404)
    outcome = await client.get(f"/fhir/Organization/{draft['id']}", headers=FHIR)
    assert outcome.status_code == 404
    assert outcome.headers["content-type"].startswith("application/fhir+json")
    check(outcome.json())
    assert outcome.json()["issue"][0]["code"] == "not-found"
    bundle = await fhir_get(client, "/fhir/Organization", _id=draft["id"])
    assert resources(bundle) == []
    person = draft["clinicians"][0]["id"]
    assert (await client.get(f"/fhir/Practitioner/{person}")).status_code == 404
    assert (await client.get("/fhir/Organization/not-a-uuid")).status_code == 404


async def test_location_near_is_nearest_first_with_distances_and_a_radius(client):
    # Three clinics north of a point in Manhattan, about 1, 5 and 60 km away.
    base_lat, base_lon = 40.7500, -73.9900
    for name, lat in (("Far Clinic", 41.29), ("Near Clinic", 40.759), ("Middle Clinic", 40.795)):
        await create(client, name=name, locations=[location(latitude=lat, longitude=base_lon)])
    bundle = await fhir_get(client, "/fhir/Location", near=f"{base_lat}|{base_lon}|20|km", _sort="near", _total="accurate")
    names = [r["name"] for r in resources(bundle)]
    assert names == ["Near Clinic", "Middle Clinic"]
    assert bundle["total"] == 2
    distances = [e["search"]["extension"][0]["valueDistance"] for e in bundle["entry"]]
    assert [d["unit"] for d in distances] == ["km", "km"]
    assert 0.9 < distances[0]["value"] < 1.1 and 4.8 < distances[1]["value"] < 5.2
    # In miles, and page by page through the next links.
    first = await fhir_get(client, "/fhir/Location", near=f"{base_lat}|{base_lon}|50|[mi_i]", _sort="near", _count=1)
    assert len(resources(first)) == 1
    everything = await follow(client, first)
    assert [r["name"] for r in everything] == ["Near Clinic", "Middle Clinic", "Far Clinic"]
    assert first["entry"][0]["search"]["extension"][0]["valueDistance"]["code"] == "[mi_i]"


async def test_near_errors_name_the_parameter(client):
    for value in ("40.7|", "north|-73|5|km", "91|0|5|km", "40|-73|5|furlongs", "40|-73|0|km", "40|-73|5000|km"):
        response = await client.get("/fhir/Location", params={"near": value})
        assert_outcome(response, 400, "near")
    response = await client.get("/fhir/Location", params={"near": "40|-73|5|km", "address-state": "NY"})
    assert_outcome(response, 400, "address-state")
    response = await client.get("/fhir/Location", params={"near": "40|-73|5|km", "_cursor": "bogus"})
    assert_outcome(response, 400, "_cursor")
    response = await client.get("/fhir/Organization", params={"_sort": "near"})
    assert_outcome(response, 400, "_sort")


async def test_healthcare_service_by_type_specialty_and_condition(client):
    iv = await create(client, name="IV Clinic")
    spravato = await create(
        client,
        name="Spravato Clinic",
        services=[{"code": "esketamine-spravato"}],
        conditions=["major-depression"],
        clinicians=[{"first_name": "Ann", "last_name": "Roe", "credential": "MD", "specialty": "psychiatry"}],
    )

    async def ids(**params: Any) -> set[str]:
        return {r["id"] for r in resources(await fhir_get(client, "/fhir/HealthcareService", **params))}

    assert await ids(**{"service-type": "ketamine-iv"}) == {iv["id"]}
    assert await ids(**{"service-type": "ketamine-iv,esketamine-spravato"}) == {iv["id"], spravato["id"]}
    assert await ids(specialty="http://nucc.org/provider-taxonomy|2084P0800X") == {spravato["id"]}
    assert await ids(specialty="psychiatry") == {spravato["id"]}
    assert await ids(characteristic="ptsd") == {iv["id"]}
    assert await ids(**{"service-type": "http://elsewhere.example/cs|ketamine-iv"}) == set()
    assert await ids(organization=f"Organization/{iv['id']}") == {iv["id"]}


async def test_string_token_and_date_parameters(client):
    hudson = await create(client, name="Hudson Valley Ketamine", npi="1245319599")
    await create(client, name="Brooklyn Infusions", npi=None)

    async def names(kind: str = "Organization", **params: Any) -> set[str]:
        return {r.get("name") for r in resources(await fhir_get(client, f"/fhir/{kind}", **params))}

    assert await names(name="hudson") == {"Hudson Valley Ketamine"}
    assert await names(name="valley") == set()
    assert await names(**{"name:contains": "valley"}) == {"Hudson Valley Ketamine"}
    assert await names(**{"name:exact": "hudson valley ketamine"}) == set()
    assert await names(identifier="http://hl7.org/fhir/sid/us-npi|1245319599") == {"Hudson Valley Ketamine"}
    assert await names(identifier="1245319599") == {"Hudson Valley Ketamine"}
    assert await names(**{"address-postalcode": "10118"}) == {"Hudson Valley Ketamine", "Brooklyn Infusions"}
    assert await names(_lastUpdated="ge2000-01-01") == {"Hudson Valley Ketamine", "Brooklyn Infusions"}
    assert await names(_lastUpdated="lt2000-01") == set()
    updated = (await fhir_get(client, f"/fhir/Organization/{hudson['id']}"))["meta"]["lastUpdated"]
    assert await names(_lastUpdated=f"eq{updated[:10]}") == {"Hudson Valley Ketamine", "Brooklyn Infusions"}
    assert await names(_lastUpdated=["ge2000-01-01", "lt2000-02-01"]) == set()  # repeated: both must hold
    people = resources(await fhir_get(client, "/fhir/Practitioner", family="chen"))
    assert len(people) == 2

    # A change moves lastUpdated and the version.
    changed = await client.patch(f"/v1/providers/{hudson['id']}", json={"phone": "(212) 555-0199"}, headers=changing(ADMIN))
    assert changed.status_code == 200
    organization = await fhir_get(client, f"/fhir/Organization/{hudson['id']}")
    assert organization["meta"]["versionId"] == str(changed.json()["version"])


async def test_paging_follows_next_links_without_repeats(client):
    made = {(await create(client, name=f"Clinic {i:02d}"))["id"] for i in range(7)}
    first = await fhir_get(client, "/fhir/Organization", _count=3, _total="accurate")
    assert first["total"] == 7 and len(resources(first)) == 3
    found = [r["id"] for r in await follow(client, first)]
    assert len(found) == 7 and set(found) == made
    assert "total" not in await fhir_get(client, "/fhir/Organization")


async def test_include_adds_referenced_resources_once(client):
    body = await create(
        client,
        clinicians=[
            {"first_name": "Maya", "last_name": "Chen", "credential": "MD"},
            {"first_name": "Sam", "last_name": "Ortiz", "credential": "CRNA"},
        ],
    )
    bundle = await fhir_get(
        client,
        "/fhir/PractitionerRole",
        organization=body["id"],
        _include=["PractitionerRole:practitioner", "PractitionerRole:organization"],
    )
    assert len(resources(bundle)) == 2
    included = resources(bundle, "include")
    assert sorted(r["resourceType"] for r in included) == ["Organization", "Practitioner", "Practitioner"]
    places = await fhir_get(client, "/fhir/Location", organization=body["id"], _include="Location:organization")
    assert [r["resourceType"] for r in resources(places, "include")] == ["Organization"]
    for entry in bundle["entry"]:
        assert entry["fullUrl"].endswith(f"/fhir/{entry['resource']['resourceType']}/{entry['resource']['id']}")


async def test_unsupported_parameters_are_refused_unless_lenient(client):
    await create(client)
    response = await client.get("/fhir/Organization", params={"nmae": "x"})
    assert_outcome(response, 400, "nmae")
    outcome = await client.get("/fhir/Organization", params={"nmae": "x"}, headers=FHIR)
    assert outcome.status_code == 400
    check(outcome.json())
    assert outcome.json()["issue"][0]["expression"] == ["nmae"]
    lenient = await client.get("/fhir/Organization", params={"nmae": "x", "_count": 5}, headers={**FHIR, "Prefer": "handling=lenient"})
    assert lenient.status_code == 200
    self_link = lenient.json()["link"][0]["url"]
    assert "nmae" not in self_link and "_count=5" in self_link
    for params, field in (
        ({"_count": "0"}, "_count"),
        ({"_count": "many"}, "_count"),
        ({"_lastUpdated": "yesterday"}, "_lastUpdated"),
        ({"_lastUpdated": "ge2026-13-01"}, "_lastUpdated"),
        ({"_include": "Organization:endpoint"}, "_include"),
        ({"_cursor": "bogus"}, "_cursor"),
        ({"_format": "xml"}, "_format"),
        ({"name:fuzzy": "x"}, "name:fuzzy"),
        ({"name": ""}, "name"),
    ):
        assert_outcome(await client.get("/fhir/Organization", params=params), 400, field)
    assert_outcome(await client.get("/fhir/Patient"), 400, "resource_type")


def _first(resource: dict[str, Any], *path: Any) -> Any:
    value: Any = resource
    for step in path:
        value = value[step]
    return value


#: For each advertised search parameter, where its value sits in a resource of each type.
VALUE_OF: dict[str, Any] = {
    "_id": lambda kind, r: r["id"],
    "name": lambda kind, r: _first(r, "name", 0, "family") if kind == "Practitioner" else r["name"],
    "organization": lambda kind, r: _first(r, {"HealthcareService": "providedBy", "Location": "managingOrganization"}.get(kind, "organization"), "reference"),
    "location": lambda kind, r: _first(r, "location", 0, "reference"),
    "service": lambda kind, r: _first(r, "healthcareService", 0, "reference"),
    "practitioner": lambda kind, r: _first(r, "practitioner", "reference"),
    "service-type": lambda kind, r: _first(r, "type", 0, "coding", 0, "code"),
    "specialty": lambda kind, r: "|".join((_first(r, "specialty", 0, "coding", 0, "system"), _first(r, "specialty", 0, "coding", 0, "code"))),
    "characteristic": lambda kind, r: _first(r, "characteristic", 0, "coding", 0, "code"),
    "address-city": lambda kind, r: (r["address"] if kind == "Location" else r["address"][0])["city"],
    "address-state": lambda kind, r: (r["address"] if kind == "Location" else r["address"][0])["state"],
    "address-postalcode": lambda kind, r: (r["address"] if kind == "Location" else r["address"][0])["postalCode"],
    "near": lambda kind, r: f"{r['position']['latitude']}|{r['position']['longitude']}|1|km",
    "identifier": lambda kind, r: _first(r, "identifier", 0, "value"),
    "family": lambda kind, r: _first(r, "name", 0, "family"),
    "given": lambda kind, r: _first(r, "name", 0, "given", 0),
}


async def test_every_advertised_search_parameter_filters(client):
    """Two listings that differ in everything searchable. For each parameter the capability statement
    advertises, on each resource type: the value taken from the first listing's resource finds that
    resource and not the second listing's; `active` and `_lastUpdated` narrow to nothing with a value
    nothing has."""
    first = await create(client, name="Hudson Ketamine")
    second = await create(
        client,
        name="Bay Infusions",
        npi="1245319599",
        locations=[location(address_line1="1 Market St", city="San Francisco", state="CA", postal_code="94105", latitude=37.7936, longitude=-122.3950)],
        services=[{"code": "esketamine-spravato"}],
        conditions=["major-depression"],
        clinicians=[{"first_name": "Lee", "last_name": "Park", "credential": "MD", "specialty": "psychiatry", "npi": "1104025329"}],
    )
    statement = await fhir_get(client, "/fhir/metadata")
    checked = 0
    for entry in statement["rest"][0]["resource"]:
        kind = entry["type"]
        if "search-type" not in [i["code"] for i in entry["interaction"]]:
            continue  # CodeSystem: read only
        everything = await follow(client, await fhir_get(client, f"/fhir/{kind}", _count=100))
        mine = [r for r in everything if _belongs(r, first)]
        theirs = [r for r in everything if _belongs(r, second)]
        assert mine and theirs, kind
        for param in (p["name"] for p in entry["searchParam"]):
            if param in ("active", "_lastUpdated"):
                nothing = {"active": "false", "_lastUpdated": "lt2000-01-01"}[param]
                assert resources(await fhir_get(client, f"/fhir/{kind}", **{param: nothing})) == [], (kind, param)
                assert len(resources(await fhir_get(client, f"/fhir/{kind}", **{param: {"active": "true", "_lastUpdated": "ge2000-01-01"}[param]}))) == len(everything)
                continue
            value = VALUE_OF[param](kind, mine[0])
            found = {r["id"] for r in await follow(client, await fhir_get(client, f"/fhir/{kind}", **{param: value}))}
            assert mine[0]["id"] in found, (kind, param, value)
            assert not found & {r["id"] for r in theirs}, (kind, param, value)
            checked += 1
    assert checked >= 25


def _belongs(resource: dict[str, Any], listing: dict[str, Any]) -> bool:
    """Whether a FHIR resource comes from this listing (its id, or a reference to it, appears in it)."""
    import json

    text = json.dumps(resource)
    return resource["id"] == listing["id"] or f"Organization/{listing['id']}" in text or any(
        c["id"] == resource["id"] for c in listing["clinicians"]
    )


async def test_identifier_finds_by_system_and_value_and_by_value_alone(client):
    """Organization by its NPI or its listing slug, Practitioner and PractitionerRole by the
    clinician's NPI: each as system|value and as a bare value; another system finds nothing."""
    hudson = await create(client, name="Hudson Valley Ketamine", npi="1245319599")
    await create(client, name="Bay Infusions", npi="1104025329", clinicians=[{"first_name": "Lee", "last_name": "Park", "credential": "MD", "npi": "1003000126"}])
    base = (await fhir_get(client, "/fhir/metadata"))["implementation"]["url"].rstrip("/")
    slug_system = f"{base}/sid/listing-slug"
    npi_system = "http://hl7.org/fhir/sid/us-npi"

    async def found(kind: str, identifier: str) -> list[dict[str, Any]]:
        return resources(await fhir_get(client, f"/fhir/{kind}", identifier=identifier))

    organization = (await fhir_get(client, f"/fhir/Organization/{hudson['id']}"))
    assert {"system": slug_system, "value": hudson["slug"]} in organization["identifier"]
    for value in (f"{slug_system}|{hudson['slug']}", hudson["slug"], f"{npi_system}|1245319599", "1245319599", f"|{hudson['slug']}"):
        assert [r["id"] for r in await found("Organization", value)] == [hudson["id"]], value
    for value in (f"{npi_system}|{hudson['slug']}", f"{slug_system}|1245319599", f"http://elsewhere.example/ids|{hudson['slug']}"):
        assert await found("Organization", value) == [], value
    assert len(await found("Organization", f"{hudson['slug']},1104025329")) == 2  # a comma is OR
    chen = hudson["clinicians"][0]
    for kind in ("Practitioner", "PractitionerRole"):
        for value in (f"{npi_system}|1234567893", "1234567893"):
            hits = await found(kind, value)
            assert len(hits) == 1 and chen["id"] in json_text(hits[0]), (kind, value)
            assert {"system": npi_system, "value": "1234567893"} == {k: hits[0]["identifier"][0][k] for k in ("system", "value")}
        assert await found(kind, f"{slug_system}|1234567893") == []
    assert len(await found("PractitionerRole", "1003000126")) == 1


def json_text(resource: dict[str, Any]) -> str:
    import json

    return json.dumps(resource)


async def test_fhir_errors_are_operation_outcomes_whatever_the_accept_header(client):
    for accept in ("*/*", "application/json", "application/problem+json", "text/html", None):
        headers = {"Accept": accept} if accept else {}
        assert_outcome(await client.get("/fhir/Organization/00000000-0000-0000-0000-000000000000", headers=headers), 404)
        assert_outcome(await client.get("/fhir/Organization", params={"bogus": "1"}, headers=headers), 400, "bogus")
    assert_outcome(await client.get("/fhir/Organization", headers={"Accept": "application/fhir+xml"}), 406)


async def test_the_taxonomies_are_code_systems_with_their_hierarchy(client):
    condition = await fhir_get(client, "/fhir/CodeSystem/condition")
    assert condition["resourceType"] == "CodeSystem" and condition["hierarchyMeaning"] == "is-a"
    assert condition["url"].endswith("/fhir/CodeSystem/condition")
    roots = {concept["code"]: concept for concept in condition["concept"]}
    narrower = {concept["code"]: concept for concept in roots["depression"]["concept"]}
    assert set(narrower) == {"major-depression", "treatment-resistant-depression", "postpartum-depression", "bipolar-depression"}
    assert {"code": "parent", "valueCode": "depression"} in narrower["postpartum-depression"]["property"]
    assert {"code": "icd-10-cm", "valueCode": "F53.0"} in narrower["postpartum-depression"]["property"]
    assert "postpartum-depression" not in roots
    service = await fhir_get(client, "/fhir/CodeSystem/service")
    assert "ketamine-iv" in {c["code"] for c in next(c for c in service["concept"] if c["code"] == "ketamine")["concept"]}
    missing = await client.get("/fhir/CodeSystem/other", headers=FHIR)
    assert missing.status_code == 404


async def test_a_broad_characteristic_finds_the_narrower_ones_and_standard_codes_are_given(client):
    await create(client, name="Perinatal Care", status="published", conditions=["postpartum-depression"])
    found = await fhir_get(client, "/fhir/HealthcareService", characteristic="depression")
    assert [entry["resource"]["name"] for entry in found.get("entry", [])] == ["Perinatal Care"]
    coding = found["entry"][0]["resource"]["characteristic"][0]["coding"]
    assert {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F53.0", "display": "Postpartum depression"} in coding
    assert (await fhir_get(client, "/fhir/HealthcareService", characteristic="major-depression")).get("entry", []) == []


async def test_a_telehealth_only_listing_is_a_virtual_service_with_its_coverage_area(client):
    body = {"name": "Online Only", "status": "published", "telehealth": True, "telehealth_states": ["CA"], "conditions": ["ptsd"]}
    created = (await client.post("/v1/providers", json=body, headers=ADMIN)).json()
    service = await fhir_get(client, f"/fhir/HealthcareService/{created['id']}")
    assert service["coverageArea"] == [{"display": "Telehealth in CA"}]
    assert "virtual" in json.dumps(service["extension"])
    assert "location" not in service


async def test_accessibility_terms_are_ndh_extensions_and_rems_is_described(client):
    created = await create(client, name="Accessible", status="published", locations=[location(accessibility_features=["elevator", "near_public_transit"], rems_certified_on="2025-03-01")])
    resource = await fhir_get(client, f"/fhir/Location/{created['locations'][0]['id']}")
    found = [e["valueCodeableConcept"] for e in resource["extension"] if e["url"].endswith("base-ext-accessibility")]
    assert [concept["text"] for concept in found] == ["Elevator", "Near public transit"]
    assert {"system": "http://hl7.org/fhir/us/ndh/CodeSystem/AccessibilityCS", "code": "pubtrans", "display": "public transit options"} in found[1]["coding"]
    assert "REMS" in resource["description"] and "2025-03-01" in resource["description"]
