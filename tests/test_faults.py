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
            if path.startswith("/fhir"):
                assert response.status_code == 503 and response.json()["resourceType"] == "OperationOutcome", response.text
            else:
                assert_problem(response, 503)
            assert response.headers["retry-after"] == "5", path
        assert (await client.get("/health")).status_code == 200
        assert_problem(await client.get("/ready"), 503)


async def test_postgresql_crashing_under_load_loses_no_acknowledged_write_and_recovers_without_a_restart():
    """A PostgreSQL cluster of the test's own is killed (immediate shutdown, as a crash) while three
    writers and a reader keep the API busy, then started again. Among them a writer with a provider's
    login token and a reader with a partner key, whose account and key lookups run through the whole
    window: refused connections, "the database system is starting up", ready. Every answer is 2xx or
    a 503 with Retry-After, never a 500; /ready says 503 while it is down; the same API process
    serves again once it is back; and every write that was answered 201 is there afterwards."""
    import asyncio
    from collections import Counter

    import httpx
    from conftest import ADMIN, LiveServer, make_settings, prepared
    from factories import account, listing
    from own_services import OwnPostgres, postgres_or_skip

    cluster = OwnPostgres(postgres_or_skip())
    try:
        cluster.start()
        await prepared(cluster.url)
        acknowledged: list[str] = []
        served: Counter[str] = Counter()
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

                provider = await account(client)
                made = await client.post("/v1/admin/api-keys", json={"name": "Fault partner", "owner_contact": "dev@partner.example", "rate_limit": 100_000}, headers=ADMIN)
                assert made.status_code == 201, made.text
                partner = {"X-API-Key": made.json()["key"]}

                async def writer(n: int, headers: dict[str, str], who: str, status: str = "published") -> None:
                    count = 0
                    while not done.is_set():
                        response = await client.post("/v1/providers", json=listing(name=f"Load Clinic {who} {n}-{count}", status=status), headers=headers)
                        note(response, 201)
                        if response.status_code == 201:
                            acknowledged.append(response.json()["id"])
                            served[who] += 1
                        else:
                            await asyncio.sleep(0.05)
                        count += 1

                async def reader(headers: dict[str, str], who: str) -> None:
                    while not done.is_set():
                        response = await client.get("/v1/search", params={"near": "10118", "radius": 50}, headers=headers)
                        note(response, 200)
                        served[who] += response.status_code == 200
                        await asyncio.sleep(0.01)

                load = [
                    asyncio.create_task(writer(0, ADMIN, "admin")),
                    asyncio.create_task(writer(1, ADMIN, "admin")),
                    asyncio.create_task(writer(2, provider, "provider", "draft")),
                    asyncio.create_task(reader({}, "anonymous")),
                    asyncio.create_task(reader(partner, "partner")),
                ]
                try:
                    await until(lambda: len(acknowledged) >= 15, "15 writes before the crash")
                    await asyncio.to_thread(cluster.stop, "immediate")
                    await until(lambda: statuses[503] >= 5, "503s while PostgreSQL is down")
                    assert_problem(await client.get("/ready"), 503)
                    await asyncio.to_thread(cluster.start)
                    before = len(acknowledged)
                    after = dict(served)
                    await until(lambda: len(acknowledged) >= before + 15, "15 writes after PostgreSQL came back")
                    for who in ("provider", "partner"):
                        await until(lambda: served[who] > after.get(who, 0), f"the {who} served after PostgreSQL came back")
                    assert (await client.get("/ready")).status_code == 200
                finally:
                    done.set()
                    await asyncio.gather(*load)
                assert unexpected == [], unexpected[:5]
                assert statuses[500] == 0
                for provider_id in acknowledged:
                    assert (await client.get(f"/v1/providers/{provider_id}", headers=ADMIN)).status_code == 200, provider_id
                print(f"statuses {dict(statuses)}, served {dict(served)}, {len(acknowledged)} writes acknowledged and found")
    finally:
        cluster.remove()


