"""No input produces a 500: generated garbage for every search and list parameter gets a 2xx or a problem."""

from __future__ import annotations

from factories import create
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SEARCH_PARAMETERS = [
    "lat", "lon", "near", "bbox", "radius", "unit", "condition", "condition_match", "service", "route", "credential",
    "specialty", "telehealth", "accepting_new_patients", "insurance", "payment", "language", "max_price", "verified",
    "open_now", "at", "q", "group", "sort", "limit", "cursor", "total", "facets", "format",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1e308", "nan", "inf", "91", "-181", "true", "maybe", "10001", "ptsd", "TRD",
                     "Austin, TX", "1,2,3,4", "170,50,-170,56", "-74,41,-73,40", "km", "mi", "all", "location",
                     "distance", "relevance", "geojson", "2026-11-23T10:00:00", "2026-11-23T10:00:00Z", "%", "_",
                     "'; DROP TABLE provider; --", "40|-74|5|km", "40|-74|5|parsec", "\u0000", "ü" * 300]),
    st.text(max_size=40),
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(SEARCH_PARAMETERS), VALUES, max_size=6))
async def test_search_never_fails_with_a_server_error(client, params):
    response = await client.get("/v1/search", params=params)
    assert response.status_code < 500, (params, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(st.sampled_from(["status", "state", "updated_since", "limit", "cursor"]), VALUES, max_size=4),
    key=st.text(st.characters(min_codepoint=0xA1, max_codepoint=0x2FFF) | st.sampled_from("abc-_.~019"), max_size=30),
)
async def test_listing_reads_never_fail_with_a_server_error(client, params, key):
    assert (await client.get("/v1/providers", params=params)).status_code < 500
    assert (await client.get(f"/v1/providers/{key}x")).status_code < 500


PROVIDER_FIELDS = [
    "name", "description", "website", "phone", "email", "npi", "status", "accepting_new_patients", "telehealth",
    "telehealth_states", "payment_options", "insurance_carriers", "price", "languages", "routes", "rems_certified",
    "services", "conditions",
]  # fmt: skip
LOCATION_FIELDS = [
    "name", "address_line1", "city", "state", "postal_code", "country", "latitude", "longitude", "phone", "timezone",
    "hours", "accessibility",
]  # fmt: skip
CLINICIAN_FIELDS = ["first_name", "last_name", "credential", "specialty", "npi", "licenses", "board_certifications", "role"]
BODY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100_000),
    st.sampled_from(["", "x", "NY", "10001", "ptsd", "MD", "America/New_York", "1234567893", "published", "draft"]),
    st.just([]),
    st.just(["en", "en"]),
    st.just([None]),
    st.just({"min": 1, "max": 2}),
    st.just({}),
    st.just([{"day": "mon", "opens": "09:00", "closes": "17:00"}]),
    st.just([{"code": "ketamine-iv"}]),
    st.just([{"state": "NY", "number": "1"}]),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(["provider", "location", "clinician"]),
    body=st.data(),
)
async def test_changes_never_fail_with_a_server_error_or_leave_a_broken_listing(client, target, body):
    from conftest import ADMIN, ADMIN_ANY

    listing = (await client.get("/v1/providers", headers=ADMIN)).json()["items"]
    if not listing:
        listing = [await create(client)]
    current = listing[0]
    fields = {"provider": PROVIDER_FIELDS, "location": LOCATION_FIELDS, "clinician": CLINICIAN_FIELDS}[target]
    data = body.draw(st.dictionaries(st.sampled_from(fields), BODY_VALUES, max_size=4))
    path = f"/v1/providers/{current['id']}"
    if target == "location" and current["locations"]:
        path += f"/locations/{current['locations'][0]['id']}"
    elif target == "clinician" and current["clinicians"]:
        path += f"/clinicians/{current['clinicians'][0]['id']}"
    response = await client.patch(path, json=data, headers=ADMIN_ANY)
    assert response.status_code < 500, (path, data, response.text)
    assert (await client.get(f"/v1/providers/{current['id']}", headers=ADMIN)).status_code == 200
