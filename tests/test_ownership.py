"""A provider account touches only its own listings; publishing and suspending are for moderators."""

from __future__ import annotations

import pytest
from conftest import ADMIN
from factories import account, assert_problem, changing, create, listing

WRITES = [
    ("patch", "/v1/providers/{id}", {"name": "Taken over"}),
    ("delete", "/v1/providers/{id}", None),
    ("post", "/v1/providers/{id}/locations", {"postal_code": "10001"}),
    ("patch", "/v1/providers/{id}/locations/{location}", {"name": "Mine now"}),
    ("delete", "/v1/providers/{id}/locations/{location}", None),
    ("post", "/v1/providers/{id}/clinicians", {"first_name": "E", "last_name": "Vil", "credential": "MD"}),
    ("patch", "/v1/providers/{id}/clinicians/{clinician}", {"role": "Owner"}),
    ("delete", "/v1/providers/{id}/clinicians/{clinician}", None),
]


async def _owned(client, owner, **overrides):
    body = listing(status="draft", **overrides)
    response = await client.post("/v1/providers", json=body, headers=owner)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("method", "template", "body"), WRITES)
async def test_a_provider_cannot_change_another_providers_listing(client, method, template, body):
    owner, intruder = await account(client), await account(client)
    mine = await _owned(client, owner)
    # Published by a moderator, so the intruder can read it but still not change it.
    published = await client.patch(f"/v1/providers/{mine['id']}", json={"status": "published"}, headers=changing(ADMIN))
    assert published.status_code == 200
    path = template.format(id=mine["id"], location=mine["locations"][0]["id"], clinician=mine["clinicians"][0]["id"])
    kwargs = {"json": body} if body is not None else {}
    response = await getattr(client, method)(path, headers=changing(intruder), **kwargs)
    assert_problem(response, 403)
    assert (await client.get(f"/v1/providers/{mine['id']}")).json()["version"] == 2


@pytest.mark.parametrize(("method", "template", "body"), WRITES)
async def test_another_providers_unpublished_listing_does_not_exist_for_them(client, method, template, body):
    owner, intruder = await account(client), await account(client)
    mine = await _owned(client, owner)
    path = template.format(id=mine["id"], location=mine["locations"][0]["id"], clinician=mine["clinicians"][0]["id"])
    kwargs = {"json": body} if body is not None else {}
    assert_problem(await getattr(client, method)(path, headers=changing(intruder), **kwargs), 404)
    assert_problem(await client.get(f"/v1/providers/{mine['id']}", headers=intruder), 404)
    assert_problem(await client.get(f"/v1/providers/{mine['id']}/history", headers=intruder), 404)
    assert mine["id"] not in [p["id"] for p in (await client.get("/v1/providers?status=draft", headers=intruder)).json()["items"]]
    assert (await client.get(f"/v1/providers/{mine['id']}", headers=owner)).status_code == 200


async def test_owners_edit_and_submit_but_only_moderators_publish(client):
    owner, moderator = await account(client), await account(client, role="moderator")
    mine = await _owned(client, owner)
    assert_problem(await client.post("/v1/providers", json=listing(status="published"), headers=owner), 422, "status")
    assert_problem(await client.patch(f"/v1/providers/{mine['id']}", json={"status": "published"}, headers=changing(owner)), 422, "status")
    submitted = await client.patch(f"/v1/providers/{mine['id']}", json={"status": "pending_review", "name": "Ours"}, headers=changing(owner))
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending_review"
    assert_problem(await client.get(f"/v1/providers/{mine['id']}"), 404)
    published = await client.patch(f"/v1/providers/{mine['id']}", json={"status": "published"}, headers=changing(moderator))
    assert published.json()["status"] == "published"
    assert (await client.get(f"/v1/providers/{mine['id']}")).status_code == 200
    suspended = await client.patch(f"/v1/providers/{mine['id']}", json={"status": "suspended"}, headers=changing(moderator))
    assert suspended.json()["status"] == "suspended"
    assert_problem(await client.patch(f"/v1/providers/{mine['id']}", json={"status": "draft"}, headers=changing(owner)), 422, "status")
    closed = await client.delete(f"/v1/providers/{(await _owned(client, owner))['id']}", headers=changing(owner))
    assert closed.json()["status"] == "closed"


async def test_the_history_records_who_changed_what(client):
    owner = await account(client)
    mine = await _owned(client, owner)
    await client.patch(f"/v1/providers/{mine['id']}", json={"name": "Renamed", "languages": ["en", "es"]}, headers=changing(owner, '"1"'))
    await client.post(f"/v1/providers/{mine['id']}/locations", json={"postal_code": "99501"}, headers=owner)
    history = (await client.get(f"/v1/providers/{mine['id']}/history", headers=owner)).json()["items"]
    assert [entry["action"] for entry in history] == ["location_added", "updated", "created"]
    updated = history[1]
    assert updated["changes"]["name"] == {"before": "Harbor Ketamine Clinic", "after": "Renamed"}
    assert "languages" not in updated["changes"]  # sent, but unchanged: not recorded
    me = (await client.get("/v1/me", headers=owner)).json()
    assert updated["actor"] == f"provider:{me['id']}"
    assert history[2]["changes"]["name"]["after"] == "Harbor Ketamine Clinic"
    moderator_view = await client.get(f"/v1/providers/{mine['id']}/history?limit=1", headers=await account(client, role="moderator"))
    page = moderator_view.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert_problem(await client.get(f"/v1/providers/{mine['id']}/history"), 401)


async def test_admin_created_listings_have_no_owner_but_moderators_change_them(client):
    body = await create(client)
    moderator = await account(client, role="moderator")
    changed = await client.patch(f"/v1/providers/{body['id']}", json={"name": "Moderated"}, headers=changing(moderator))
    assert changed.status_code == 200
