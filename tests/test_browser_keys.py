"""Browser keys: publishable partner keys, read only, bound to origins, answered with CORS per key;
secret keys are refused from web pages and in URLs."""

from __future__ import annotations

from conftest import ADMIN
from factories import assert_problem, create

SITE = "https://www.publisher.example"


async def _browser_key(client, origins=(SITE,), **overrides) -> dict:
    body = {"name": "Publisher widget", "owner_contact": "dev@publisher.example", "kind": "browser", "allowed_origins": list(origins), "rate_limit": 50, **overrides}
    response = await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_browser_key_is_made_for_origins_and_can_only_read(client):
    created = await _browser_key(client, origins=["https://WWW.Publisher.example/", "http://localhost:3000"])
    assert created["key"].startswith(f"pk_{created['prefix']}_")
    assert created["kind"] == "browser" and created["scopes"] == ["read"]
    assert created["allowed_origins"] == ["http://localhost:3000", SITE]  # normalised: lower case, no slash
    listed = (await client.get("/v1/admin/api-keys", headers=ADMIN)).json()
    assert listed[0]["kind"] == "browser" and listed[0]["allowed_origins"] == created["allowed_origins"]


async def test_browser_keys_are_checked_when_made(client):
    base = {"name": "Widget", "owner_contact": "dev@publisher.example"}
    assert_problem(await client.post("/v1/admin/api-keys", json={**base, "kind": "browser"}, headers=ADMIN), 422, "allowed_origins")
    sync = {**base, "kind": "browser", "allowed_origins": [SITE], "scopes": ["read", "sync"]}
    assert_problem(await client.post("/v1/admin/api-keys", json=sync, headers=ADMIN), 422, "scopes")
    secret = {**base, "allowed_origins": [SITE]}
    assert_problem(await client.post("/v1/admin/api-keys", json=secret, headers=ADMIN), 422, "allowed_origins")
    for bad in ("www.publisher.example", "https://www.publisher.example/page", "javascript:alert(1)", "https://"):
        response = await client.post("/v1/admin/api-keys", json={**base, "kind": "browser", "allowed_origins": [bad]}, headers=ADMIN)
        assert_problem(response, 422, "allowed_origins.0")


async def test_a_browser_key_in_the_url_reads_from_its_origin_with_cors_for_it(client):
    await create(client, name="Keyed Clinic")
    key = (await _browser_key(client, rate_limit=2))["key"]
    answer = await client.get(f"/v1/search?near=10001&key={key}", headers={"Origin": SITE})
    assert answer.status_code == 200, answer.text
    assert [hit["provider"]["name"] for hit in answer.json()["items"]] == ["Keyed Clinic"]
    assert answer.headers["access-control-allow-origin"] == SITE and "Origin" in answer.headers["vary"]
    assert "ETag" in answer.headers["access-control-expose-headers"]
    assert answer.headers["ratelimit-limit"] == "2"  # the key's own limit
    # The key is the edge's: routes that refuse unknown parameters never see it.
    fhir = await client.get(f"/fhir/Organization?key={key}", headers={"Origin": SITE})
    assert fhir.status_code == 200, fhir.text
    limited = await client.get(f"/v1/conditions?key={key}", headers={"Origin": SITE})
    assert_problem(limited, 429)
    assert limited.headers["access-control-allow-origin"] == SITE  # the widget can read why
    usage = (await client.get("/v1/admin/api-keys", headers=ADMIN)).json()[0]["usage"]
    assert sum(usage.values()) == 3


async def test_a_browser_key_is_refused_elsewhere_and_for_writes(client):
    key = (await _browser_key(client))["key"]
    other = await client.get(f"/v1/conditions?key={key}", headers={"Origin": "https://copycat.example"})
    problem = assert_problem(other, 403)
    assert "not allowed on pages of https://copycat.example" in problem["detail"]
    assert other.headers["access-control-allow-origin"] == "https://copycat.example"  # so the widget can say so
    server = await client.get(f"/v1/conditions?key={key}")
    assert "no Origin header" in assert_problem(server, 403)["detail"]
    write = await client.post("/v1/providers", json={"name": "x"}, headers={"X-API-Key": key, "Origin": SITE})
    assert "can only read" in assert_problem(write, 403)["detail"]
    sync = await client.get(f"/v1/changes?key={key}", headers={"Origin": SITE})
    assert_problem(sync, 403)


async def test_a_secret_key_is_refused_from_a_web_page_and_in_a_url(client):
    body = {"name": "Server", "owner_contact": "dev@publisher.example", "scopes": ["read", "sync"]}
    key = (await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)).json()["key"]
    assert (await client.get("/v1/conditions", headers={"X-API-Key": key})).status_code == 200
    from_page = await client.get("/v1/conditions", headers={"X-API-Key": key, "Origin": SITE})
    assert "secret API key was sent from a web page" in assert_problem(from_page, 403)["detail"]
    in_url = await client.get(f"/v1/conditions?key={key}")
    assert "must not travel in a URL" in assert_problem(in_url, 400, "key")["detail"]
