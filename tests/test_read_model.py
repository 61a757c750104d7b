"""The read model never drifts: after changes through every write route and command, it equals a
full rebuild from the tables."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ADMIN
from factories import account, changing, create, listing, location
from sqlalchemy import event, select, text, update
from test_verification import CLINICIAN, ORG, FakeRegistry, verified_listing  # noqa: F401

from directory import lean
from directory.columns import utcnow
from directory.database import Database
from directory.listings import readcount, readmodel
from directory.listings.models import Provider
from directory.seeding import SEED_DIR, load_taxonomy

CSV = Path(__file__).resolve().parents[1] / "seed" / "import-template.csv"


async def snapshot(database: Database) -> tuple[list, list]:
    async with database.reader() as session:
        rows = (await session.execute(select(readmodel.search_location).order_by(readmodel.search_location.c.location_id))).all()
        documents = (
            await session.execute(select(readmodel.listing_document).order_by(readmodel.listing_document.c.provider_id))
        ).all()
    return [tuple(row) for row in rows], [tuple(row) for row in documents]


async def narrow_rows(database: Database) -> tuple[list, list]:
    """The counting table's rows, and the same columns of the read model's rows."""
    narrow = readcount.search_count
    async with database.reader() as session:
        kept = (await session.execute(select(narrow).order_by(narrow.c.location_id))).all()
        wide = readmodel.search_location
        projected = (await session.execute(select(*(wide.c[c.name] for c in narrow.columns)).order_by(wide.c.location_id))).all()
    return [tuple(row) for row in kept], [tuple(row) for row in projected]


async def assert_no_drift(database: Database) -> tuple[list, list]:
    before = await snapshot(database)
    kept, projected = await narrow_rows(database)
    assert kept == projected, "the narrow counting rows drifted from the read model"
    await readmodel.reindex(database.write_engine)
    after = await snapshot(database)
    assert before == after
    kept, projected = await narrow_rows(database)
    assert kept == projected and len(kept) == len(after[0])
    return after


async def test_every_write_path_keeps_the_read_model_in_step(client, database, settings, tmp_path):
    owner, moderator = await account(client), await account(client, role="moderator")

    # Listings: create, change, locations, clinicians, close.
    first = await create(client)
    second = await create(client, name="Bay Ketamine", locations=[location(postal_code="94103", city="San Francisco", state="CA")])
    path = f"/v1/providers/{first['id']}"
    changed = await client.patch(path, json={"name": "Harbor Ketamine Center", "conditions": ["ocd"], "insurance_carriers": ["Cigna"]}, headers=changing(ADMIN))
    assert changed.status_code == 200, changed.text
    added = await client.post(f"{path}/locations", json=location(postal_code="10001"), headers=ADMIN)
    assert added.status_code == 201, added.text
    moved = await client.patch(f"{path}/locations/{added.json()['id']}", json={"postal_code": "11201", "city": "Brooklyn"}, headers=changing(ADMIN))
    assert moved.status_code == 200, moved.text
    assert (await client.delete(f"{path}/locations/{added.json()['id']}", headers=changing(ADMIN))).status_code == 204
    clinician = await client.post(f"{path}/clinicians", json={"first_name": "Ana", "last_name": "Ruiz", "credential": "CRNA", "specialty": "nursing"}, headers=ADMIN)
    assert clinician.status_code == 201, clinician.text
    clinician_path = f"{path}/clinicians/{clinician.json()['id']}"
    assert (await client.patch(clinician_path, json={"specialty": "anesthesiology"}, headers=changing(ADMIN))).status_code == 200
    assert (await client.delete(clinician_path, headers=changing(ADMIN))).status_code == 204
    await assert_no_drift(database)
    assert (await client.delete(f"/v1/providers/{second['id']}", headers=changing(ADMIN))).status_code == 200

    # Moderation: review, suspend, restore, verify now, a held trust change, a claim.
    submitted = await client.post("/v1/providers", json=listing(name="Owned Clinic", status="pending_review"), headers=owner)
    assert submitted.status_code == 201, submitted.text
    actions = f"/v1/moderation/listings/{submitted.json()['id']}/actions"
    assert (await client.post(actions, json={"action": "approve"}, headers=moderator)).status_code == 200
    assert (await client.post(actions, json={"action": "suspend", "reason": "complaints"}, headers=moderator)).status_code == 200
    assert (await client.post(actions, json={"action": "restore"}, headers=moderator)).status_code == 200
    assert (await client.post(f"/v1/moderation/listings/{first['id']}/verify", headers=moderator)).status_code == 202
    held = await client.patch(f"/v1/providers/{submitted.json()['id']}", json={"npi": "1234567893", "description": "Now with a held change."}, headers=changing(owner))
    assert held.status_code == 200, held.text
    queue = (await client.get("/v1/moderation/queue", headers=moderator)).json()
    for change in queue["changes"]:
        decided = await client.post(f"/v1/moderation/changes/{change['id']}/decision", json={"decision": "approve"}, headers=moderator)
        assert decided.status_code == 200, decided.text
    claimant = await account(client)
    claim = await client.post(f"/v1/providers/{first['id']}/claims", json={"message": "mine"}, headers=claimant)
    assert claim.status_code == 202, claim.text  # the claimant has no verified NPI: it waits for a moderator
    assert (await client.post(f"/v1/moderation/claims/{claim.json()['id']}/decision", json={"decision": "approve"}, headers=moderator)).status_code == 200
    await assert_no_drift(database)

    # CSV import.
    imported = await client.post("/v1/imports", content=CSV.read_bytes(), headers={**ADMIN, "Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    await assert_no_drift(database)

    # Verification: the worker's outcome, and re-queueing old checks.
    from directory.recording import standard_recorder
    from directory.verification.registry import RegistryClient
    from directory.verification.service import VerificationService

    registry = FakeRegistry()
    checked = await client.post("/v1/providers", json=verified_listing(name="Checked Clinic"), headers=ADMIN)
    assert checked.status_code == 201, checked.text
    registry_client = RegistryClient(registry.url, timeout=0.5, retries=0, backoff=0.01)
    service = VerificationService(database.writer, registry_client, standard_recorder())
    try:
        while await service.run_due():
            pass
        async with database.writer() as session, session.begin():
            # Only rows the re-queueing below takes up: this write itself goes around the recorder.
            checked_rows = Provider.verification_status.in_(["verified", "failed"])
            await session.execute(update(Provider).where(checked_rows).values(last_verified_at=utcnow() - timedelta(days=400)))
        assert await service.queue_older_than(timedelta(days=365)) >= 1
    finally:
        await registry_client.close()
        registry.close()
    await assert_no_drift(database)

    # A taxonomy entry renamed: listings show its new name.
    folder = tmp_path / "seed"
    folder.mkdir()
    taxonomy = json.loads((SEED_DIR / "taxonomy.json").read_text())
    for entry in taxonomy["conditions"]:
        if entry["code"] == "ptsd":
            entry["name"] = "Post-traumatic stress"
    (folder / "taxonomy.json").write_text(json.dumps(taxonomy))
    try:
        await load_taxonomy(database, folder)
        rows, documents = await assert_no_drift(database)
        assert any("Post-traumatic stress" in row[-1] for row in documents)
    finally:
        await load_taxonomy(database)
    await assert_no_drift(database)


async def test_only_published_listings_are_in_the_read_model(client, database):
    draft = (await client.post("/v1/providers", json=listing(status="draft"), headers=ADMIN)).json()
    published = await create(client, name="Public Clinic")
    rows, documents = await snapshot(database)
    assert {row[1] for row in rows} == {uuid.UUID(published["id"])}
    assert [row[0] for row in documents] == [uuid.UUID(published["id"])]
    assert draft["id"] != published["id"]


_listeners: list = []


def _count_statements(client) -> list[str]:
    statements: list[str] = []
    engine = client.app.state.database.read_engine.sync_engine

    def listener(_c, _cur, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    _listeners.append(listener)
    # PostgreSQL runs a kept walk on the driver itself, which SQLAlchemy's events do not see.
    lean.observers.append(statements.append)
    return statements


@pytest.fixture(autouse=True)
def _stop_observing():
    yield
    lean.observers.clear()


async def test_a_public_read_is_one_statement_and_answers_304_when_unchanged(client):
    created = await create(client)
    statements = _count_statements(client)
    read = await client.get(f"/v1/providers/{created['slug']}")
    assert read.status_code == 200 and read.json()["id"] == created["id"]
    assert read.headers["etag"] == f'"{created["version"]}"' and read.headers["cache-control"] == "public, max-age=60"
    assert len(statements) == 1
    assert (await client.get(f"/v1/providers/{created['id']}", headers={"If-None-Match": read.headers["etag"]})).status_code == 304
    changed = await client.patch(f"/v1/providers/{created['id']}", json={"name": "Renamed"}, headers=changing(ADMIN))
    again = await client.get(f"/v1/providers/{created['id']}", headers={"If-None-Match": read.headers["etag"]})
    assert again.status_code == 200 and again.json()["name"] == "Renamed" and again.headers["etag"] == changed.headers["etag"]


async def test_the_common_search_page_is_one_statement(client):
    await create(client)
    # Within the first box SQLite tries (8 km); wider searches on SQLite grow the box a step at a time.
    near = {"lat": 40.7484, "lon": -73.9857, "radius": 3, "condition": "ptsd"}
    assert (await client.get("/v1/search", params=near)).status_code == 200  # taxonomy and place caches warm
    statements = _count_statements(client)
    page = await client.get("/v1/search", params=near)
    assert page.status_code == 200 and len(page.json()["items"]) == 1
    assert len(statements) == 1


async def test_totals_and_facets_read_the_narrow_rows_and_free_text_the_wide_ones(client, database):
    await create(client)
    await create(client, name="Quillfeather Ketamine Clinic")
    near = {"lat": 40.7484, "lon": -73.9857, "radius": 10, "total": "true", "facets": "true"}

    def ptsd(page: dict) -> int:
        return next(entry["count"] for entry in page["facets"]["condition"] if entry["value"] == "ptsd")

    before = (await client.get("/v1/search", params=near)).json()
    assert before["total"] >= 2 and ptsd(before) >= 2
    # Take one listing's rows out of the narrow table alone: the counts read it, the page does not.
    async with database.writer() as session:
        quill = (await session.execute(select(Provider.id).where(Provider.name == "Quillfeather Ketamine Clinic"))).scalar_one()
        await session.execute(readcount.search_count.delete().where(readcount.search_count.c.provider_id == quill))
        await session.commit()
    page = (await client.get("/v1/search", params={**near, "limit": 100})).json()
    assert str(quill) in {item["provider"]["id"] for item in page["items"]}
    assert page["total"] == before["total"] - 1 and ptsd(page) == ptsd(before) - 1
    # Free text is matched on the wide rows' words: such counts read the wide rows.
    worded = (await client.get("/v1/search", params={**near, "q": "quillfeather"})).json()
    assert [item["provider"]["id"] for item in worded["items"]] == [str(quill)] and worded["total"] == 1


async def test_the_narrow_rows_follow_any_change_to_the_read_model_rows(client, database):
    """Updated in place (as a migration may do) or emptied at once, the narrow rows follow."""
    from sqlalchemy import text

    await create(client)
    await create(client, name="Bay Ketamine", locations=[location(postal_code="94103", city="San Francisco", state="CA")])
    async with database.writer() as session:
        await session.execute(text("UPDATE search_location SET accepting = NOT accepting, price_min = 123"))
        await session.commit()
    kept, projected = await narrow_rows(database)
    assert kept == projected and kept
    assert {row[readcount.search_count.c.keys().index("price_min")] for row in kept} == {123}
    async with database.writer() as session:
        await session.execute(text("TRUNCATE search_location" if database.dialect == "postgresql" else "DELETE FROM search_location"))
        await session.commit()
    assert await narrow_rows(database) == ([], [])


def test_a_condition_moves_to_the_narrow_rows_unless_it_reads_the_words():
    from sqlalchemy import func

    from directory.search.narrow import on_narrow

    S = readmodel.search_location.c
    moved = on_narrow(select(func.count()).where(S.conditions.op("&")(4) != 0, S.location_id.in_(select(S.location_id).where(S.sample < 4))))
    assert moved is not None
    sql = str(moved)
    assert "search_count" in sql and "search_location" not in sql
    assert on_narrow(select(func.count()).where(S.words.contains("ketamine"))) is None


async def test_a_row_s_words_hold_each_word_of_a_taxonomy_entry_once_and_free_text_still_finds_them(client, database):
    # Three depressions under one parent repeat "depression", "depresion" and the parent's names.
    created = await create(client, conditions=["major-depression", "treatment-resistant-depression", "bipolar-depression"])
    async with database.reader() as session:
        words = (await session.execute(select(readmodel.search_location.c.words))).scalar_one()
    # The name, the description, three conditions, one service, the clinician, the location's note.
    lines = words.split("\n")
    assert len(lines) == 8 and lines[0] == "harbor ketamine clinic"
    for line in lines[2:6]:
        assert len(line.split()) == len(set(line.split())), f"a repeated word in {line!r}"
        assert "depressed" in line.split() or line.startswith("ketamine iv")  # the parent's words too
    # Words of an entry, its translation and the entry above it, each found by free text.
    for word in ("depresion", "refractaria", "unipolar", "manic", "depressive", "ketamina"):
        found = await client.get("/v1/search", params={"q": word})
        assert [hit["provider"]["id"] for hit in found.json()["items"]] == [created["id"]], word


async def test_a_rebuild_vacuums_the_read_model_on_postgresql(client, database, backend):
    if backend != "postgres":
        pytest.skip("VACUUM is PostgreSQL's: SQLite rewrites pages in place")
    for number in range(3):
        await create(client, name=f"Rebuilt Clinic {number}")
    async with database.reader() as session:
        started = (await session.execute(text("SELECT now()"))).scalar_one()
    # Every row of the read model is replaced; the old ones must not wait for autovacuum. (The
    # counter of dead rows is no witness: a connection reports its deletions up to seconds later.)
    await readmodel.reindex(database.write_engine)
    async with database.reader() as session:
        rows = await session.execute(
            text("SELECT relname, last_vacuum >= :started, last_analyze >= :started FROM pg_stat_user_tables WHERE relname IN ('search_location', 'search_count', 'listing_document')"),
            {"started": started},
        )
        assert sorted(tuple(row) for row in rows) == [("listing_document", True, True), ("search_count", True, True), ("search_location", True, True)]


async def test_counts_beyond_the_exact_limit_are_estimated_from_the_sample(settings):
    from conftest import empty_listings
    from litestar.testing import AsyncTestClient
    from test_search import NYC, offset, publish

    from directory.app import create_app
    from directory.listings.readmodel import SAMPLE_BUCKETS, SAMPLED, sample_of

    await empty_listings(settings.database_url)
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"exact_count_limit": 10}))) as client:
        created = [await publish(client, f"clinic {n}", offset(NYC, n / 10), conditions=["ptsd"]) for n in range(40)]
        near = {"lat": NYC[0], "lon": NYC[1], "radius": 10, "condition": "ptsd", "total": "true", "facets": "true"}
        scale = SAMPLE_BUCKETS // SAMPLED

        def expected(listings: list[dict]) -> tuple[bool, int]:
            """Estimated (16 times the matches in the sample) when that passes the limit; else exact."""
            in_sample = sum(sample_of(uuid.UUID(listing["id"])) < SAMPLED for listing in listings)
            return (True, in_sample * scale) if in_sample * scale > 10 else (False, len(listings))

        for radius, matching in ((10, created), (0.95, created[:10])):
            page = (await client.get("/v1/search", params={**near, "radius": radius})).json()
            estimated, total = expected(matching)
            assert page["estimated"] is estimated and page["total"] == total
            assert page["facets"]["condition"] == [{"value": "ptsd", "count": total}]


async def test_estimates_stay_within_the_sampling_error_on_the_benchmark_data(tmp_path):
    """The bench's generator (real city geography), every count estimated: each estimated total is
    within four standard deviations of the exact one (a binomial sample of one in sixteen), and the
    pooled error of the facet counts is reported as the bench reports it."""
    import math

    from directory.bench.accuracy import answers, estimate_error
    from directory.bench.data import cities
    from directory.bench.load import load, prepare
    from directory.listings.readmodel import SAMPLE_BUCKETS, SAMPLED

    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    await prepare(url)
    await load(url, 6000)
    lat, lon, _, _ = max(cities(200_000), key=lambda place: place[3])
    searches = [
        ("/v1/search", {"lat": lat, "lon": lon, "radius": radius, "unit": "km", "total": "true", "facets": "true", **extra})
        for radius in (50, 300)
        for extra in ({}, {"condition": "ptsd"}, {"service": "ketamine-iv"})
    ]
    exact = await answers(url, searches, 10**12)
    error = await estimate_error(url, searches, exact_count_limit=0)
    assert error["searches_estimated"] == len(searches)
    scale = SAMPLE_BUCKETS / SAMPLED
    # One standard deviation of the relative error of 16 x Binomial(n, 1/16), for the smallest total.
    worst = max(math.sqrt(answer["total"] * (scale - 1)) / answer["total"] for answer in exact)
    assert error["total_max_pct"] <= 100 * 4 * worst
    assert error["facets_pooled_pct"] is None or error["facets_pooled_pct"] < 100 * 4 * worst


async def test_remote_and_beyond_hits_come_in_the_same_statement(client, backend):
    """A page that does not fill: the telehealth-only listings serving the state come with the walk,
    and on PostgreSQL the nearest beyond the radius too (SQLite grows its box a step at a time)."""
    await create(client)
    body = {"name": "Online", "status": "published", "conditions": ["ptsd"], "telehealth": True, "telehealth_states": ["NY"]}
    assert (await client.post("/v1/providers", json=body, headers=ADMIN)).status_code == 201
    near = {"lat": 40.7484, "lon": -73.9857, "radius": 3, "condition": "ptsd"}
    assert (await client.get("/v1/search", params=near)).status_code == 200
    statements = _count_statements(client)
    page = (await client.get("/v1/search", params=near)).json()
    assert [hit["remote"] for hit in page["items"]] == [False, True]
    assert len(statements) == 1
    statements.clear()
    far = {"lat": 41.5, "lon": -74.5, "radius": 3, "condition": "ptsd", "beyond_radius": "true"}
    page = (await client.get("/v1/search", params=far)).json()
    assert [hit["remote"] for hit in page["items"]] == [True] and len(page["beyond_radius"]) == 1
    if backend == "postgres":
        assert len(statements) == 1


async def test_the_benchmark_s_searches_keep_their_statement_counts(client, backend):
    """B and C are one statement. D (A with total and facets) is four where the matches are few:
    the walk, the sample's count (which decides that counting exactly is cheap), the few locations
    in the thin band at the radius that the ellipsoid puts outside, and the exact facets and total;
    one statement for every facet however many filters are ticked (where the matches are many, the
    sample's facets are the answer: three)."""
    await create(client)
    body = {"name": "Online", "status": "published", "conditions": ["ptsd"], "telehealth": True, "telehealth_states": ["NY"]}
    assert (await client.post("/v1/providers", json=body, headers=ADMIN)).status_code == 201
    shapes = {
        "B": ({"near": "10118", "radius": 3, "condition": "ptsd", "service": "ketamine-iv", "accepting_new_patients": "true"}, 1),
        "C": ({"bbox": "-74.0,40.74,-73.98,40.76", "limit": 100}, 1),
        "D": ({"lat": 40.7484, "lon": -73.9857, "radius": 3, "condition": "ptsd", "total": "true", "facets": "true"}, 4),
        "D, two conditions and a payment": (
            {"lat": 40.7484, "lon": -73.9857, "radius": 3, "condition": ["ptsd", "ocd"], "payment": "self_pay", "total": "true", "facets": "true"}, 4,
        ),
    }
    for name, (params, expected) in shapes.items():
        assert (await client.get("/v1/search", params=params)).status_code == 200  # caches warm
        statements = _count_statements(client)
        page = (await client.get("/v1/search", params=params)).json()
        assert page["items"], name
        assert len(statements) == expected, (name, [statement[:100] for statement in statements])
        event.remove(client.app.state.database.read_engine.sync_engine, "before_cursor_execute", _listeners.pop())
        lean.observers.clear()


async def test_a_rebuild_by_several_jobs_in_small_batches_writes_the_same_read_model(client, database):
    names = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo"]
    for name in names:
        await create(client, name=f"{name} Infusions", status="published")
    await create(client, name="Draft Only", status="draft")  # not published: not in the read model
    assert await readmodel.reindex(database.write_engine, jobs=1) == len(names)
    alone = await snapshot(database)
    seen: list[tuple[int, int]] = []
    written = await readmodel.reindex(database.write_engine, lambda done, total: seen.append((done, total)), jobs=3, batch=2)
    assert written == len(names) and await snapshot(database) == alone
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[-1] == (len(names), len(names))
    assert len(alone[1]) == len(names)


async def test_counting_statements_kept_by_shape_take_each_search_its_own_point(client, database):
    """Totals, facets and the exact radius's exclusions run as statements kept by the search's shape
    (on PostgreSQL, on the driver): a search of that shape at another point runs them with its own
    point and its own exclusions, and counts what statements built afresh count."""
    from test_search import NYC, offset, publish

    from directory.search import shapes
    from directory.search.geodesy import geodesic_m

    centres = [NYC, offset(NYC, 6), offset(NYC, 3)]
    points = [offset(NYC, miles) for miles in range(12)]
    # Just outside each of the first two circles on the ellipsoid, inside on the sphere (east-west the
    # ellipsoid's miles are longer here): the exact radius leaves it out, a different one for each.
    points += [offset(centre, 3.005) for centre in centres[:2]]
    for n, point in enumerate(points):
        await publish(client, f"Mile {n}", point, conditions=["ptsd"] if n % 2 else ["ocd"])

    def expected(centre: tuple[float, float]) -> tuple[int, dict[str, int]]:
        """PTSD's matches; a condition's count is what ticking it too gives (PTSD or it)."""
        near = [n for n, point in enumerate(points) if geodesic_m(*centre, *point) <= 3 * 1609.344 + 0.001]
        ptsd = sum(n % 2 for n in near)
        return ptsd, {"ptsd": ptsd, "ocd": len(near)}

    def answer(page: dict) -> tuple[int, dict[str, int]]:
        return page["total"], {entry["value"]: entry["count"] for entry in page["facets"]["condition"] if entry["value"] in ("ptsd", "ocd")}

    async def counted(centre: tuple[float, float]) -> tuple[int, dict[str, int]]:
        params = {"lat": centre[0], "lon": centre[1], "radius": 3, "unit": "mi", "condition": "ptsd", "total": "true", "facets": "true"}
        response = await client.get("/v1/search", params=params)
        assert response.status_code == 200, response.text
        return answer(response.json())

    shapes._COUNTING._kept.clear()
    first = await counted(centres[0])
    kept = len(shapes._COUNTING._kept)
    assert kept == (3 if database.dialect == "postgresql" else 0)  # the band, the sample's total, the facets
    answers = [first] + [await counted(centre) for centre in centres[1:]]
    assert len(shapes._COUNTING._kept) == kept, "a search of the same shape composed its counting statements again"
    assert answers == [expected(centre) for centre in centres]
    assert len({total for total, _ in answers}) == 3
    shapes._COUNTING._kept.clear()
    assert await counted(centres[1]) == answers[1]
