"""CSV import: the template, validation per row, all-or-nothing, idempotence by external id, access."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from conftest import ADMIN
from factories import account, assert_problem
from test_sync import follow, sync_key

from directory.errors import Conflict
from directory.imports import service, writing

TEMPLATE = (Path(__file__).resolve().parents[1] / "seed" / "import-template.csv").read_text()
CSV = {"Content-Type": "text/csv"}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def post(client, text: str, headers: dict[str, str] = ADMIN, **params: Any):
    return await client.post("/v1/imports", content=text.encode(), headers={**headers, **CSV}, params=params)


async def count(client) -> int:
    page = await client.get("/v1/providers", params={"limit": 100}, headers=ADMIN)
    return len(page.json()["items"])


async def test_the_template_imports_and_a_second_import_changes_nothing(client):
    response = await post(client, TEMPLATE)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["counts"] == {"created": 3} and report["atomic"] is True
    [first, second, third] = report["rows"]
    assert first["line"] == 2 and first["external_id"] == "hvk-001" and first["id"] == second["id"]
    listing = (await client.get(f"/v1/providers/{first['id']}")).json()
    assert listing["name"] == "Hudson Valley Ketamine" and listing["status"] == "published"
    assert [loc["name"] for loc in listing["locations"]] == ["Poughkeepsie office", "Kingston office"]
    assert listing["locations"][0]["hours"][2] == {"day": "fri", "opens": "09:00", "closes": "13:00"}
    assert listing["locations"][1]["timezone"] == "America/New_York"  # inferred, as for the API
    assert listing["price"] == {"min": 400, "max": 550, "currency": "USD"}
    assert {c["code"] for c in listing["conditions"]} == {"ptsd", "treatment-resistant-depression"}
    seattle = (await client.get(f"/v1/providers/{third['id']}")).json()
    assert seattle["locations"][0]["coordinate_source"] == "given" and seattle["rems_certified"] is True

    key = await sync_key(client)
    mirror: dict[str, int] = {}
    cursor = await follow(client, key, mirror)
    assert set(mirror) == {first["id"], third["id"]}

    again = (await post(client, TEMPLATE)).json()
    assert again["counts"] == {"unchanged": 3}
    assert (await client.get(f"/v1/providers/{first['id']}")).json()["version"] == listing["version"]
    await follow(client, key, mirror, cursor)
    assert mirror == {first["id"]: listing["version"], third["id"]: seattle["version"]}


async def test_a_changed_file_updates_listings_in_place(client):
    created = (await post(client, TEMPLATE)).json()["rows"]
    listing = (await client.get(f"/v1/providers/{created[0]['id']}")).json()
    rows = rows_of(TEMPLATE)
    rows[0]["price_max"] = "600"
    rows[0]["conditions"] = "ptsd"
    del rows[1]  # the Kingston office closes
    response = await post(client, to_csv(rows))
    assert response.json()["counts"] == {"updated": 1, "unchanged": 1}, response.text
    after = (await client.get(f"/v1/providers/{created[0]['id']}")).json()
    assert after["version"] == listing["version"] + 1
    assert after["price"]["max"] == 600 and [c["code"] for c in after["conditions"]] == ["ptsd"]
    assert [loc["id"] for loc in after["locations"]] == [listing["locations"][0]["id"]]  # kept its id


async def test_an_invalid_row_rejects_the_whole_file_naming_line_and_column(client):
    rows = rows_of(TEMPLATE)
    rows[1]["state"] = "XX"
    rows[2]["conditions"] = "astrology"
    response = await post(client, to_csv(rows))
    problem = assert_problem(response, 422)
    fields = {error["field"] for error in problem["errors"]}
    assert {"line 3: state", "line 4: conditions"} <= fields
    results = {row["line"]: row["result"] for row in problem["report"]["rows"]}
    assert results == {2: "invalid", 3: "invalid", 4: "invalid"}
    assert await count(client) == 0

    dry = await post(client, to_csv(rows_of(TEMPLATE)), dry_run="true")
    assert dry.json()["counts"] == {"valid": 3} and await count(client) == 0


async def test_partial_import_writes_the_valid_listings_and_reports_the_rest(client):
    rows = rows_of(TEMPLATE)
    rows[2]["hours"] = "someday 9-5"
    report = (await post(client, to_csv(rows), atomic="false")).json()
    assert {row["line"]: row["result"] for row in report["rows"]} == {2: "created", 3: "created", 4: "invalid"}
    assert report["rows"][2]["errors"][0]["field"] == "hours"
    assert await count(client) == 1


async def test_rows_of_one_listing_must_agree(client):
    rows = rows_of(TEMPLATE)
    rows[1]["name"] = "Another Name"
    problem = assert_problem(await post(client, to_csv(rows)), 422)
    assert any(e["field"] == "line 3: name" and "differs from line 2" in e["reason"] for e in problem["errors"])


async def test_file_level_problems(client):
    assert_problem(await post(client, "external_id,name,colour\nx,Y,blue\n"), 422, "colour")
    assert_problem(await post(client, "name\nY\n"), 422, "external_id")
    assert_problem(await post(client, ""), 422, "body")
    assert_problem(await post(client, "external_id,name\n"), 422, "body")
    bad_bytes = await client.post("/v1/imports", content=b"external_id,name\nx,\xff\xfe\n", headers={**ADMIN, **CSV})
    assert_problem(bad_bytes, 422, "body")
    wrong_type = await client.post("/v1/imports", json={"rows": []}, headers=ADMIN)
    assert_problem(wrong_type, 415)
    half = assert_problem(await post(client, "external_id,name,postal_code,latitude\nx,Y,10001,40.7\n"), 422)
    assert [e["field"] for e in half["errors"]] == ["line 2: latitude"]
    states = assert_problem(await post(client, "external_id,name,telehealth,telehealth_states,postal_code\nx,Y,false,NY,10001\n"), 422)
    assert [e["field"] for e in states["errors"]] == ["line 2: telehealth_states"]
    missing_id = assert_problem(await post(client, "external_id,name,postal_code\n,Clinic,10001\n"), 422)
    assert missing_id["errors"][0]["field"] == "line 2: external_id"


async def test_who_may_import_and_whose_ids_are_whose(client):
    assert_problem(await post(client, TEMPLATE, headers={}), 401)
    provider = await account(client)
    assert_problem(await post(client, TEMPLATE, headers=provider), 403)
    key = await sync_key(client)
    mine = (await post(client, TEMPLATE, headers=key)).json()
    assert mine["counts"] == {"created": 3}
    # The administrators' namespace of external ids is another one: the same ids make new listings.
    theirs = (await post(client, TEMPLATE)).json()
    assert theirs["counts"] == {"created": 3}
    assert mine["rows"][0]["id"] != theirs["rows"][0]["id"]
    assert (await post(client, TEMPLATE, headers=key)).json()["counts"] == {"unchanged": 3}


async def test_a_partner_key_imports_for_review_unless_it_is_a_trusted_publisher(client):
    untrusted = await sync_key(client)
    held = (await post(client, TEMPLATE, headers=untrusted)).json()
    assert held["counts"] == {"created": 3}
    statuses = {(await client.get(f"/v1/providers/{row['id']}", headers=ADMIN)).json()["status"] for row in held["rows"]}
    assert statuses == {"pending_review", "draft"} or statuses == {"pending_review"}, statuses
    assert (await client.get("/v1/search", params={"near": "12601", "radius": 100})).json()["items"] == []  # nothing public yet
    first = held["rows"][0]["id"]
    approved = await client.post(f"/v1/moderation/listings/{first}/actions", json={"action": "approve"}, headers=ADMIN)
    assert approved.status_code == 200, approved.text
    # The same file again neither unpublishes what a moderator published nor publishes the rest.
    assert (await post(client, TEMPLATE, headers=untrusted)).json()["counts"] == {"unchanged": 3}
    assert (await client.get(f"/v1/providers/{first}")).json()["status"] == "published"

    body = {"name": "Trusted", "owner_contact": "dev@trusted.example", "scopes": ["read", "sync", "publish"], "rate_limit": 100_000}
    trusted = {"X-API-Key": (await client.post("/v1/admin/api-keys", json=body, headers=ADMIN)).json()["key"]}
    published = (await post(client, TEMPLATE, headers=trusted)).json()
    assert (await client.get(f"/v1/providers/{published['rows'][0]['id']}")).json()["status"] == "published"
    browser = {**body, "kind": "browser", "allowed_origins": ["https://www.trusted.example"]}
    assert_problem(await client.post("/v1/admin/api-keys", json=browser, headers=ADMIN), 422, "scopes")


async def test_an_unknown_column_with_control_characters_is_named_escaped(client):
    """A header holding a NUL once came back in the problem's field and detail, which no problem may hold."""
    answer = await client.post("/v1/imports", content="jo\x1b\x1c\x00o\x10".encode(), headers={**ADMIN, **CSV})
    body = assert_problem(answer, 422)
    assert "\x00" not in body["detail"] and "\x00" not in body["errors"][0]["field"] and "\\x00" in body["errors"][0]["field"]


