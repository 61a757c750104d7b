"""Partner sync: the change feed and the bulk export."""

from __future__ import annotations

import asyncio
import json
import random
import tracemalloc

import httpx
from conftest import ADMIN
from factories import account, assert_problem, changing, create


async def sync_key(client) -> dict[str, str]:
    body = {"name": "Mirror", "owner_contact": "dev@mirror.example", "scopes": ["read", "sync"], "rate_limit": 100_000}
    response = await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


async def follow(client, headers, mirror: dict[str, int], after: str | None = None, limit: int = 7) -> str | None:
    """Apply every feed entry from ``after`` to a mirror of {id: version}; the cursor to go on from."""
    while True:
        params = {"limit": limit, **({"after": after} if after is not None else {})}
        page = await client.get("/v1/changes", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        for entry in body["items"]:
            if entry["kind"] == "removed":
                mirror.pop(entry["id"], None)
            else:
                mirror[entry["id"]] = entry["version"]
        after = body["next_cursor"]
        if not body["has_more"]:
            return after


async def published(client) -> dict[str, int]:
    found: dict[str, int] = {}
    cursor = None
    while True:
        params = {"status": "published", "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/providers", params=params, headers=ADMIN)).json()
        found.update({item["id"]: item["version"] for item in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def test_following_the_feed_from_the_start_yields_exactly_the_published_listings(client):
    key = await sync_key(client)
    mirror: dict[str, int] = {}
    kept = await create(client, name="Kept Clinic")
    draft = await create(client, name="Draft Clinic", status="draft")
    closed = await create(client, name="Closed Clinic")
    cursor = await follow(client, key, mirror)
    assert set(mirror) == {kept["id"], closed["id"]}

    assert (await client.patch(f"/v1/providers/{kept['id']}", json={"name": "Kept Clinic Renamed"}, headers=changing(ADMIN))).status_code == 200
    assert (await client.delete(f"/v1/providers/{closed['id']}", headers=changing(ADMIN))).status_code == 200
    assert (await client.patch(f"/v1/providers/{draft['id']}", json={"description": "still a draft"}, headers=changing(ADMIN))).status_code == 200
    page = (await client.get("/v1/changes", params={"after": cursor}, headers=key)).json()
    assert [(e["id"], e["kind"], e["version"]) for e in page["items"]] == [
        (kept["id"], "updated", 2),
        (closed["id"], "removed", 2),
    ]  # the draft's change is nobody's business
    assert (await client.patch(f"/v1/providers/{draft['id']}", json={"status": "published"}, headers=changing(ADMIN))).status_code == 200
    assert (await client.patch(f"/v1/providers/{closed['id']}", json={"status": "published"}, headers=changing(ADMIN))).status_code == 200
    await follow(client, key, mirror, cursor)
    assert mirror == await published(client)
    kinds = [e["kind"] for e in (await client.get("/v1/changes", params={"limit": 100}, headers=key)).json()["items"]]
    assert kinds == ["created", "created", "updated", "removed", "created", "created"]


async def test_the_feed_pages_and_polls_with_its_cursor(client):
    key = await sync_key(client)
    for n in range(5):
        await create(client, name=f"Clinic {n}")
    first = (await client.get("/v1/changes", params={"limit": 2}, headers=key)).json()
    assert len(first["items"]) == 2 and first["has_more"] and first["next_cursor"] == first["items"][-1]["cursor"]
    rest = (await client.get("/v1/changes", params={"after": first["next_cursor"], "limit": 10}, headers=key)).json()
    assert len(rest["items"]) == 3 and not rest["has_more"]
    idle = (await client.get("/v1/changes", params={"after": rest["next_cursor"]}, headers=key)).json()
    assert idle == {"items": [], "next_cursor": rest["next_cursor"], "has_more": False}


async def test_the_feed_is_for_sync_keys_and_administrators(client):
    assert_problem(await client.get("/v1/changes"), 401)
    reader = await client.post(
        "/v1/admin/api-keys", json={"name": "Reader", "owner_contact": "r@x.example", "scopes": ["read"]}, headers=ADMIN
    )
    assert_problem(await client.get("/v1/changes", headers={"X-API-Key": reader.json()["key"]}), 403)
    assert_problem(await client.get("/v1/changes", headers=await account(client)), 403)
    assert_problem(await client.get("/v1/export/providers.ndjson"), 401)
    assert (await client.get("/v1/changes", headers=ADMIN)).status_code == 200
    for bad in ["abc", "-1", "1.5", "9" * 30]:
        assert_problem(await client.get("/v1/changes", params={"after": bad}, headers=ADMIN), 400, "after")
    assert_problem(await client.get("/v1/changes", params={"limit": 0}, headers=ADMIN), 400, "limit")


async def test_a_follower_ends_with_the_published_listings_while_writes_go_on(live_url):
    client = httpx.AsyncClient(base_url=live_url, timeout=60)
    key = await sync_key(client)
    rng = random.Random(5)
    ids = [(await create(client, name=f"Busy Clinic {n}", status=rng.choice(["published", "draft"])))["id"] for n in range(12)]
    mirror: dict[str, int] = {}
    done = asyncio.Event()

    async def writer(worker: int) -> None:
        for step in range(15):
            target = rng.choice(ids)
            current = await client.get(f"/v1/providers/{target}", headers=ADMIN)
            change = rng.choice([{"status": "published"}, {"status": "draft"}, {"description": f"w{worker} s{step}"}])
            if change.get("status") == "draft" and current.json()["status"] == "closed":
                change = {"status": "published"}
            response = await client.patch(
                f"/v1/providers/{target}", json=change, headers={**ADMIN, "If-Match": current.headers["etag"]}
            )
            assert response.status_code in (200, 412), response.text
            if rng.random() < 0.1:
                response = await client.delete(f"/v1/providers/{target}", headers={**ADMIN, "If-Match": "*"})
                assert response.status_code == 200, response.text

    async def follower() -> None:
        cursor = None
        while not done.is_set():
            cursor = await follow(client, key, mirror, cursor, limit=5)
            await asyncio.sleep(0.01)
        await follow(client, key, mirror, cursor, limit=5)

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(n) for n in range(4)))
    done.set()
    await following
    truth = await published(client)
    await client.aclose()
    assert mirror == truth


