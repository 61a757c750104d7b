"""The API documentation partners read: complete, and browsable without internet."""

from __future__ import annotations


async def test_every_route_is_documented(client):
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    operations = [op for path in document["paths"].values() for op in path.values() if isinstance(op, dict)]
    # Anyone may sign up, log in, report a problem with a listing, request a consultation and withdraw it.
    public_writes = {"/v1/accounts", "/v1/auth/token", "/v1/providers/{key}/reports", "/v1/providers/{key}/consultation-requests", "/v1/consultation-requests/{request_id}/withdrawal"}
    writes = [
        op
        for url, path in document["paths"].items()
        for method, op in path.items()
        if method in ("post", "patch", "delete") and url not in public_writes
    ]
    assert len(operations) >= 14
    for operation in operations:
        assert operation.get("description") or operation.get("summary"), operation["operationId"]
    # Webhook subscriptions are a partner's own: made with its sync key (or by an administrator).
    assert writes and all(
        op.get("security") in ([{"bearer": []}], [{"apiKey": []}, {"bearer": []}]) for op in writes
    )
    assert all(
        op["security"] == [{"apiKey": []}, {"bearer": []}]
        for url, path in document["paths"].items()
        if url.startswith("/v1/webhooks")
        for op in path.values()
        if isinstance(op, dict)
    )
    parameters = {p["name"]: p for p in document["paths"]["/v1/providers"]["get"]["parameters"]}
    assert {"status", "state", "updated_since", "limit", "cursor"} <= set(parameters)
    assert all(p.get("description") for p in parameters.values())


