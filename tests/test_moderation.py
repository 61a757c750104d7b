"""Moderation: reviewing listings, claims and trust-field changes; suspending and restoring."""

from __future__ import annotations

import uuid

from conftest import ADMIN
from factories import account, assert_problem, changing, create, listing

from directory.accounts.models import AccountNpi


async def _submitted(client, owner):
    response = await client.post("/v1/providers", json=listing(status="pending_review"), headers=owner)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_submitted_listing_waits_in_the_queue_until_approved(client):
    owner, moderator = await account(client), await account(client, role="moderator")
    submitted = await _submitted(client, owner)
    queue = (await client.get("/v1/moderation/queue", headers=moderator)).json()
    assert [item["id"] for item in queue["listings"]] == [submitted["id"]]
    approved = await client.post(f"/v1/moderation/listings/{submitted['id']}/actions", json={"action": "approve"}, headers=moderator)
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    assert (await client.get(f"/v1/providers/{submitted['id']}")).status_code == 200
    assert (await client.get("/v1/moderation/queue", headers=moderator)).json()["listings"] == []
    assert_problem(await client.post(f"/v1/moderation/listings/{submitted['id']}/actions", json={"action": "approve"}, headers=moderator), 409)


async def test_rejecting_and_suspending_need_a_reason_that_is_kept(client):
    owner, moderator = await account(client), await account(client, role="moderator")
    submitted = await _submitted(client, owner)
    path = f"/v1/moderation/listings/{submitted['id']}/actions"
    assert_problem(await client.post(path, json={"action": "reject"}, headers=moderator), 422, "body")
    rejected = await client.post(path, json={"action": "reject", "reason": "no clinician listed"}, headers=moderator)
    assert rejected.json()["status"] == "draft"
    history = (await client.get(f"/v1/providers/{submitted['id']}/history", headers=owner)).json()["items"]
    assert history[0]["action"] == "reject" and history[0]["reason"] == "no clinician listed"

    published = await create(client)
    path = f"/v1/moderation/listings/{published['id']}/actions"
    suspended = await client.post(path, json={"action": "suspend", "reason": "complaints"}, headers=moderator)
    assert suspended.json()["status"] == "suspended"
    assert_problem(await client.get(f"/v1/providers/{published['id']}"), 404)
    restored = await client.post(path, json={"action": "restore"}, headers=moderator)
    assert restored.json()["status"] == "published"


async def test_only_moderators_moderate(client):
    owner = await account(client)
    submitted = await _submitted(client, owner)
    assert_problem(await client.get("/v1/moderation/queue"), 401)
    assert_problem(await client.get("/v1/moderation/queue", headers=owner), 403)
    assert_problem(await client.post(f"/v1/moderation/listings/{submitted['id']}/actions", json={"action": "approve"}, headers=owner), 403)
    assert (await client.get("/v1/moderation/queue", headers=ADMIN)).status_code == 200


async def test_a_claim_waits_for_a_moderator_then_grants_ownership(client):
    unowned = await create(client)
    claimant, moderator = await account(client), await account(client, role="moderator")
    assert_problem(await client.patch(f"/v1/providers/{unowned['id']}", json={"name": "Mine"}, headers=changing(claimant)), 403)
    response = await client.post(f"/v1/providers/{unowned['id']}/claims", json={"message": "I run this clinic"}, headers=claimant)
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert_problem(await client.post(f"/v1/providers/{unowned['id']}/claims", json={}, headers=claimant), 409)
    (queued,) = (await client.get("/v1/moderation/queue", headers=moderator)).json()["claims"]
    decided = await client.post(f"/v1/moderation/claims/{queued['id']}/decision", json={"decision": "approve"}, headers=moderator)
    assert decided.json()["status"] == "approved"
    renamed = await client.patch(f"/v1/providers/{unowned['id']}", json={"name": "Mine"}, headers=changing(claimant))
    assert renamed.status_code == 200
    other = await account(client)
    assert_problem(await client.post(f"/v1/providers/{unowned['id']}/claims", json={}, headers=other), 409)


async def test_a_claim_is_granted_at_once_when_the_npi_is_verified_for_the_account(client, database):
    unowned = await create(client, npi="1234567893")
    claimant = await account(client)
    me = (await client.get("/v1/me", headers=claimant)).json()
    async with database.writer() as session, session.begin():
        session.add(AccountNpi(account_id=uuid.UUID(me["id"]), npi="1234567893", status="verified"))
    response = await client.post(f"/v1/providers/{unowned['id']}/claims", json={}, headers=claimant)
    assert response.status_code == 201 and response.json()["status"] == "approved"
    assert (await client.get("/v1/me", headers=claimant)).json()["listings"] == [unowned["id"]]


async def test_an_owners_npi_and_credential_changes_wait_for_a_moderator(client):
    owner, moderator = await account(client), await account(client, role="moderator")
    submitted = await _submitted(client, owner)
    await client.post(f"/v1/moderation/listings/{submitted['id']}/actions", json={"action": "approve"}, headers=moderator)
    path = f"/v1/providers/{submitted['id']}"
    changed = await client.patch(path, json={"npi": "1245319599", "name": "Renamed"}, headers=changing(owner))
    assert changed.status_code == 200
    body = changed.json()
    assert body["name"] == "Renamed" and body["npi"] == "1234567893"
    assert [(c["field"], c["value"]) for c in body["pending_changes"]] == [("npi", "1245319599")]
    assert (await client.get(path)).json()["pending_changes"] is None
    clinician = submitted["clinicians"][0]["id"]
    await client.patch(f"{path}/clinicians/{clinician}", json={"credential": "DO", "role": "Lead"}, headers=changing(owner))
    after = (await client.get(path, headers=owner)).json()
    assert after["clinicians"][0]["credential"] == "MD" and after["clinicians"][0]["role"] == "Lead"

    queue = (await client.get("/v1/moderation/queue", headers=moderator)).json()["changes"]
    by_field = {change["field"]: change for change in queue}
    approved = await client.post(f"/v1/moderation/changes/{by_field['npi']['id']}/decision", json={"decision": "approve"}, headers=moderator)
    assert approved.json()["status"] == "approved"
    rejected = await client.post(
        f"/v1/moderation/changes/{by_field['credential']['id']}/decision", json={"decision": "reject", "reason": "no DO license"}, headers=moderator
    )
    assert rejected.json()["status"] == "rejected"
    final = (await client.get(path, headers=owner)).json()
    assert final["npi"] == "1245319599" and final["verification"]["status"] == "pending"
    assert final["clinicians"][0]["credential"] == "MD" and final["pending_changes"] == []
    actions = [entry["action"] for entry in (await client.get(f"{path}/history", headers=owner)).json()["items"]]
    assert "trust_change_approved" in actions and "trust_change_requested" in actions


async def test_moderators_change_trust_fields_directly(client):
    moderator = await account(client, role="moderator")
    published = await create(client)
    changed = await client.patch(f"/v1/providers/{published['id']}", json={"npi": "1245319599"}, headers=changing(moderator))
    assert changed.json()["npi"] == "1245319599" and changed.json()["pending_changes"] == []
