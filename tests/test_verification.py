"""NPI verification against a local fake of the NPPES registry, serving real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import ADMIN, bare_env, empty_listings, write_directly
from factories import account, assert_problem, create, listing
from fake_http import LocalJsonServer
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from directory.app import create_app
from directory.columns import utcnow
from directory.database import Database
from directory.listings.models import Provider
from directory.recording import standard_recorder
from directory.verification.registry import RegistryClient
from directory.verification.service import VerificationService


def npi(base: str) -> str:
    """A valid NPI: nine digits and the Luhn check digit over the 80840 prefix."""
    digits = [int(d) for d in "80840" + base]
    total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    return base + str((10 - total % 10) % 10)


ORG, CLINICIAN = npi("123456789"), npi("223456789")


def organisation(number: str, name: str = "Harbor Ketamine Clinic PLLC", status: str = "A") -> dict:
    return {"number": number, "enumeration_type": "NPI-2", "basic": {"organization_name": name, "status": status}, "taxonomies": []}


def person(number: str, last: str = "CHEN", state: str = "NY", license: str = "123456") -> dict:
    return {
        "number": number,
        "enumeration_type": "NPI-1",
        "basic": {"first_name": "MAYA", "last_name": last, "credential": "M.D.", "status": "A"},
        "taxonomies": [{"code": "207L00000X", "desc": "Anesthesiology", "primary": True, "state": state, "license": license}],
    }


class FakeRegistry(LocalJsonServer):
    """Answers ?number=...&version=2.1 like the registry; behaviours per NPI can be changed mid-test."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {ORG: organisation(ORG), CLINICIAN: person(CLINICIAN)}
        self.failures: dict[str, list[int]] = {}  # statuses to answer before the record
        #: Cleared: every answer is held until it is set again (a registry that never answers in time).
        self.go = threading.Event()
        self.go.set()
        self.calls: list[str] = []
        super().__init__(self.answer)
        self.url += "/"

    def answer(self, query: dict[str, str]) -> tuple[int, dict | None]:
        number = query.get("number", "")
        self.calls.append(number)
        self.go.wait(timeout=60)
        pending = self.failures.get(number)
        if pending:
            return pending.pop(0), None
        record = self.records.get(number)
        return 200, {"result_count": 1 if record else 0, "results": [record] if record else []}


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    yield fake
    fake.go.set()
    fake.close()


@pytest.fixture
async def verifier(settings, registry):
    database = Database.from_settings(settings)
    client = RegistryClient(registry.url, timeout=0.5, retries=2, backoff=0.01)
    yield VerificationService(database.writer, client, standard_recorder())
    await client.close()
    await database.dispose()


def verified_listing(**overrides) -> dict:
    body = listing(npi=ORG)
    body["clinicians"][0]["npi"] = CLINICIAN
    body.update(overrides)
    return body


async def _created(client, **overrides) -> dict:
    response = await client.post("/v1/providers", json=verified_listing(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_listing_whose_npis_check_out_becomes_verified(client, verifier, registry):
    body = await _created(client)
    assert body["verification"]["status"] == "pending"
    assert await verifier.run_due() == 1
    after = (await client.get(f"/v1/providers/{body['id']}")).json()
    assert after["verification"]["status"] == "verified" and after["verification"]["last_verified_at"]
    assert after["verification"]["verified"] is True
    assert after["verification"]["stale"] is False and after["clinicians"][0]["verification_status"] == "verified"
    assert sorted(registry.calls) == sorted([ORG, CLINICIAN])
    records = (await client.get(f"/v1/providers/{body['id']}/verifications", headers=ADMIN)).json()
    assert {r["result"] for r in records} == {"passed"} and {r["npi"] for r in records} == {ORG, CLINICIAN}
    found = (await client.get("/v1/search", params={"verified": "true"})).json()["items"]
    assert [hit["provider"]["id"] for hit in found] == [body["id"]] and found[0]["provider"]["verified"] is True


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r.records.pop(ORG), "not in the registry"),
        (lambda r: r.records.update({ORG: organisation(ORG, status="D")}), "not active"),
        (lambda r: r.records.update({ORG: organisation(ORG, name="Totally Different Spa LLC")}), "does not match"),
        (lambda r: r.records.update({ORG: person(ORG)}), "organisation NPI"),
        (lambda r: r.records.update({CLINICIAN: person(CLINICIAN, license="999")}), "license"),
        (lambda r: r.records.update({CLINICIAN: person(CLINICIAN, state="CA")}), "license"),
        (lambda r: r.records.update({CLINICIAN: person(CLINICIAN, last="SMITH")}), "does not match"),
    ],
    ids=["not found", "inactive", "name mismatch", "wrong type", "license mismatch", "state mismatch", "clinician name"],
)
async def test_each_failed_check_is_recorded_with_its_reason(client, verifier, registry, change, reason):
    change(registry)
    body = await _created(client)
    await verifier.run_due()
    after = (await client.get(f"/v1/providers/{body['id']}")).json()
    assert after["verification"]["status"] == "failed" and after["verification"]["last_verified_at"] is None
    records = (await client.get(f"/v1/providers/{body['id']}/verifications", headers=ADMIN)).json()
    failed = [r for r in records if r["result"] == "failed"]
    assert failed and any(reason in detail for r in failed for detail in r["details"])