async def test_the_documentation_page_uses_only_local_assets(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "cdn" not in page.text and "/schema/assets/swagger-ui-bundle.js" in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert (await client.get(f"/schema/assets/{asset}")).status_code == 200


async def test_every_search_parameter_is_described_with_an_example(client):
    document = (await client.get("/schema/openapi.json")).json()
    parameters = document["paths"]["/v1/search"]["get"]["parameters"]
    from directory.search.routes import search

    assert {p["name"] for p in parameters} == set(search.parsed_fn_signature.parameters) - {"request", "state", "read_connection"}
    for parameter in parameters:
        assert parameter.get("description"), parameter["name"]
        if parameter["name"] != "cursor":
            assert parameter.get("examples"), parameter["name"]
    assert "near=10001" in document["paths"]["/v1/search"]["get"]["description"]


async def test_every_route_says_who_may_call_it(client):
    document = (await client.get("/schema/openapi.json")).json()
    assert {"bearer", "apiKey"} <= set(document["components"]["securitySchemes"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                text = operation.get("description", "")
                assert "Who:" in text or "Administrators only" in text, f"{method} {path}"


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    from directory.settings import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`DIRECTORY_{name.upper()}`" not in readme]
    assert missing == []


async def test_every_route_declares_its_problem_responses_as_problem_json(client):
    document = (await client.get("/schema/openapi.json")).json()
    assert "Problem" in document["components"]["schemas"]
    for url, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            errors = {code: spec for code, spec in operation["responses"].items() if int(code) >= 400}
            if not url.startswith(("/health", "/ready", "/schema")):
                assert {"401", "429"} <= set(errors), (method, url)
            if "{" in url:
                assert "404" in errors, (method, url)
            for code, spec in errors.items():
                # FHIR's errors are OperationOutcomes, whatever the Accept header.
                expected = ["application/fhir+json"] if url.startswith("/fhir/") else ["application/problem+json"]
                assert list(spec["content"]) == expected, (method, url, code)


async def test_what_every_route_answers_to_bad_requests_is_declared(client):
    """Each route, called anonymously and as the administrator with nonsense in every place (path,
    query, If-Match, body), answers only statuses its OpenAPI entry declares, and never 500."""
    from conftest import ADMIN, undeclared_errors

    document = (await client.get("/schema/openapi.json")).json()
    seen: set[tuple[str, str, int]] = set()
    for url, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            path = url
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    path = path.replace("{" + parameter["name"] + "}", "00000000-0000-0000-0000-000000000000")
            query = {p["name"]: "\u00a7nonsense" for p in operation.get("parameters", []) if p["in"] == "query"}
            for headers in ({}, {**ADMIN, "If-Match": '"nonsense"'}):
                response = await client.request(
                    method.upper(), path, params=query, headers=headers, json={"nonsense": [1, {"deeper": None}]} if method != "get" else None
                )
                assert response.status_code != 500, (method, path, response.text)
                if response.status_code >= 400:
                    seen.add((method.upper(), path, response.status_code))
    assert undeclared_errors(seen) == []


async def test_the_document_states_the_rules_the_server_enforces(client):
    """Rules schemathesis found missing: NPI, phone, state codes (also inside lists), email on log-in,
    a webhook update's events, origins without a path, a reason to reject or suspend."""
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]

    def branch(model: str, field: str) -> dict:
        declared = schemas[model]["properties"][field]
        return next((b for b in declared.get("oneOf", [declared]) if b.get("type") != "null"), declared)

    from directory.validation import EMAIL_PATTERN, NPI_PATTERN, PHONE_PATTERN, STATE_PATTERN

    assert branch("ProviderCreate", "npi")["pattern"] == NPI_PATTERN
    assert branch("ClinicianCreate", "npi")["pattern"] == NPI_PATTERN
    assert branch("ProviderCreate", "phone")["pattern"] == PHONE_PATTERN
    assert branch("LocationCreate", "state")["pattern"] == STATE_PATTERN
    assert branch("ProviderCreate", "telehealth_states")["items"]["pattern"] == STATE_PATTERN
    assert branch("Credentials", "email")["pattern"] == EMAIL_PATTERN
    assert branch("ApiKeyCreate", "owner_contact")["pattern"] == EMAIL_PATTERN
    import re

    assert re.fullmatch(EMAIL_PATTERN, "dev@partner.example") and not re.fullmatch(EMAIL_PATTERN, "d\x00v@partner.example")
    assert branch("WebhookUpdate", "events")["minItems"] == 1
    assert "pattern" in branch("ApiKeyCreate", "allowed_origins")["items"]
    assert schemas["ListingAction"]["allOf"][0]["then"]["required"] == ["reason"]
    assert schemas["DecisionIn"]["allOf"][0]["if"]["properties"]["decision"]["enum"] == ["reject"]
    assert schemas["ApiKeyCreate"]["allOf"][1]["then"]["properties"]["allowed_origins"]["maxItems"] == 0
    assert branch("ProviderCreate", "description")["pattern"] == "^[^\\u0000]*$"


def test_each_declared_pattern_accepts_exactly_what_its_validator_accepts():
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from directory.validation import PHONE_PATTERN, STATE_PATTERN, _state, normalise_phone

    def accepted(check, value: str) -> bool:
        try:
            check(value)
        except ValueError:
            return False
        return True

    alphabet = st.text(st.sampled_from("0123456789+() -./1xa"), max_size=24)

    @settings(max_examples=500, deadline=None)
    @given(st.one_of(alphabet, st.from_regex(PHONE_PATTERN, fullmatch=True)))
    def phones(value: str) -> None:
        assert bool(re.fullmatch(PHONE_PATTERN, value)) == accepted(normalise_phone, value), value

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.text(st.sampled_from("nyNYhiHIzZ "), max_size=3), st.from_regex(STATE_PATTERN, fullmatch=True)))
    def states(value: str) -> None:
        assert bool(re.fullmatch(STATE_PATTERN, value)) == accepted(_state, value), value

    from directory.partners.schemas import _ORIGIN_PATTERN, _origin

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.from_regex(_ORIGIN_PATTERN, fullmatch=True).filter(lambda v: len(v) <= 300), st.sampled_from(["https://[0]", "https://[1::2::3]", "https://a.example/x"])))
    def origins(value: str) -> None:
        assert bool(re.fullmatch(_ORIGIN_PATTERN, value)) == accepted(_origin, value), value

    phones()
    states()
    origins()