def test_an_outage_inside_an_exception_group_is_still_an_outage():
    """asyncpg's "the database system is starting up" reached the error handler inside an
    ExceptionGroup (from the account lookup's task group) and was answered 500."""
    from directory.errors import causes, database_unreachable

    class CannotConnectNowError(Exception):  # asyncpg's class, by name
        pass

    starting = CannotConnectNowError("the database system is starting up")
    try:
        try:
            raise starting
        except CannotConnectNowError as inner:
            raise ExceptionGroup("unhandled errors in a TaskGroup", [ValueError("other"), inner]) from None
    except ExceptionGroup as group:
        wrapped = RuntimeError("lookup failed")
        wrapped.__cause__ = group
    assert starting in causes(wrapped)
    assert database_unreachable(wrapped)
    assert not database_unreachable(ExceptionGroup("x", [ValueError("a"), KeyError("b")]))


class StartingPostgres:
    """A TCP server on a free port, in a thread of its own, that answers every PostgreSQL connection
    as a server still starting does: refuses SSL, then FATAL 57P03 "the database system is starting up"."""

    def __init__(self) -> None:
        import socketserver
        import struct

        owner = self
        self.connections = 0

        class Answer(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.connections += 1
                stream = self.request.makefile("rb")
                while header := stream.read(4):
                    body = stream.read(struct.unpack("!i", header)[0] - 4)
                    if struct.unpack("!i", body[:4])[0] == 80877103:  # SSLRequest
                        self.request.sendall(b"N")
                        continue
                    fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
                    self.request.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
                    return

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Answer)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self) -> "StartingPostgres":
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_a_database_starting_up_is_a_503_for_tokens_and_partner_keys_too():
    """While PostgreSQL says "the database system is starting up", a request with a provider's login
    token (whose account is looked up) or a partner key is a 503 with Retry-After, like any other."""
    import datetime
    import uuid

    from conftest import make_settings

    from directory.accounts.tokens import issue

    with StartingPostgres() as starting:
        settings = make_settings(f"postgresql+asyncpg://postgres@127.0.0.1:{starting.port}/directory")
        token, _ = issue(uuid.uuid4(), "provider", settings.secret_key, datetime.timedelta(hours=1))
        async with AsyncTestClient(app=create_app(settings)) as client:
            for headers in ({"Authorization": f"Bearer {token}"}, {"X-API-Key": "dir_abcdef12_" + "x" * 43}):
                for method, path in (("GET", "/v1/me"), ("GET", "/v1/search?lat=40.7&lon=-74"), ("POST", "/v1/providers")):
                    response = await client.request(method, path, headers=headers, json={"name": "Clinic"} if method == "POST" else None)
                    assert_problem(response, 503)
                    assert response.headers["retry-after"] == "5", (headers, path)
        assert starting.connections > 0


async def test_a_change_the_database_undoes_for_a_deadlock_is_a_503_to_send_again():
    """PostgreSQL's deadlock detector undoes one of two transactions that wait on each other: that
    request is a 503 with Retry-After, saying nothing was written (not a 500), in the caller's language."""
    import asyncio

    from conftest import postgres_url
    from litestar import Litestar, get
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from directory.errors import changes_collided, database_unreachable, exception_handlers

    engine = create_async_engine(postgres_url(), poolclass=NullPool)
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY, n int)"))
            await setup.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING"))
        both_hold = asyncio.Barrier(2)

        async def cross(first: int, second: int) -> None:
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :id"), {"id": first})
                await both_hold.wait()
                await connection.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :id"), {"id": second})

        outcomes = await asyncio.gather(cross(1, 2), cross(2, 1), return_exceptions=True)
        async with engine.begin() as cleanup:
            await cleanup.execute(text("DROP TABLE deadlock_probe"))
    finally:
        await engine.dispose()
    undone = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(undone) == 1 and isinstance(undone[0], DBAPIError), outcomes
    assert changes_collided(undone[0]) and not database_unreachable(undone[0])
    assert not changes_collided(ValueError("deadlock detected"))

    @get("/change", sync_to_thread=False)
    def change() -> None:
        raise undone[0]

    async with AsyncTestClient(Litestar([change], exception_handlers=exception_handlers())) as client:
        english = await client.get("/change")
        spanish = await client.get("/change", headers={"Accept-Language": "es"})
    body = assert_problem(english, 503)
    assert english.headers["retry-after"] == "1" and "nothing of this one was written" in body["detail"]
    assert spanish.json()["detail"].startswith("otro cambio") and spanish.headers["content-language"] == "es"
