"""Faults of the services the API leans on: it degrades, says so, and recovers without a restart.

These tests start their own Redis (a redis-server on a free port) and stop it on purpose."""

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