def _clinics(count: int) -> list[dict[str, str]]:
    """``count`` listings, one row each: every third one named like the first (one slug base), and
    the last one sharing the first one's phone number (a pair inside the file)."""
    base = rows_of(TEMPLATE)[2]
    rows = []
    for number in range(count):
        row = dict(base, external_id=f"batch-{number:03d}", phone=f"(206) 555-{1000 + number:04d}")
        row["name"] = "Harbor Spravato Center" if number % 3 == 0 else f"Sound Clinic {number}"
        row["latitude"], row["longitude"] = f"{47.0 + number * 0.01:.4f}", "-122.3331"
        rows.append(row)
    rows[-1]["phone"] = rows[0]["phone"]
    return rows


async def test_a_file_of_several_batches_is_one_import(client, monkeypatch):
    """Listings are written a batch at a time; slugs stay unique across batches, the history and
    feed hold every listing, and a pair inside the file is found as it would be listing by listing."""
    monkeypatch.setattr(writing, "BATCH", 4)
    monkeypatch.setattr(service, "BATCH", 4)
    rows = _clinics(11)
    response = await post(client, to_csv(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["counts"] == {"created": 11}
    ids = [row["id"] for row in report["rows"]]
    slugs = [(await client.get(f"/v1/providers/{key}")).json()["slug"] for key in ids]
    assert len(set(slugs)) == 11
    assert [slugs[n] for n in (0, 3, 6, 9)] == ["harbor-spravato-center-seattle"] + [f"harbor-spravato-center-seattle-{n}" for n in (2, 3, 4)]
    for key in ids:
        history = (await client.get(f"/v1/providers/{key}/history", headers=ADMIN)).json()
        assert [entry["action"] for entry in history["items"]] == ["created"]
    mirror: dict[str, int] = {}
    await follow(client, await sync_key(client), mirror)
    assert set(mirror) == set(ids)
    assert {d["id"] for d in report["rows"][-1]["possible_duplicates"]} == {ids[0]}
    queue = (await client.get("/v1/moderation/duplicates", params={"limit": 200}, headers=ADMIN)).json()
    assert {frozenset((p["first"]["id"], p["second"]["id"])) for p in queue} == {frozenset((ids[0], ids[-1]))}
    assert (await post(client, to_csv(rows))).json()["counts"] == {"unchanged": 11}


async def test_a_refused_batch_is_retried_listing_by_listing_in_a_partial_import(client, monkeypatch):
    """The database refusing one listing fails that listing only, not the others of its batch; in
    an all-or-nothing import it fails the file, naming the lines that were being written."""
    monkeypatch.setattr(writing, "BATCH", 4)
    monkeypatch.setattr(service, "BATCH", 4)
    original = writing.new_listing

    def refusing(session, caller, data, *args, **kwargs):
        if data.name == "Sound Clinic 5":
            raise Conflict("the change conflicts with another listing (a unique value is already taken)")
        return original(session, caller, data, *args, **kwargs)

    monkeypatch.setattr(writing, "new_listing", refusing)
    rows = _clinics(8)
    problem = assert_problem(await post(client, to_csv(rows)), 422)
    failed = [row for row in problem["report"]["rows"] if row["result"] == "failed"]
    assert [row["line"] for row in failed] == [6]
    assert failed[0]["errors"][0]["reason"].endswith("(writing the listings of lines 6-9)")
    assert {row["result"] for row in problem["report"]["rows"]} == {"failed", "not_written"}
    assert await count(client) == 0

    report = (await post(client, to_csv(rows), atomic="false")).json()
    assert {row["line"]: row["result"] for row in report["rows"]} == {line: "failed" if line == 7 else "created" for line in range(2, 10)}
    assert report["rows"][5]["errors"] == [{"field": "external_id", "reason": "the change conflicts with another listing (a unique value is already taken)"}]
    assert await count(client) == 7


async def test_full_collections_wait_for_the_end_of_an_import(client, monkeypatch):
    """An import's session holds every listing it writes; a full collection in the middle would walk
    them all again. While it writes, the full collection's threshold is high (the young generations
    are still collected); afterwards it is as it was, also when the import fails."""
    import gc

    from directory.collector import BULK_FULL_THRESHOLD

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    original = writing.new_listing

    def watching(*args, **kwargs):
        seen.append(gc.get_threshold())
        return original(*args, **kwargs)

    monkeypatch.setattr(writing, "new_listing", watching)
    assert (await post(client, to_csv(_clinics(3)))).status_code == 200
    assert seen and all(t == (before[0], before[1], max(before[2], BULK_FULL_THRESHOLD)) for t in seen)
    assert gc.get_threshold() == before

    def refusing(*args, **kwargs):
        raise Conflict("the change conflicts with another listing (a unique value is already taken)")

    monkeypatch.setattr(writing, "new_listing", refusing)
    others = [{**row, "external_id": f"other-{n}"} for n, row in enumerate(_clinics(2))]
    assert_problem(await post(client, to_csv(others)), 422)
    assert gc.get_threshold() == before
