"""What the README promises about settings and limits, each held to its word: the read replica,
DIRECTORY_PUBLIC_URL, X-Forwarded-For behind a proxy, token expiry, the per-address login limit, the
import limits, and /ready on a database behind the code."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from conftest import ADMIN, LiveServer, empty_listings, make_settings, prepared
from factories import assert_problem, create
from litestar.testing import AsyncTestClient

from directory import migrate
from directory.app import create_app


async def test_reads_go_to_the_read_replica_and_writes_to_the_primary(tmp_path):
    """Two SQLite files stand for a primary and its replica (not replicating): a write lands in the
    primary; search and the public reads answer from the replica."""
    primary = await prepared(f"sqlite+aiosqlite:///{tmp_path / 'primary.db'}")
    replica = await prepared(f"sqlite+aiosqlite:///{tmp_path / 'replica.db'}")
    async with AsyncTestClient(app=create_app(make_settings(primary, read_database_url=replica))) as client:
        made = await create(client, name="Primary Only Clinic")
        assert (await client.get("/v1/search", params={"near": "10118"})).json()["items"] == []  # the replica has not got it
        assert_problem(await client.get(f"/v1/providers/{made['id']}"), 404)
    async with AsyncTestClient(app=create_app(make_settings(primary))) as client:
        assert (await client.get(f"/v1/providers/{made['id']}")).status_code == 200  # it is in the primary


async def test_public_url_makes_the_absolute_links(settings):
    await empty_listings(settings.database_url)
    public = settings.model_copy(update={"public_url": "https://api.directory.example"})
    async with AsyncTestClient(app=create_app(public)) as client:
        await create(client)
        assert (await client.get("/hsds/")).json()["openapi_url"] == "https://api.directory.example/schema/openapi.json"
        bundle = (await client.get("/fhir/Organization")).json()
        assert bundle["link"][0]["url"].startswith("https://api.directory.example/fhir/Organization")
        assert all(entry["fullUrl"].startswith("https://api.directory.example/fhir/Organization/") for entry in bundle["entry"])


async def test_behind_a_proxy_each_forwarded_address_has_its_own_limit(settings):
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 (the proxy): the per-address limit counts the
    client it names, not the proxy."""
    await empty_listings(settings.database_url)
    with LiveServer(settings.model_copy(update={"anonymous_rate_limit": 3})) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            first = [await client.get("/v1/conditions", headers={"X-Forwarded-For": "203.0.113.7"}) for _ in range(4)]
            assert [r.status_code for r in first] == [200, 200, 200, 429]
            assert (await client.get("/v1/conditions", headers={"X-Forwarded-For": "198.51.100.9"})).status_code == 200


async def test_an_expired_token_is_refused_with_a_message_that_says_so(client, settings):
    from directory.accounts import tokens

    email = f"{uuid.uuid4().hex[:8]}@expiry.example"
    created = await client.post("/v1/accounts", json={"email": email, "password": "a long passphrase 1"})
    assert created.status_code == 201, created.text
    old, _ = tokens.issue(uuid.UUID(created.json()["id"]), "provider", settings.secret_key, timedelta(minutes=-1))
    problem = assert_problem(await client.get("/v1/me", headers={"Authorization": f"Bearer {old}"}), 401)
    assert "expired" in problem["detail"]


async def test_the_per_address_login_limit_holds_across_accounts(settings):
    """Each attempt is counted per address, whatever email it names: after 20 from one address
    (README), the next is 429 with Retry-After, while another address still gets an answer."""
    await empty_listings(settings.database_url)
    with LiveServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:

            async def attempt(n: int, address: str) -> httpx.Response:
                body = {"email": f"someone{n}@guess.example", "password": "not the password"}
                return await client.post("/v1/auth/token", json=body, headers={"X-Forwarded-For": address})

            answers = [await attempt(n, "203.0.113.50") for n in range(21)]
            assert {a.status_code for a in answers[:20]} == {401} and answers[20].status_code == 429
            assert int(answers[20].headers["retry-after"]) >= 1
            assert (await attempt(99, "203.0.113.51")).status_code == 401


async def test_import_limits_of_10_mib_and_5000_rows(client):
    header = "external_id,name,postal_code\n"
    rows = "".join(f"x-{n},Clinic {n},10001\n" for n in range(5001))
    many = await client.post("/v1/imports", content=(header + rows).encode(), headers={**ADMIN, "Content-Type": "text/csv"})
    assert assert_problem(many, 422, "body")["errors"][0]["reason"] == "at most 5000 rows per import; split the file"
    huge = header.encode() + b"x" * (10 * 1024 * 1024)
    assert_problem(await client.post("/v1/imports", content=huge, headers={**ADMIN, "Content-Type": "text/csv"}), 413)


async def test_ready_says_migrations_are_pending_on_a_database_behind_the_code(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    migrate.upgrade(url, "0010")
    async with AsyncTestClient(app=create_app(make_settings(url))) as client:
        problem = assert_problem(await client.get("/ready"), 503)
        assert "run 'directory db upgrade'" in problem["detail"] and "0010" in problem["detail"]
        assert (await client.get("/health")).status_code == 200