async def test_a_passing_server_error_is_retried_within_the_check(client, verifier, registry):
    registry.failures[ORG] = [503]
    body = await _created(client)
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"] == "verified"
    assert registry.calls.count(ORG) == 2


@pytest.mark.parametrize("outage", ["500s", "timeouts"])
async def test_when_the_registry_is_down_nothing_is_lost(client, verifier, registry, database, outage):
    if outage == "500s":
        registry.failures[ORG] = [500, 500, 500]
    else:
        registry.go.clear()
    body = await _created(client)
    await verifier.run_due()
    waiting = (await client.get(f"/v1/providers/{body['id']}")).json()
    assert waiting["verification"]["status"] == "pending"
    records = (await client.get(f"/v1/providers/{body['id']}/verifications", headers=ADMIN)).json()
    assert [r["result"] for r in records] == ["error"]
    assert await verifier.run_due() == 0  # not due again yet: it backs off
    registry.go.set()
    async with database.writer() as session, session.begin():
        await session.execute(update(Provider).where(Provider.id == uuid.UUID(body["id"])).values(verification_due_at=utcnow()))
    assert await verifier.run_due() == 1
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"] == "verified"


async def test_a_listing_without_an_npi_stays_unverified(client, verifier):
    body = await create(client, npi=None)
    assert body["verification"]["status"] == "unverified"
    assert await verifier.run_due() == 0


async def test_changing_the_npi_or_name_sends_the_listing_back_to_verification(client, verifier):
    body = await _created(client)
    await verifier.run_due()
    renamed = await client.patch(f"/v1/providers/{body['id']}", json={"name": "Harbor Ketamine"}, headers={**ADMIN, "If-Match": "*"})
    assert renamed.json()["verification"]["status"] == "pending"
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"] == "verified"


async def test_a_moderator_asks_for_verification_on_demand(client, verifier, registry):
    body = await _created(client)
    await verifier.run_due()
    moderator = await account(client, role="moderator")
    asked = await client.post(f"/v1/moderation/listings/{body['id']}/verify", headers=moderator)
    assert asked.status_code == 202 and asked.json()["verification"]["status"] == "pending"
    assert await verifier.run_due() == 1
    assert registry.calls.count(ORG) == 2


async def test_old_verifications_are_flagged_stale_and_requeued(client, verifier, database):
    body = await _created(client)
    await verifier.run_due()
    await write_directly(
        database,
        update(Provider).where(Provider.id == uuid.UUID(body["id"])).values(last_verified_at=utcnow() - timedelta(days=400)),
        uuid.UUID(body["id"]),
    )
    stale = (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]
    assert stale["status"] == "verified" and stale["stale"] is True
    assert await verifier.queue_older_than(timedelta(days=365)) == 1
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["stale"] is False


async def test_verification_records_are_for_owners_and_moderators(client):
    owner, other = await account(client), await account(client)
    mine = (await client.post("/v1/providers", json=listing(status="draft"), headers=owner)).json()
    assert (await client.get(f"/v1/providers/{mine['id']}/verifications", headers=owner)).status_code == 200
    assert_problem(await client.get(f"/v1/providers/{mine['id']}/verifications", headers=other), 404)
    assert_problem(await client.get(f"/v1/providers/{mine['id']}/verifications"), 401)


