"""Webhooks: signed deliveries from a stored queue, retries, pausing, and the SSRF guard."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import pytest
from conftest import ADMIN, empty_listings, make_settings
from factories import account, assert_problem, changing, create
from fake_http import LocalReceiver
from litestar.testing import AsyncTestClient

from directory.app import create_app
from directory.database import Database
from directory.sync.sender import WebhookSender

LOCAL = {"webhook_allow_http": True, "webhook_allowed_networks": ["127.0.0.1/32"], "webhook_retry_base_seconds": 0}
FLAKY = {**LOCAL, "webhook_pause_after": 3, "webhook_max_attempts": 2}


async def run_worker(database_url: str, passes: int | None = None) -> None:
    """A worker of its own, as a separate process would run it: until nothing is due, or ``passes``."""
    settings = make_settings(database_url, **FLAKY)
    database = Database.from_settings(settings)
    sender = WebhookSender(database.writer, settings)
    try:
        for _ in range(passes or 1000):
            if not await sender.run_due() and passes is None:
                break
    finally:
        await sender.close()
        await database.dispose()


async def sync_key(client, name: str = "Mirror") -> dict[str, str]:
    body = {"name": name, "owner_contact": "dev@mirror.example", "scopes": ["read", "sync"], "rate_limit": 100_000}
    response = await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


@pytest.fixture
async def local_client(database_url):
    await empty_listings(database_url)
    async with AsyncTestClient(app=create_app(make_settings(database_url, **FLAKY))) as client:
        yield client


@pytest.fixture
def receiver():
    server = LocalReceiver()
    yield server
    server.close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, written from the README's description alone."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(part.removeprefix("v1,"), expected) for part in headers["webhook-signature"].split())


async def test_endpoints_on_private_addresses_or_plain_http_are_refused(client):
    key = await sync_key(client)
    for url in [
        "http://hooks.example.org/x",  # plain http
        "https://127.0.0.1/hooks",  # loopback
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://10.1.2.3/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[::ffff:0:127.0.0.1]/hooks",  # IPv4-translated
        "https://[::127.0.0.1]/hooks",  # IPv4-compatible
        "https://[64:ff9b:1::7f00:1]/hooks",  # NAT64 local-use prefix
        "https://localhost/hooks",
        "https://user:pw@hooks.example.org/x",
        "https://no-such-host.invalid/hooks",
        "not a url at all",
    ]:
        assert_problem(await client.post("/v1/webhooks", json={"url": url}, headers=key), 422, "url")
    assert_problem(await client.post("/v1/webhooks", json={"url": "https://hooks.example.org", "events": ["listing.eaten"]}, headers=key), 422, "events.0")
    assert_problem(await client.post("/v1/webhooks", json={"url": "https://hooks.example.org/x"}), 401)
    reader = await client.post("/v1/admin/api-keys", json={"name": "R", "owner_contact": "r@x.example", "scopes": ["read"]}, headers=ADMIN)
    assert_problem(await client.post("/v1/webhooks", json={"url": "https://hooks.example.org/x"}, headers={"X-API-Key": reader.json()["key"]}), 403)
    assert_problem(await client.get("/v1/webhooks", headers=await account(client)), 403)


async def test_deliveries_are_signed_stored_and_shown_to_their_owner(local_client, receiver, database_url):
    client = local_client
    key = await sync_key(client)
    created = await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["secret"].startswith("whsec_") and subscription["status"] == "active"
    listed = (await client.get("/v1/webhooks", headers=key)).json()
    assert [s["id"] for s in listed] == [subscription["id"]] and "secret" not in listed[0]

    listing = await create(client, name="Hooked Clinic")
    await create(client, name="Quiet Draft", status="draft")  # drafts are nobody's business
    await client.patch(f"/v1/providers/{listing['id']}", json={"description": "new"}, headers=changing(ADMIN))
    await client.delete(f"/v1/providers/{listing['id']}", headers=changing(ADMIN))
    assert receiver.received == []  # never sent on the request path
    await run_worker(database_url)
    bodies = receiver.bodies()
    assert [(b["type"], b["data"]["id"], b["data"]["version"]) for b in bodies] == [
        ("listing.published", listing["id"], 1),
        ("listing.updated", listing["id"], 2),
        ("listing.removed", listing["id"], 3),
    ]
    for headers, body in receiver.received:
        assert verify(subscription["secret"], headers, body)
        assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body)
    feed = (await client.get("/v1/changes", headers=key)).json()["items"]
    assert [b["data"]["cursor"] for b in bodies] == [entry["cursor"] for entry in feed]

    shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in shown["recent_deliveries"]] == [("delivered", 1, 204)] * 3
    other = await sync_key(client, "Other")
    assert_problem(await client.get(f"/v1/webhooks/{subscription['id']}", headers=other), 404)
    assert (await client.get("/v1/webhooks", headers=other)).json() == []
    events_only = await client.patch(f"/v1/webhooks/{subscription['id']}", json={"events": ["listing.removed"]}, headers=key)
    assert events_only.json()["events"] == ["listing.removed"]
    assert (await client.delete(f"/v1/webhooks/{subscription['id']}", headers=key)).status_code == 204
    assert_problem(await client.get(f"/v1/webhooks/{subscription['id']}", headers=key), 404)


class Clock:
    """The worker's clock, moved by the test: waits take no real time."""

    def __init__(self) -> None:
        from datetime import datetime, timezone

        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


