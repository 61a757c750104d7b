"""Faults of the services the API leans on: it degrades, says so, and recovers without a restart.

These tests start their own Redis (a redis-server on a free port) and their own PostgreSQL cluster
(initdb in a temporary folder), and stop them on purpose."""

from __future__ import annotations

import logging
import socket

from factories import assert_problem
from litestar.testing import AsyncTestClient

from directory.app import create_app


async def test_a_redis_outage_degrades_to_local_limits_and_recovers(settings, own_redis, caplog):
    configured = settings.model_copy(update={"redis_url": own_redis.url, "anonymous_rate_limit": 1000})
    logging.getLogger("directory.ratelimit").addHandler(caplog.handler)
    async with AsyncTestClient(app=create_app(configured)) as client:
        now = [0.0]
        client.app.state.limits.clock = lambda: now[0]  # Redis is tried again every retry_seconds of this clock
        assert (await client.get("/v1/conditions")).status_code == 200
        assert (await client.get("/ready")).json()["limits"] == "redis: ok"
        own_redis.stop()
        answers = [await client.get("/v1/conditions") for _ in range(20)]
        assert {a.status_code for a in answers} == {200}, {a.status_code for a in answers}
        assert all("ratelimit-remaining" in a.headers for a in answers)  # still limited, in this process
        ready = await client.get("/ready")
        assert ready.status_code == 200 and ready.json()["limits"].startswith("redis: unreachable"), ready.text
        assert any("rate-limit store (Redis) is unreachable" in record.getMessage() for record in caplog.records)
        own_redis.start()
        assert (await client.get("/ready")).json()["limits"].startswith("redis: unreachable")  # not tried again before its time
        now[0] += client.app.state.limits.retry_seconds
        assert (await client.get("/v1/conditions")).status_code == 200
        assert (await client.get("/ready")).json()["limits"] == "redis: ok"
    logging.getLogger("directory.ratelimit").removeHandler(caplog.handler)


async def test_a_redis_outage_can_be_chosen_to_refuse_with_503(settings, own_redis):
    configured = settings.model_copy(update={"redis_url": own_redis.url, "redis_when_down": "refuse"})
    async with AsyncTestClient(app=create_app(configured)) as client:
        assert (await client.get("/v1/conditions")).status_code == 200
        own_redis.stop()
        refused = await client.get("/v1/conditions")
        assert_problem(refused, 503)
        assert int(refused.headers["retry-after"]) >= 1
        assert_problem(await client.get("/ready"), 503)
        assert (await client.get("/health")).status_code == 200  # alive, only not ready


async def test_an_unreachable_database_is_a_503_with_retry_after_and_not_ready():
    """PostgreSQL that does not answer (down, restarting, unreachable): 503 with Retry-After, never a
    500; /health still answers and /ready says why. (A port where nothing listens stands for it.)"""
    from conftest import make_settings, postgres_url
    from sqlalchemy.engine import make_url

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = make_url(postgres_url()).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    async with AsyncTestClient(app=create_app(make_settings(down))) as client:
        for path in ("/v1/search?near=10001", "/v1/providers", "/v1/conditions", "/fhir/Organization", "/hsds/services"):
            response = await client.get(path)
            assert_problem(response, 503)
            assert response.headers["retry-after"] == "5", path
        assert (await client.get("/health")).status_code == 200
        assert_problem(await client.get("/ready"), 503)


async def test_postgresql_crashing_under_load_loses_no_acknowledged_write_and_recovers_without_a_restart():
    """A PostgreSQL cluster of the test's own is killed (immediate shutdown, as a crash) while three
    writers and a reader keep the API busy, then started again. Every answer is 2xx or a 503 with
    Retry-After, never a 500; /ready says 503 while it is down; the same API process serves again
    once it is back; and every write that was answered 201 is there afterwards."""
    import asyncio
    from collections import Counter

    import httpx
    from conftest import ADMIN, LiveServer, make_settings, prepared
    from factories import listing
    from own_services import OwnPostgres, postgres_or_skip

    cluster = OwnPostgres(postgres_or_skip())
    try:
        cluster.start()
        await prepared(cluster.url)
        acknowledged: list[str] = []
        statuses: Counter[int] = Counter()
        unexpected: list[str] = []
        done = asyncio.Event()

        async def until(condition, what: str) -> None:
            """Wait for the load to reach a point (bounded only against a hang)."""
            async def poll() -> None:
                while not condition():
                    await asyncio.sleep(0.02)

            try:
                await asyncio.wait_for(poll(), timeout=120)
            except asyncio.TimeoutError:
                raise AssertionError(f"never saw {what}: {dict(statuses)} {unexpected[:3]}") from None

        with LiveServer(make_settings(cluster.url)) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:

                def note(response: httpx.Response, ok: int) -> None:
                    statuses[response.status_code] += 1
                    if response.status_code == 503:
                        if not response.headers.get("retry-after"):
                            unexpected.append(f"503 without Retry-After: {response.text}")
                    elif response.status_code != ok:
                        unexpected.append(f"{response.status_code}: {response.text[:300]}")

                async def writer(n: int) -> None:
                    count = 0
                    while not done.is_set():
                        response = await client.post("/v1/providers", json=listing(name=f"Load Clinic {n}-{count}"), headers=ADMIN)
                        note(response, 201)
                        if response.status_code == 201:
                            acknowledged.append(response.json()["id"])
                        else:
                            await asyncio.sleep(0.05)
                        count += 1

                async def reader() -> None:
                    while not done.is_set():
                        note(await client.get("/v1/search", params={"near": "10118", "radius": 50}), 200)
                        await asyncio.sleep(0.01)

                load = [asyncio.create_task(writer(n)) for n in range(3)] + [asyncio.create_task(reader())]
                try:
                    await until(lambda: len(acknowledged) >= 15, "15 writes before the crash")
                    await asyncio.to_thread(cluster.stop, "immediate")
                    await until(lambda: statuses[503] >= 5, "503s while PostgreSQL is down")
                    assert_problem(await client.get("/ready"), 503)
                    await asyncio.to_thread(cluster.start)
                    before = len(acknowledged)
                    await until(lambda: len(acknowledged) >= before + 15, "15 writes after PostgreSQL came back")
                    assert (await client.get("/ready")).status_code == 200
                finally:
                    done.set()
                    await asyncio.gather(*load)
                assert unexpected == [], unexpected[:5]
                assert statuses[500] == 0
                for provider_id in acknowledged:
                    assert (await client.get(f"/v1/providers/{provider_id}")).status_code == 200, provider_id
                print(f"statuses {dict(statuses)}, {len(acknowledged)} writes acknowledged and found")
    finally:
        cluster.remove()