async def test_the_worker_in_the_api_process_verifies_off_the_request_path(settings, registry):
    await empty_listings(settings.database_url)
    running = settings.model_copy(
        update={"verification_worker": True, "verification_interval_seconds": 0.1, "npi_registry_url": registry.url}
    )
    async with AsyncTestClient(app=create_app(running)) as client:
        body = await _created(client)

        async def checked() -> str:
            return (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"]

        # The worker checks it by itself; the bound only keeps a broken worker from hanging the suite.
        status = await asyncio.wait_for(until_not_pending(checked), timeout=60)
    assert status == "verified"


async def until_not_pending(status) -> str:
    while (now := await status()) == "pending":
        await asyncio.sleep(0.02)
    return now


def test_directory_verify_requeues_old_checks_from_the_command_line(tmp_path, registry):
    env = bare_env(DIRECTORY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'verify.db'}", DIRECTORY_NPI_REGISTRY_URL=registry.url)

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "directory", *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    assert "queued for re-verification: 0; checked now: 0" in run("verify", "--older-than", "365d")
    bad = subprocess.run([sys.executable, "-m", "directory", "verify", "--older-than", "soon"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "365d" in bad.stderr


async def test_directory_verify_says_so_and_fails_when_the_registry_cannot_be_reached(tmp_path, registry):
    from conftest import make_settings, prepared

    url = await prepared(f"sqlite+aiosqlite:///{tmp_path / 'verify.db'}")
    async with AsyncTestClient(app=create_app(make_settings(url))) as client:
        await _created(client)  # pending verification, due now
    env = bare_env(DIRECTORY_DATABASE_URL=url, DIRECTORY_NPI_RETRIES="0")
    down = subprocess.run(
        [sys.executable, "-m", "directory", "verify", "--older-than", "365d"],
        env={**env, "DIRECTORY_NPI_REGISTRY_URL": "http://127.0.0.1:9/"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert down.returncode == 1, down.stdout + down.stderr
    assert "could not be reached for 1 check(s)" in down.stderr and "DIRECTORY_NPI_REGISTRY_URL" in down.stderr
    assert "Traceback" not in down.stderr


async def test_an_account_npi_verified_by_the_registry_lets_its_claim_through(client, verifier):
    unowned = await _created(client)
    claimant = await account(client)
    registered = await client.post("/v1/me/npis", json={"npi": ORG}, headers=claimant)
    assert registered.status_code == 202 and registered.json()["status"] == "pending"
    assert_problem(await client.post("/v1/me/npis", json={"npi": "1234567890"}, headers=claimant), 422, "npi")
    await verifier.run_due()
    assert (await client.get("/v1/me/npis", headers=claimant)).json()[0]["status"] == "verified"
    claim = await client.post(f"/v1/providers/{unowned['id']}/claims", json={}, headers=claimant)
    assert claim.status_code == 201 and claim.json()["status"] == "approved"


async def test_an_individuals_npi_is_not_accepted_as_an_accounts_organisation(client, verifier):
    claimant = await account(client)
    await client.post("/v1/me/npis", json={"npi": CLINICIAN}, headers=claimant)
    await verifier.run_due()
    assert (await client.get("/v1/me/npis", headers=claimant)).json()[0]["status"] == "failed"


def aurora(number: str, state: str = "CO", zip_code: str = "80012", other: str | None = None) -> dict:
    record = organisation(number, name="AURORA KETAMINE CENTER, LLC")
    record["addresses"] = [
        {"address_purpose": "MAILING", "state": "TX", "postal_code": "750010000", "city": "DALLAS"},
        {"address_purpose": "LOCATION", "state": state, "postal_code": f"{zip_code}1234", "city": "AURORA"},
    ]
    if other:
        record["other_names"] = [{"organization_name": other, "type": "3"}]
    return record


AURORA_LOCATION = {"address_line1": "1 Havana St", "city": "Aurora", "state": "CO", "postal_code": "80012"}


@pytest.mark.parametrize("name", ["Ketamine", "Center", "Aurora Ketamine Center Discount Pharmacy"])
async def test_loose_names_do_not_verify_with_someone_else_s_npi(client, verifier, registry, name):
    registry.records[ORG] = aurora(ORG)
    body = await _created(client, name=name, locations=[AURORA_LOCATION], clinicians=[])
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"] == "failed"
    records = (await client.get(f"/v1/providers/{body['id']}/verifications", headers=ADMIN)).json()
    assert any("does not match" in detail for record in records for detail in record["details"])


SECOND_ORG = npi("323456789")


async def test_the_registry_s_name_its_other_names_and_its_practice_state_must_agree(client, verifier, registry):
    registry.records[ORG] = aurora(ORG, other="MILE HIGH INFUSIONS")
    registry.records[SECOND_ORG] = aurora(SECOND_ORG, other="MILE HIGH INFUSIONS")
    passing = await _created(client, name="Aurora Ketamine", locations=[AURORA_LOCATION], clinicians=[])
    doing_business_as = await _created(client, npi=SECOND_ORG, name="Mile High Infusions", locations=[AURORA_LOCATION], clinicians=[])
    await verifier.run_due()
    for body in (passing, doing_business_as):
        assert (await client.get(f"/v1/providers/{body['id']}")).json()["verification"]["status"] == "verified", body["name"]


async def test_one_npi_verifies_one_listing_and_a_second_waits_for_a_moderator(client, verifier, registry):
    first = await _created(client, clinicians=[])
    await verifier.run_due()
    second = await _created(client, name="Harbor Ketamine Clinic", clinicians=[])
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{first['id']}")).json()["verification"]["status"] == "verified"
    assert (await client.get(f"/v1/providers/{second['id']}")).json()["verification"]["status"] == "failed"
    details = [d for r in (await client.get(f"/v1/providers/{second['id']}/verifications", headers=ADMIN)).json() for d in r["details"]]
    assert any("already verified with this NPI" in detail and first["slug"] in detail for detail in details), details


async def test_a_texas_record_fails_a_colorado_listing_and_a_zip_elsewhere_fails_too(client, verifier, registry):
    registry.records[ORG] = aurora(ORG, state="TX", zip_code="75201")
    texas = await _created(client, name="Aurora Ketamine Center", locations=[AURORA_LOCATION], clinicians=[])
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{texas['id']}")).json()["verification"]["status"] == "failed"
    details = [d for r in (await client.get(f"/v1/providers/{texas['id']}/verifications", headers=ADMIN)).json() for d in r["details"]]
    assert any("practice location is in TX" in detail and "CO" in detail for detail in details), details
    registry.records[ORG] = aurora(ORG, state="CO", zip_code="80202")
    elsewhere = await _created(client, name="Aurora Ketamine Center", locations=[AURORA_LOCATION], clinicians=[])
    await verifier.run_due()
    assert (await client.get(f"/v1/providers/{elsewhere['id']}")).json()["verification"]["status"] == "failed"


async def test_a_clinician_s_credential_must_be_the_registry_s(client, verifier, registry):
    body = await _created(client)
    body_clinician = body["clinicians"][0]
    assert body_clinician["credential"] == "MD"
    registry.records[CLINICIAN]["basic"]["credential"] = "CRNA"
    await verifier.run_due()
    after = (await client.get(f"/v1/providers/{body['id']}")).json()
    assert after["verification"]["status"] == "failed" and after["clinicians"][0]["verification_status"] == "failed"


async def test_a_claim_waiting_for_its_npi_is_granted_when_the_npi_verifies(client, verifier, database):
    unowned = await _created(client)
    claimant = await account(client)
    await client.post("/v1/me/npis", json={"npi": ORG}, headers=claimant)
    claim = await client.post(f"/v1/providers/{unowned['id']}/claims", json={}, headers=claimant)
    assert claim.status_code == 202 and claim.json()["status"] == "pending"
    verifier.on_account_npi_verified = client.app.state.moderation.grant_matching_claims
    await verifier.run_due()
    me = (await client.get("/v1/me", headers=claimant)).json()
    assert unowned["id"] in me["listings"]
    queue = (await client.get("/v1/moderation/queue", headers=ADMIN)).json()
    assert queue["claims"] == []


@pytest.fixture
async def rechecking(settings, registry):
    """The verifier as the app runs it: re-checks scheduled by itself (365 days), the jitter fixed at its middle."""
    database = Database.from_settings(settings)
    client = RegistryClient(registry.url, timeout=0.5, retries=0, backoff=0.01)
    yield VerificationService(database.writer, client, standard_recorder(), recheck_after=timedelta(days=365), jitter=lambda: 0.5)
    await client.close()
    await database.dispose()


async def _due(database, provider_id: str):
    async with database.reader() as session:
        row = (await session.execute(select(Provider.verification_due_at, Provider.verification_status, Provider.last_verified_at).where(Provider.id == uuid.UUID(provider_id)))).one()
    return row


async def test_a_verified_listing_is_checked_again_by_the_worker_before_it_turns_stale(client, rechecking, registry, database):
    body = await _created(client)
    await rechecking.run_due()
    due, status, first = await _due(database, body["id"])
    assert status == "verified"
    assert timedelta(days=300) < due - first < timedelta(days=302)  # 82.5% of 365 days: before the 365 that make it stale
    registry.calls.clear()
    assert await rechecking.run_due() == 0  # not due yet: nothing asked
    await write_directly(database, update(Provider).where(Provider.id == uuid.UUID(body["id"])).values(verification_due_at=utcnow() - timedelta(seconds=1)), uuid.UUID(body["id"]))
    assert await rechecking.run_due() == 1
    assert ORG in registry.calls
    due_again, status, again = await _due(database, body["id"])
    assert status == "verified" and again > first and due_again > due


async def test_a_failed_listing_is_retried_with_a_growing_wait_and_not_requeued_at_every_run(client, rechecking, registry, database):
    registry.records.pop(ORG)
    body = await _created(client)
    await rechecking.run_due()
    due, status, _ = await _due(database, body["id"])
    assert status == "failed" and timedelta(hours=22) < due - utcnow() < timedelta(days=1)  # a day, less the jitter
    assert await rechecking.queue_older_than(timedelta(days=365)) == 0  # its retry is scheduled already
    await write_directly(database, update(Provider).where(Provider.id == uuid.UUID(body["id"])).values(verification_due_at=utcnow() - timedelta(seconds=1)), uuid.UUID(body["id"]))
    await rechecking.run_due()
    due, status, _ = await _due(database, body["id"])
    assert status == "failed" and timedelta(days=1, hours=21) < due - utcnow() < timedelta(days=2)  # then two
