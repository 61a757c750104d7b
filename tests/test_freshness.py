"""How current a listing is: the registry check (stale after the window) and the clinic's own
confirmation (a save or "Still correct"; a reminder after 80 days; unconfirmed after 180)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from conftest import ADMIN, write_directly
from factories import account, assert_problem, create, listing
from sqlalchemy import select, update

from directory.listings.confirmation import ConfirmationReminders
from directory.listings.models import Provider
from directory.mail import QueuedMail

NOW = datetime.now(timezone.utc)


async def owned_listing(client, name: str = "Juniper Ketamine") -> tuple[dict, dict]:
    """A published listing made by a clinic's account (its owner), and the owner's headers."""
    owner = await account(client)
    made = await client.post("/v1/providers", json=listing(name=name, status="draft"), headers=owner)
    assert made.status_code == 201, made.text
    published = await client.patch(f"/v1/providers/{made.json()['id']}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})
    assert published.status_code == 200, published.text
    return made.json(), owner


async def test_an_owner_confirms_and_only_an_owner_can(client):
    made, owner = await owned_listing(client)
    assert made["confirmation"]["confirmed_at"] is not None  # creating it was the clinic's word too
    public = (await client.get(f"/v1/providers/{made['id']}")).json()
    assert public["confirmation"]["unconfirmed"] is False
    confirmed = await client.post(f"/v1/providers/{made['id']}/confirmation", headers=owner)
    assert confirmed.status_code == 200, confirmed.text
    at = datetime.fromisoformat(confirmed.json()["confirmation"]["confirmed_at"])
    assert abs((at - datetime.now(timezone.utc)).total_seconds()) < 60 and confirmed.headers["etag"]
    history = (await client.get(f"/v1/providers/{made['id']}/history", headers=owner)).json()["items"]
    assert history[0]["action"] == "confirmed"
    assert_problem(await client.post(f"/v1/providers/{made['id']}/confirmation", headers=ADMIN), 403)
    assert_problem(await client.post(f"/v1/providers/{made['id']}/confirmation", headers=await account(client)), 403)
    assert_problem(await client.post(f"/v1/providers/{made['id']}/confirmation"), 401)
    assert_problem(await client.post(f"/v1/providers/{uuid.uuid4()}/confirmation", headers=owner), 404)


async def test_an_old_confirmation_is_flagged_on_the_listing_and_search_filters_on_it(client, database):
    fresh, _ = await owned_listing(client, "Fresh Ketamine")
    old, _ = await owned_listing(client, "Dusty Ketamine")
    never = await create(client, name="Unowned Ketamine")  # made by an administrator: never confirmed by a clinic
    key = uuid.UUID(old["id"])
    await write_directly(database, update(Provider).where(Provider.id == key).values(confirmed_at=NOW - timedelta(days=200)), key)
    flags = {}
    for made in (fresh, old, never):
        flags[made["name"]] = (await client.get(f"/v1/providers/{made['id']}")).json()["confirmation"]["unconfirmed"]
    assert flags == {"Fresh Ketamine": False, "Dusty Ketamine": True, "Unowned Ketamine": True}
    hits = (await client.get("/v1/search", params={"near": "10118", "radius": 10})).json()["items"]
    assert {h["provider"]["name"]: h["provider"]["confirmation"]["unconfirmed"] for h in hits} == flags
    within = await client.get("/v1/search", params={"near": "10118", "radius": 10, "confirmed_within_days": 180})
    assert [h["provider"]["name"] for h in within.json()["items"]] == ["Fresh Ketamine"]
    year = await client.get("/v1/search", params={"near": "10118", "radius": 10, "confirmed_within_days": 365, "sort": "name"})
    assert [h["provider"]["name"] for h in year.json()["items"]] == ["Dusty Ketamine", "Fresh Ketamine"]
    assert_problem(await client.get("/v1/search", params={"near": "10118", "confirmed_within_days": 0}), 400, "confirmed_within_days")


async def test_owners_are_reminded_once_after_80_days(client, database):
    made, owner = await owned_listing(client, "Quiet Ketamine")
    key = uuid.UUID(made["id"])
    reminders = ConfirmationReminders(database.writer, remind_after=timedelta(days=80), unconfirmed_after=timedelta(days=180))
    assert await reminders.run_due() == 0  # just confirmed
    await write_directly(database, update(Provider).where(Provider.id == key).values(confirmed_at=NOW - timedelta(days=81)), key)
    assert await reminders.run_due() == 1
    assert await reminders.run_due() == 0  # once per unconfirmed stretch
    async with database.reader() as session:
        mails = list((await session.execute(select(QueuedMail.subject, QueuedMail.text))).all())
    (subject, text) = next(m for m in mails if m[0] == "Is Quiet Ketamine still correct?")
    assert f"/portal/listings/{made['id']}" in text and "Still correct" in text
    await client.post(f"/v1/providers/{made['id']}/confirmation", headers=owner)
    async with database.reader() as session:
        row = (await session.execute(select(Provider.confirm_reminded_at, Provider.confirmed_at).where(Provider.id == key))).one()
    assert row.confirm_reminded_at is None and row.confirmed_at > NOW - timedelta(minutes=5)


async def test_a_stale_check_is_said_on_fhir_and_hsds(client, database):
    made = await create(client, name="Old Check Ketamine")
    key = uuid.UUID(made["id"])
    await write_directly(
        database, update(Provider).where(Provider.id == key).values(verification_status="verified", last_verified_at=NOW - timedelta(days=400)), key
    )
    organization = (await client.get(f"/fhir/Organization/{made['id']}")).json()
    (status,) = [e for e in organization["extension"] if e["url"].endswith("verification-status")]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "stale"
    organization_hsds = (await client.get(f"/hsds/organizations/{made['id']}")).json()
    (service,) = organization_hsds["services"]
    assert {a["taxonomy_term"]["code"] for a in service["attributes"] if a["taxonomy_term"]["taxonomy"] == "verification"} == {"stale"}
    document = (await client.get(f"/v1/providers/{made['id']}")).json()
    assert document["verification"] == {**document["verification"], "verified": True, "stale": True}
    await write_directly(database, update(Provider).where(Provider.id == key).values(last_verified_at=NOW - timedelta(days=3)), key)
    organization = (await client.get(f"/fhir/Organization/{made['id']}")).json()
    (status,) = [e for e in organization["extension"] if e["url"].endswith("verification-status")]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "verified"


async def test_a_moment_out_of_range_is_a_400_not_a_500(client):
    """Found by the contract test: `at` in year 1 overflowed the time-zone conversion (a 500)."""
    await create(client, name="Early Ketamine")
    for params in ({"verified": "true"}, {"confirmed_within_days": 30}, {}):
        response = await client.get("/v1/search", params={"near": "10118", "at": "0001-01-01T01:00:00+00:00", **params})
        assert_problem(response, 400, "at")
    early = await client.get("/v1/search", params={"near": "10118", "at": "1900-01-01T00:00:00+00:00", "verified": "true", "confirmed_within_days": 30})
    assert early.status_code == 200 and early.json()["items"] == []