async def run_clocked(database_url: str, clock: Clock, seconds: float, step: float = 1.0, **overrides) -> None:
    """A worker of its own whose clock moves ``step`` seconds between passes, for ``seconds`` in all."""
    settings = make_settings(database_url, **{**LOCAL, **overrides})
    database = Database.from_settings(settings)
    sender = WebhookSender(database.writer, settings, clock=clock)
    try:
        for _ in range(int(seconds / step)):
            while await sender.run_due():
                pass
            clock.advance(step)
    finally:
        await sender.close()
        await database.dispose()


async def test_a_failing_endpoint_holds_its_queue_is_paused_probed_and_resumes_by_itself(local_client, database_url):
    client = local_client
    receiver = LocalReceiver(statuses=[500] * 3)
    try:
        key = await sync_key(client)
        subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
        first = await create(client, name="Flaky One")
        second = await create(client, name="Flaky Two")
        clock = Clock()
        settings = {"webhook_retry_base_seconds": 10, "webhook_pause_after": 3}
        await run_clocked(database_url, clock, seconds=35, **settings)  # tried at 0, 10 and 30 s (waits of 10 and 20 s): three failures
        shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
        assert shown["status"] == "paused" and shown["paused_by"] == "failures"
        assert "3 failed attempts in a row" in shown["paused_reason"] and "HTTP 500" in shown["paused_reason"]
        assert [body["data"]["id"] for body in receiver.bodies()] == [first["id"]] * 3  # the head, again and again; nothing behind it
        assert shown["pending_deliveries"] == 2 and shown["failures_in_row"] == 3
        assert sorted((d["attempts"], d["status"], d["last_status_code"]) for d in shown["recent_deliveries"]) == [(0, "pending", None), (3, "pending", 500)]
        # Paused, its queue keeps filling; the probe 40 s after the third failure succeeds and drains it in order.
        third = await create(client, name="Flaky Three")
        await run_clocked(database_url, clock, seconds=45, **settings)
        assert [body["data"]["id"] for body in receiver.bodies()[3:]] == [first["id"], second["id"], third["id"]]
        shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
        assert (shown["status"], shown["paused_by"], shown["paused_reason"], shown["failures_in_row"], shown["pending_deliveries"]) == ("active", None, None, 0, 0)
    finally:
        receiver.close()