async def test_the_export_streams_every_published_listing_and_says_where_the_feed_stands(client):
    key = await sync_key(client)
    first = await create(client, name="Export One")
    await create(client, name="Export Draft", status="draft")
    response = await client.get("/v1/export/providers.ndjson", headers=key)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["name"] for line in lines] == ["Export One"]
    assert lines[0] == (await client.get(f"/v1/providers/{first['id']}")).json()
    position = response.headers["x-feed-cursor"]
    second = await create(client, name="Export Two")
    since = await client.get("/v1/export/providers.ndjson", params={"after": position}, headers=key)
    assert [json.loads(line)["id"] for line in since.text.splitlines()] == [second["id"]]
    changes = (await client.get("/v1/changes", params={"after": position}, headers=key)).json()["items"]
    assert [c["id"] for c in changes] == [second["id"]]
    later = await client.get("/v1/export/providers.ndjson", params={"changed_since": "2999-01-01T00:00:00Z"}, headers=key)
    assert later.status_code == 200 and later.text == ""
    assert_problem(await client.get("/v1/export/providers.ndjson", params={"changed_since": "yesterday"}, headers=key), 400, "changed_since")


async def test_the_export_keeps_memory_flat_as_the_directory_grows(client, database):
    """Export peak memory (traced in this process, which also runs the app) for 300 and for 1,500
    listings: with batches it should hardly grow; loading everything at once would grow ~5x."""
    key = await sync_key(client)

    async def add(count: int, start: int) -> None:
        from directory.listings.models import Location, Provider, ProviderCondition
        from directory.sync.feed import backfill_statement

        async with database.writer() as session, session.begin():
            for n in range(start, start + count):
                provider = Provider(name=f"Bulk Clinic {n:05d}", slug=f"bulk-clinic-{n:05d}", status="published", description="x" * 400)
                provider.locations = [Location(city="Austin", state="TX", latitude=30.2 + n * 1e-5, longitude=-97.7, country="US", coordinate_source="given", coordinate_precision="exact")]
                provider.conditions = [ProviderCondition(condition_code="ptsd")]
                session.add(provider)
            await session.flush()
            await session.execute(backfill_statement())

    async def peak() -> tuple[int, int]:
        tracemalloc.start()
        lines = 0
        async with client.stream("GET", "/v1/export/providers.ndjson", headers=key) as response:
            async for line in response.aiter_lines():
                lines += bool(line)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return lines, size

    await add(300, 0)
    small_lines, small = await peak()
    await add(1200, 300)
    large_lines, large = await peak()
    assert (small_lines, large_lines) == (300, 1500)
    assert large < small * 2, f"peak {small / 1e6:.1f} MB for 300 listings, {large / 1e6:.1f} MB for 1,500"
