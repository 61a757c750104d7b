"""Partner keys, rate limits (also across two app instances sharing Redis), and security basics."""

from __future__ import annotations

import uuid

import pytest
from conftest import ADMIN
from factories import account, assert_problem, create, listing
from litestar.testing import AsyncTestClient

from directory.app import create_app


async def _key(client, **overrides) -> dict:
    body = {"name": "Publisher", "owner_contact": "dev@publisher.example", "scopes": ["read"], "rate_limit": 5, **overrides}
    response = await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_key_is_shown_once_and_stored_hashed(client):
    created = await _key(client)
    assert created["key"].startswith(f"dir_{created['prefix']}_")
    listed = (await client.get("/v1/admin/api-keys", headers=ADMIN)).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0] and created["key"] not in str(listed)


async def test_only_admins_manage_keys(client):
    moderator = await account(client, role="moderator")
    assert_problem(await client.post("/v1/admin/api-keys", json={"name": "x", "owner_contact": "a@b.example"}, headers=moderator), 403)
    assert_problem(await client.get("/v1/admin/api-keys"), 401)


async def test_a_key_has_its_own_limit_and_usage(client):
    key = await _key(client, rate_limit=3)
    headers = {"X-API-Key": key["key"]}
    for remaining in (2, 1, 0):
        response = await client.get("/v1/conditions", headers=headers)
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3" and response.headers["ratelimit-remaining"] == str(remaining)
    refused = await client.get("/v1/conditions", headers=headers)
    problem = assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1 and refused.headers["ratelimit-remaining"] == "0"
    assert "3 requests a minute" in problem["detail"]
    usage = (await client.get("/v1/admin/api-keys", headers=ADMIN)).json()[0]["usage"]
    assert sum(usage.values()) == 4
    # Anonymous traffic from the same address is counted apart.
    assert (await client.get("/v1/conditions")).status_code == 200


async def test_wrong_and_revoked_keys_are_refused(client):
    key = await _key(client)
    assert_problem(await client.get("/v1/conditions", headers={"X-API-Key": "dir_nothere_x"}), 401)
    assert_problem(await client.get("/v1/conditions", headers={"X-API-Key": key["key"] + "x"}), 401)
    assert_problem(await client.get("/v1/conditions", headers={"X-API-Key": "garbage"}), 401)
    assert (await client.delete(f"/v1/admin/api-keys/{key['id']}", headers=ADMIN)).json()["revoked_at"]
    assert_problem(await client.get("/v1/conditions", headers={"X-API-Key": key["key"]}), 401)


async def test_a_partner_key_reads_but_never_writes(client):
    key = await _key(client, rate_limit=100)
    await create(client)
    assert (await client.get("/v1/search", headers={"X-API-Key": key["key"]})).status_code == 200
    assert_problem(await client.post("/v1/providers", json=listing(), headers={"X-API-Key": key["key"]}), 403)


async def test_anonymous_clients_have_a_per_address_limit(settings):
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"anonymous_rate_limit": 2}))) as limited:
        assert (await limited.get("/v1/conditions")).status_code == 200
        assert (await limited.get("/v1/services")).status_code == 200
        assert_problem(await limited.get("/v1/search"), 429)
        assert (await limited.get("/health")).status_code == 200  # probes are never limited


@pytest.fixture
def shared_redis(own_redis) -> str:
    """A Redis the two app instances share: the test's own, so that no other run sees or clears it."""
    return own_redis.url


async def test_two_app_instances_share_the_limit_through_redis(settings, shared_redis):
    shared = settings.model_copy(update={"redis_url": shared_redis, "anonymous_rate_limit": 4})
    async with AsyncTestClient(app=create_app(shared)) as first, AsyncTestClient(app=create_app(shared)) as second:
        statuses = [(await (first if n % 2 else second).get("/v1/conditions")).status_code for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_security_headers_on_every_answer(client):
    # Also where no route matches (the framework answers those before any route's middleware).
    for path in ("/v1/conditions", "/v1/providers/nope", "/health", "/no/such/route", "/v1/nope"):
        response = await client.get(path)
        assert len(response.headers["x-request-id"]) == 32, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    docs = await client.get("/schema")
    assert "script-src 'self'" in docs.headers["content-security-policy"]


async def test_a_body_over_the_limit_is_refused(settings):
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"max_body_bytes": 2048}))) as small:
        response = await small.post(
            "/v1/providers", content=b'{"name": "' + b"x" * 5000 + b'"}', headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert_problem(response, 413)


async def test_cors_allows_configured_origins_only(settings):
    configured = settings.model_copy(update={"cors_origins": ["https://www.directory.example"]})
    async with AsyncTestClient(app=create_app(configured)) as browser:
        allowed = await browser.get("/v1/conditions", headers={"Origin": "https://www.directory.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://www.directory.example"
        other = await browser.get("/v1/conditions", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_public_answers_carry_no_emails_hashes_or_internal_notes(client):
    owner = await account(client)
    mine = (await client.post("/v1/providers", json=listing(status="draft"), headers=owner)).json()
    await client.patch(f"/v1/providers/{mine['id']}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})
    me = (await client.get("/v1/me", headers=owner)).json()
    for response in (
        await client.get(f"/v1/providers/{mine['id']}"),
        await client.get("/v1/providers"),
        await client.get("/v1/search", params={"near": "10001"}),
    ):
        text = response.text
        assert me["email"] not in text and "argon2" not in text and "password" not in text
        assert str(uuid.UUID(me["id"])) not in text  # owners are not public
        assert "pending_changes\":[" not in text