async def test_a_subscription_its_owner_paused_queues_but_sends_nothing_until_resumed(local_client, receiver, database_url):
    client = local_client
    key = await sync_key(client)
    subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
    paused = await client.patch(f"/v1/webhooks/{subscription['id']}", json={"status": "paused"}, headers=key)
    assert (paused.json()["status"], paused.json()["paused_by"]) == ("paused", "owner")
    listing = await create(client, name="Waiting Clinic")
    await run_worker(database_url)
    assert receiver.received == []
    assert (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()["pending_deliveries"] == 1
    await client.patch(f"/v1/webhooks/{subscription['id']}", json={"status": "active"}, headers=key)
    await run_worker(database_url)
    assert [body["data"]["id"] for body in receiver.bodies()] == [listing["id"]]


async def test_a_full_queue_says_from_which_cursor_to_catch_up(database_url, receiver):
    await empty_listings(database_url)
    async with AsyncTestClient(app=create_app(make_settings(database_url, **LOCAL, webhook_queue_limit=3))) as client:
        key = await sync_key(client)
        subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
        await client.patch(f"/v1/webhooks/{subscription['id']}", json={"status": "paused"}, headers=key)
        made = [await create(client, name=f"Queued {n}") for n in range(5)]
        shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
        assert shown["pending_deliveries"] == 3
        feed = (await client.get("/v1/changes", headers=key)).json()["items"]
        assert shown["missed_after_cursor"] == feed[2]["cursor"]  # the fourth change was the first left out
        missed = (await client.get("/v1/changes", params={"after": shown["missed_after_cursor"]}, headers=key)).json()["items"]
        assert [entry["id"] for entry in missed] == [m["id"] for m in made[3:]]
        resumed = (await client.patch(f"/v1/webhooks/{subscription['id']}", json={"status": "active"}, headers=key)).json()
        assert resumed["missed_after_cursor"] is None
    await run_worker(database_url)
    assert [body["data"]["id"] for body in receiver.bodies()] == [m["id"] for m in made[:3]]


async def test_a_receiver_down_for_60_seconds_gets_all_50_changes_once_in_order_signed(local_client, database_url):
    """The receiver stops listening; 50 changes are made while it is down for 60 s (by the worker's
    clock); it comes back: every delivery arrives exactly once, in the order of the changes."""
    client = local_client
    receiver = LocalReceiver()
    try:
        key = await sync_key(client)
        subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
        receiver.stop()
        clock = Clock()
        settings = {"webhook_retry_base_seconds": 1, "webhook_pause_after": 3}
        listings = []
        for n in range(50):
            listings.append(await create(client, name=f"Outage Clinic {n:02d}"))
            if n % 10 == 9:
                await run_clocked(database_url, clock, seconds=12, **settings)  # 60 s of the worker's time while it is down
        shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
        assert shown["status"] == "paused" and shown["pending_deliveries"] == 50 and "could not connect" in shown["paused_reason"]
        receiver.start()
        await run_clocked(database_url, clock, seconds=70, **settings)  # the probe waits at most 2^n s, here 32 s
        bodies = receiver.bodies()
        assert [body["data"]["id"] for body in bodies] == [listing["id"] for listing in listings]
        cursors = [int(body["data"]["cursor"]) for body in bodies]
        assert cursors == sorted(cursors) and len({headers["webhook-id"] for headers, _ in receiver.received}) == 50
        assert all(verify(subscription["secret"], headers, body) for headers, body in receiver.received)
        shown = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()
        assert (shown["status"], shown["pending_deliveries"]) == ("active", 0)
    finally:
        receiver.close()


async def test_pending_deliveries_survive_a_restart(database_url, receiver):
    await empty_listings(database_url)
    settings = make_settings(database_url, **LOCAL, webhook_worker=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        key = await sync_key(client)
        assert (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).status_code == 201
        listing = await create(client, name="Before The Restart")
    assert receiver.received == []
    restarted = make_settings(database_url, **LOCAL, webhook_worker=True, webhook_interval_seconds=0.05)
    async with AsyncTestClient(app=create_app(restarted)):
        # The worker in the restarted app sends it by itself (the wait's bound only keeps a broken worker from hanging the suite).
        assert await asyncio.to_thread(receiver.arrived.wait, 60)
    assert [b["data"]["id"] for b in receiver.bodies()] == [listing["id"]]


async def test_a_delivery_to_an_endpoint_no_longer_allowed_is_refused_not_sent(local_client, receiver, database_url):
    """Registered while 127.0.0.1 was allowed; the worker that sends runs without that allowance."""
    client = local_client
    key = await sync_key(client)
    subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
    await create(client, name="Refused Clinic")
    strict = make_settings(database_url, webhook_allow_http=True)
    database = Database.from_settings(strict)
    sender = WebhookSender(database.writer, strict)
    try:
        assert await sender.run_due() == 1
    finally:
        await sender.close()
        await database.dispose()
    assert receiver.received == []
    delivery = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()["recent_deliveries"][0]
    assert delivery["status"] == "pending" and delivery["last_error"].startswith("refused: the host resolves to 127.0.0.1")


def test_allowed_networks_must_be_networks(database_url):
    with pytest.raises(ValueError, match="not a network"):
        make_settings(database_url, webhook_allowed_networks="127.0.0.1/32, the office")


def test_every_special_purpose_address_is_refused_also_inside_ipv6():
    import ipaddress

    from directory.sync.webhooks import _forbidden

    for text in (
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "192.0.0.8", "198.18.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1", "0.0.0.0",  # IANA special purpose
        "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "224.0.0.1",
        "::1", "fe80::1", "fc00::1", "2001:db8::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "2002:7f00:1::1", "2002:a00:1::1",  # 6to4 carrying 127.0.0.1 and 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1 (bits inverted)
        "64:ff9b::a00:1", "64:ff9b::7f00:1",  # NAT64 carrying 10.0.0.1 and 127.0.0.1
        "::ffff:0:127.0.0.1", "::ffff:0:10.0.0.1", "::ffff:0:169.254.169.254",  # IPv4-translated (::ffff:0:0/96)
        "::127.0.0.1", "::10.0.0.1", "::0.0.0.0",  # IPv4-compatible (::/96, deprecated)
        "64:ff9b:1::7f00:1", "64:ff9b:1::5db8:d822",  # NAT64 local-use prefix: never global, whatever it carries
    ):  # fmt: skip
        assert _forbidden(ipaddress.ip_address(text)), text
    for text in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "2002:5db8:d822::1", "64:ff9b::5db8:d822", "::ffff:0:93.184.216.34"):
        assert not _forbidden(ipaddress.ip_address(text)), text


async def test_a_delivery_connects_to_the_address_it_checked_not_to_a_second_lookup(local_client, receiver, database_url, monkeypatch):
    """DNS rebinding: the name answers an allowed address while it is checked, and another one after.
    The delivery goes to the checked address; the host name is sent in Host."""
    import socket as sockets

    from directory.sync import webhooks

    answers: list[str] = []

    async def resolver(host, port, **_kwargs):
        assert host == "receiver.test"
        answers.append("127.0.0.1" if len(answers) < 2 else "10.9.9.9")  # registration and delivery check, then a rebind
        return [(sockets.AF_INET, sockets.SOCK_STREAM, 6, "", (answers[-1], port))]

    monkeypatch.setattr(webhooks.anyio, "getaddrinfo", resolver)
    client = local_client
    key = await sync_key(client)
    url = receiver.url.replace("127.0.0.1", "receiver.test")
    assert (await client.post("/v1/webhooks", json={"url": url}, headers=key)).status_code == 201
    await create(client, name="Pinned Clinic")
    await run_worker(database_url, passes=1)
    assert len(receiver.received) == 1 and answers == ["127.0.0.1", "127.0.0.1"]
    headers, _body = receiver.received[0]
    assert headers["host"] == url.split("/")[2]


async def test_a_redirect_is_a_failed_delivery_and_is_not_followed(local_client, database_url):
    """A 3xx could point the directory anywhere (the guard checked only the registered URL): it is a
    failure like any other answer that is not 2xx, and the Location is never visited."""
    client = local_client
    elsewhere = LocalReceiver()
    receiver = LocalReceiver(statuses=[302])
    receiver.redirect_to = elsewhere.url
    try:
        key = await sync_key(client)
        subscription = (await client.post("/v1/webhooks", json={"url": receiver.url}, headers=key)).json()
        await create(client, name="Redirected Clinic")
        await run_worker(database_url, passes=1)
        assert len(receiver.received) == 1 and elsewhere.received == []
        [delivery] = (await client.get(f"/v1/webhooks/{subscription['id']}", headers=key)).json()["recent_deliveries"]
        assert (delivery["status"], delivery["last_status_code"], delivery["last_error"]) == ("pending", 302, "answered HTTP 302")
    finally:
        receiver.close()
        elsewhere.close()
