"""Visitors report problems with listings: anonymous, limited per address, sent to the moderators and
by mail to the listing's owners; moderators resolve or dismiss them."""

from __future__ import annotations

import pytest
from conftest import ADMIN
from factories import account, assert_problem, create
from sqlalchemy import select

from directory.mail import QueuedMail
from directory.moderation.models import ListingReport


async def test_a_visitor_reports_a_wrong_phone_and_the_moderators_and_owners_hear_of_it(client, database):
    listing = await create(client)
    owner = await account(client)
    claim = await client.post(f"/v1/providers/{listing['id']}/claims", json={}, headers=owner)
    await client.post(f"/v1/moderation/claims/{claim.json()['id']}/decision", json={"decision": "approve"}, headers=ADMIN)
    reported = await client.post(f"/v1/providers/{listing['slug']}/reports", json={"kind": "wrong_phone", "details": "It rings a pizzeria."})
    assert reported.status_code == 202 and reported.json()["status"] == "open"
    open_reports = (await client.get("/v1/moderation/reports", headers=ADMIN)).json()
    assert [r["id"] for r in open_reports] == [reported.json()["id"]] and open_reports[0]["details"] == "It rings a pizzeria."
    async with database.reader() as session:
        subjects = list((await session.execute(select(QueuedMail.subject))).scalars())
        stored = (await session.execute(select(ListingReport))).scalar_one()
    assert any("A visitor reported a problem with Harbor Ketamine Clinic" == s for s in subjects)
    assert stored.kind == "wrong_phone"  # and nothing about the reporter: the table has no column for it
    assert {c.name for c in ListingReport.__table__.columns} == {"id", "provider_id", "kind", "details", "status", "created_at", "decided_by", "decided_at", "note"}
    decided = await client.post(f"/v1/moderation/reports/{reported.json()['id']}/decision", json={"decision": "resolve", "note": "phone corrected"}, headers=ADMIN)
    assert decided.status_code == 200 and decided.json()["status"] == "resolved"
    assert (await client.get("/v1/moderation/reports", headers=ADMIN)).json() == []
    assert_problem(await client.post(f"/v1/moderation/reports/{reported.json()['id']}/decision", json={"decision": "dismiss"}, headers=ADMIN), 409)


async def test_reports_are_checked_limited_and_only_for_published_listings(client):
    listing = await create(client)
    draft = await create(client, name="Draft Clinic", status="draft")
    assert_problem(await client.post(f"/v1/providers/{draft['id']}/reports", json={"kind": "wrong_address"}), 404)
    assert_problem(await client.post(f"/v1/providers/{listing['id']}/reports", json={"kind": "other"}), 422, "body")
    assert_problem(await client.post(f"/v1/providers/{listing['id']}/reports", json={"kind": "rude"}), 422, "kind")
    for _ in range(4):  # the report of the draft counted too: five an hour from one address
        assert (await client.post(f"/v1/providers/{listing['id']}/reports", json={"kind": "closed_permanently"})).status_code == 202
    limited = await client.post(f"/v1/providers/{listing['id']}/reports", json={"kind": "closed_permanently"})
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0
    # Only moderators read and decide them.
    provider = await account(client)
    assert_problem(await client.get("/v1/moderation/reports", headers=provider), 403)
    assert_problem(await client.get("/v1/moderation/reports"), 401)


@pytest.mark.parametrize("count", [3])
async def test_a_listing_with_several_open_reports_comes_first(client, count):
    quiet = await create(client, name="Quiet Clinic")
    loud = await create(client, name="Loud Clinic")
    await client.post(f"/v1/providers/{quiet['id']}/reports", json={"kind": "wrong_phone"}, headers=ADMIN)
    for _ in range(count):
        await client.post(f"/v1/providers/{loud['id']}/reports", json={"kind": "closed_permanently"}, headers=ADMIN)
    order = [r["provider_id"] for r in (await client.get("/v1/moderation/reports", headers=ADMIN)).json()]
    assert order[:count] == [loud["id"]] * count and order[-1] == quiet["id"]
