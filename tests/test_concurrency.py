"""Every change needs the listing's current ETag; concurrent editors lose no acknowledged update."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from conftest import ADMIN
from factories import assert_problem, create

#: (method, path, body, the status of the change with the current version): deleting a listing
#: answers it, closed (200); deleting a location or a clinician answers nothing (204).
CHANGES = [
    ("patch", "/v1/providers/{id}", {"name": "x"}, 200),
    ("delete", "/v1/providers/{id}", None, 200),
    ("patch", "/v1/providers/{id}/locations/{location}", {"name": "x"}, 200),
    ("delete", "/v1/providers/{id}/locations/{location}", None, 204),
    ("patch", "/v1/providers/{id}/clinicians/{clinician}", {"role": "x"}, 200),
    ("delete", "/v1/providers/{id}/clinicians/{clinician}", None, 204),
]


@pytest.mark.parametrize(("method", "template", "body", "status"), CHANGES)
async def test_a_change_without_if_match_is_428_and_a_stale_one_412(client, method, template, body, status):
    listing = await create(client, status="draft")
    path = template.format(id=listing["id"], location=listing["locations"][0]["id"], clinician=listing["clinicians"][0]["id"])
    kwargs = {"json": body} if body is not None else {}
    assert_problem(await getattr(client, method)(path, headers=ADMIN, **kwargs), 428)
    assert_problem(await getattr(client, method)(path, headers={**ADMIN, "If-Match": '"7"'}, **kwargs), 412)
    assert (await client.get(f"/v1/providers/{listing['id']}", headers=ADMIN)).json()["version"] == 1
    current = await getattr(client, method)(path, headers={**ADMIN, "If-Match": '"1"'}, **kwargs)
    assert current.status_code == status, current.text


async def test_concurrent_editors_lose_no_acknowledged_update(live_url):
    client = httpx.AsyncClient(base_url=live_url, timeout=30)
    listing = await create(client, languages=[])
    editors = ["aa", "ab", "ac", "ad", "ae", "af", "ag", "ah"]
    acknowledged: list[str] = []
    conflicts: list[str] = []

    async def add_language(code: str) -> None:
        # Read-modify-write with If-Match, retrying on 412 like a well-behaved client.
        for _ in range(50):
            current = await client.get(f"/v1/providers/{listing['id']}")
            languages = current.json()["languages"] + [code]
            response = await client.patch(
                f"/v1/providers/{listing['id']}",
                json={"languages": languages},
                headers={**ADMIN, "If-Match": current.headers["etag"]},
            )
            if response.status_code == 200:
                acknowledged.append(code)
                return
            assert response.status_code == 412, response.text
            conflicts.append(code)
        raise AssertionError(f"{code} never got through")

    await asyncio.gather(*(add_language(code) for code in editors))
    final = (await client.get(f"/v1/providers/{listing['id']}")).json()
    await client.aclose()
    assert conflicts, "the editors never collided: the test did not exercise concurrency"
    assert sorted(acknowledged) == editors
    assert sorted(final["languages"]) == editors
    assert final["version"] == 1 + len(editors)


async def test_two_servers_on_one_database_give_every_patch_a_version_of_its_own(settings):
    """Two API servers (engines of their own, as two worker processes have) on the same database,
    four concurrent PATCHes with If-Match: * per round: every one answers 200 with a version no
    other answer has, and the last version counts them all (reported once on SQLite: two 200s with
    the same version)."""
    from conftest import LiveServer, empty_listings

    await empty_listings(settings.database_url)
    with LiveServer(settings) as one, LiveServer(settings) as two:
        async with httpx.AsyncClient(base_url=one.url, timeout=30) as a, httpx.AsyncClient(base_url=two.url, timeout=30) as b:
            listing = await create(a)
            versions: list[int] = []
            for round_ in range(10):
                answers = await asyncio.gather(
                    *(
                        client.patch(f"/v1/providers/{listing['id']}", json={"description": f"round {round_}, editor {n}"}, headers={**ADMIN, "If-Match": "*"})
                        for n, client in enumerate((a, b, a, b))
                    )
                )
                assert [answer.status_code for answer in answers] == [200] * 4, [answer.text for answer in answers]
                assert {answer.headers["etag"] for answer in answers} == {f'"{answer.json()["version"]}"' for answer in answers}
                versions += [answer.json()["version"] for answer in answers]
            final = (await b.get(f"/v1/providers/{listing['id']}")).json()["version"]
    assert sorted(versions) == list(range(2, 42)) and final == 41


async def test_listings_that_pair_as_duplicates_change_at_once_without_a_deadlock(live_url):
    """Every listing here pairs with every other (one NPI, phone, site and place), so each change
    rewrites the pairs of listings others are changing at the same moment: no change may fail
    (on PostgreSQL a change once locked its listing too strongly for the pairs' foreign keys, and
    two changes inserted the same new pair: a deadlock or a unique violation, a 500)."""
    client = httpx.AsyncClient(base_url=live_url, timeout=60)
    ids = [(await create(client, name=f"Twin Clinic {n}"))["id"] for n in range(6)]
    changes = [
        {"description": "changed"},
        {"status": "draft"},
        {"status": "published"},
        {"phone": "(212) 555-0199"},
        {"phone": "(212) 555-0100"},
    ]
    answers: list[int] = []

    async def editor(worker: int) -> None:
        for step in range(12):
            target = ids[(worker * 5 + step * 7) % len(ids)]
            if (worker + step) % 9 == 0:
                response = await client.delete(f"/v1/providers/{target}", headers={**ADMIN, "If-Match": "*"})
            else:
                change = changes[(worker + step) % len(changes)]
                response = await client.patch(f"/v1/providers/{target}", json=change, headers={**ADMIN, "If-Match": "*"})
                if response.status_code == 409:  # closed listings are reopened by publishing them
                    response = await client.patch(f"/v1/providers/{target}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})
            answers.append(response.status_code)
            assert response.status_code == 200, response.text

    await asyncio.gather(*(editor(n) for n in range(6)))
    queue = await client.get("/v1/moderation/duplicates", params={"limit": 200}, headers=ADMIN)
    await client.aclose()
    assert answers == [200] * 72
    assert queue.status_code == 200, queue.text
