"""Consultation requests: a patient asks a clinic to contact them; the clinic gets it by mail and in
its inbox; the requester can withdraw it; the personal data is sealed, kept from everyone else and
deleted on time."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ADMIN, write_directly
from cryptography.fernet import Fernet
from factories import account, assert_problem, listing
from smtp_inbox import Mailbox
from sqlalchemy import select, text, update
from test_sync import sync_key

from directory import cursors
from directory.accounts.models import Account
from directory.columns import utcnow
from directory.consultations.delivery import Delivery
from directory.consultations.models import ConsultationAccess, ConsultationRequest, ConsultationTally
from directory.consultations.sealing import Sealer, derived_key, reseal_database
from directory.consultations.service import Consultations
from directory.mail import SmtpMailer
from directory.ratelimit import MemoryLimitStore

PATIENT = {
    "name": "Sam Rivera",
    "phone": "(303) 555-0142",
    "email": "sam.rivera@patients.example",
    "preferred_contact": "phone",
    "preferred_time": "weekday mornings",
    "message": "Asking for my brother.",
    "consent": True,
}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


async def clinic(client, database, name: str = "Cedar Ketamine") -> tuple[dict, dict, str]:
    """A published listing owned by a clinic account with a confirmed address, taking requests."""
    owner = await account(client)
    me = (await client.get("/v1/me", headers=owner)).json()
    await write_directly(database, update(Account).where(Account.id == uuid.UUID(me["id"])).values(email_verified_at=utcnow()))
    made = await client.post("/v1/providers", json=listing(name=name, status="draft", npi=None), headers=owner)
    assert made.status_code == 201, made.text
    published = await client.patch(f"/v1/providers/{made.json()['id']}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})
    assert published.status_code == 200, published.text
    turned_on = await client.put(f"/v1/providers/{made.json()['id']}/consultation-settings", json={"accepting": True, "email": me["email"]}, headers=owner)
    assert turned_on.status_code == 200, turned_on.text
    return made.json(), owner, me["email"]


def aged_token(settings, provider_id: str, seconds: int = 10) -> str:
    """A form token as if the form had been shown ``seconds`` ago."""
    return cursors.encode([provider_id, int(time.time()) - seconds], settings.secret_key)


def service_for(settings) -> Consultations:
    """The app's consultation service as a separate worker process builds it (same keys, same database)."""
    from directory.recording import standard_recorder

    return Consultations(Sealer.from_settings(settings), MemoryLimitStore(), settings.secret_key, timedelta(days=settings.consultation_retention_days), standard_recorder())


async def test_a_patient_asks_the_clinic_hears_and_the_patient_can_withdraw(client, database, settings, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    listing_, owner, clinic_email = await clinic(client, database)
    key = listing_["id"]
    public = (await client.get(f"/v1/providers/{key}")).json()
    assert public["accepts_consultation_requests"] is True and "consultation_email" not in public
    form = (await client.get(f"/v1/providers/{listing_['slug']}/consultation-form")).json()
    assert form["accepting"] is True and form["min_seconds"] == 3
    # A form sent at once is a robot's.
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": form["form_token"]}), 422, "form_token")
    sent = await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key)})
    assert sent.status_code == 202, sent.text
    reference = sent.json()["reference"]
    assert sent.json()["confirmation_mail"] is True
    # The same request again is folded into the first.
    again = await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key)})
    assert again.status_code == 202 and again.json()["reference"] == reference

    # At rest: no column holds any of it in clear.
    async with database.reader() as session:
        row = (await session.execute(text("SELECT * FROM consultation_request"))).mappings().one()
    stored = " ".join(str(value) for value in row.values()).lower()
    for secret in ("sam rivera", "rivera", "3035550142", "555-0142", "patients.example", "brother", "mornings"):  # long enough never to occur by chance
        assert secret not in stored, secret

    # Delivered off the request path, by the app's worker (here: the test's own, on the same database).
    delivery = Delivery(database.writer, service_for(settings), SmtpMailer(mailbox.url, "no-reply@directory.test"))
    assert await delivery.run_due() == 1
    assert await delivery.run_due() == 0
    (to_clinic,) = mailbox.to(clinic_email)
    body = Mailbox.text(to_clinic)
    assert to_clinic["Subject"] == "New consultation request for Cedar Ketamine"
    assert "Sam Rivera" in body and "+13035550142" in body and "weekday mornings" in body and f"/portal/listings/{key}/consultations" in body
    withdraw_link = mailbox.link(PATIENT["email"], "/consultations/withdraw")

    # The owners' inbox.
    (item,) = (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json()
    assert item["name"] == "Sam Rivera" and item["delivered"] is True and item["repeats"] == 1 and item["status"] == "new"
    marked = await client.patch(f"/v1/providers/{key}/consultation-requests/{reference}", json={"status": "contacted"}, headers=owner)
    assert marked.status_code == 200 and marked.json()["status"] == "contacted"
    # Nobody else reads it: another clinic, a moderator (only through the recorded reading), anyone.
    assert_problem(await client.get(f"/v1/providers/{key}/consultation-requests", headers=await account(client)), 404)
    assert_problem(await client.get(f"/v1/providers/{key}/consultation-requests", headers=ADMIN), 403)
    assert_problem(await client.get(f"/v1/providers/{key}/consultation-requests"), 401)
    assert_problem(await client.patch(f"/v1/providers/{key}/consultation-requests/{reference}", json={"status": "closed"}, headers=await account(client)), 404)
    # Nor the feed, the export, FHIR or HSDS.
    sync = await sync_key(client)
    for path in ("/v1/changes", "/v1/export/providers.ndjson", f"/fhir/Organization/{key}", f"/hsds/organizations/{key}", f"/v1/providers/{key}"):
        answer = (await client.get(path, headers=sync)).text.lower()
        assert "rivera" not in answer and "patients.example" not in answer, path

    # The requester withdraws: deleted at once. The link opens a page with the button.
    page = await client.get(urlsplit(withdraw_link).path + "?" + urlsplit(withdraw_link).query)
    assert page.status_code == 200 and "Withdraw my request" in page.text and page.headers["referrer-policy"] == "no-referrer"
    query = parse_qs(urlsplit(withdraw_link).query)
    gone = await client.post(f"/v1/consultation-requests/{query['request'][0]}/withdrawal", json={"token": query["token"][0]})
    assert gone.status_code == 200 and gone.json() == {"status": "withdrawn"}
    assert (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json() == []
    assert_problem(await client.post(f"/v1/consultation-requests/{reference}/withdrawal", json={"token": query["token"][0]}), 404)
    # The counts stay (no contents).
    volumes = (await client.get("/v1/moderation/consultations", headers=ADMIN)).json()
    assert volumes["by_listing"][0]["id"] == key and volumes["by_listing"][0]["total"] == 1
    assert volumes["by_partner"][0]["id"] is None and volumes["by_partner"][0]["this_month"] == 1
    # And no log line of all this named the person: ids only. (The test's own SMTP server, standing for
    # the clinic's mail server, logs what it receives under mail.log: that is not the directory's log.)
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")).lower()
    assert "consultation request" in logged
    for secret in ("rivera", "3035550142", "555-0142", "patients.example", "brother", "mornings"):
        assert secret not in logged, secret


async def test_only_a_clinic_with_a_confirmed_owner_address_takes_requests(client, database, settings):
    listing_, owner, email = await clinic(client, database)
    key = listing_["id"]
    assert_problem(await client.put(f"/v1/providers/{key}/consultation-settings", json={"accepting": True, "email": "someone@else.example"}, headers=owner), 422, "email")
    assert_problem(await client.put(f"/v1/providers/{key}/consultation-settings", json={"accepting": True}, headers=owner), 422, "email")
    assert_problem(await client.put(f"/v1/providers/{key}/consultation-settings", json={"accepting": True, "email": email}, headers=await account(client)), 404)
    off = await client.put(f"/v1/providers/{key}/consultation-settings", json={"accepting": False}, headers=owner)
    assert off.status_code == 200 and off.json() == {"accepting": False, "email": None}
    assert (await client.get(f"/v1/providers/{key}")).json()["accepts_consultation_requests"] is False
    assert (await client.get(f"/v1/providers/{key}/consultation-form")).json() == {"accepting": False, "form_token": None, "min_seconds": 3}
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key)}), 404)
    # A listing nobody claimed never takes them.
    unowned = (await client.post("/v1/providers", json=listing(name="Unclaimed Ketamine", npi=None), headers=ADMIN)).json()
    assert (await client.get(f"/v1/providers/{unowned['id']}/consultation-form")).json()["accepting"] is False


async def test_requests_are_checked_limited_and_the_honeypot_drops_robots(client, database, settings):
    listing_, owner, _ = await clinic(client, database)
    key = listing_["id"]
    token = aged_token(settings, key)
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "phone": None, "email": None, "form_token": token}), 422)
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "consent": False, "form_token": token}), 422)
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "email": "not-an-address", "form_token": token}), 422, "email")
    other = (await clinic(client, database, "Birch Ketamine"))[0]
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, other["id"])}), 422, "form_token")
    assert_problem(await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key, 2 * 86400)}), 422, "form_token")
    dropped = await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "website": "http://spam.example", "form_token": token})
    assert dropped.status_code == 202
    assert (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json() == []
    for n in range(4):  # with the honeypot's, five from one address in an hour
        response = await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "name": f"Person {n}", "form_token": token})
        assert response.status_code == 202, response.text
    limited = await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "name": "One more", "form_token": token})
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0


async def test_requests_are_deleted_after_the_retention_period_and_moderators_readings_are_recorded(client, database, settings):
    listing_, owner, _ = await clinic(client, database)
    key = listing_["id"]
    reference = (await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key)})).json()["reference"]
    assert_problem(await client.post(f"/v1/moderation/consultation-requests/{reference}/reading", json={"reason": "x"}, headers=ADMIN), 422, "reason")
    assert_problem(await client.post(f"/v1/moderation/consultation-requests/{reference}/reading", json={"reason": "reported as spam"}, headers=owner), 403)
    read = await client.post(f"/v1/moderation/consultation-requests/{reference}/reading", json={"reason": "reported as spam"}, headers=ADMIN)
    assert read.status_code == 200 and read.json()["name"] == "Sam Rivera"
    consultations = service_for(settings)
    async with database.writer() as session:
        assert await consultations.purge(session, utcnow() + timedelta(days=89)) == 0
    async with database.writer() as session:
        assert await consultations.purge(session, utcnow() + timedelta(days=91)) == 1
    async with database.reader() as session:
        assert (await session.execute(select(ConsultationRequest))).first() is None
        (audit,) = (await session.execute(select(ConsultationAccess))).scalars().all()
        tally = (await session.execute(select(ConsultationTally.count))).scalar_one()
    assert audit.actor == "admin" and audit.reason == "reported as spam" and str(audit.request_id) == reference and tally == 1


async def test_a_clinic_mail_that_cannot_be_sent_waits_and_is_retried(client, database, settings, mailbox):
    listing_, owner, clinic_email = await clinic(client, database)
    key = listing_["id"]
    await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "email": None, "form_token": aged_token(settings, key)})
    down = Delivery(database.writer, service_for(settings), SmtpMailer("smtp://127.0.0.1:9", "no-reply@directory.test", timeout=2))
    assert await down.run_due() == 1
    (item,) = (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json()
    assert item["delivered"] is False  # the inbox shows it all the same
    assert await down.run_due() == 0  # not due again before its retry time
    up = Delivery(database.writer, service_for(settings), SmtpMailer(mailbox.url, "no-reply@directory.test"))
    assert await up.run_due(utcnow() + timedelta(minutes=1)) == 1
    assert len(mailbox.to(clinic_email)) == 1
    (item,) = (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json()
    assert item["delivered"] is True


async def test_the_sealing_key_is_rotated_without_losing_a_request(client, database, settings):
    listing_, owner, _ = await clinic(client, database)
    key = listing_["id"]
    await client.post(f"/v1/providers/{key}/consultation-requests", json={**PATIENT, "form_token": aged_token(settings, key)})
    new_key = Fernet.generate_key().decode()
    # A new key first, the old one (here derived from the secret) still there to open what it sealed.
    rotating = settings.model_copy(update={"consultation_keys": f"{new_key},{derived_key(settings.secret_key)}"})
    assert await reseal_database(rotating) == 1
    async with database.reader() as session:
        sealed = (await session.execute(select(ConsultationRequest.sealed))).scalar_one()
    assert Sealer([new_key], settings.secret_key).open(sealed)["name"] == "Sam Rivera"  # the old key is no longer needed
    with pytest.raises(ValueError):
        Sealer([], settings.secret_key).open(sealed)


async def test_a_partner_page_sends_requests_with_its_browser_key_and_sees_only_counts(client, database, settings):
    listing_, owner, _ = await clinic(client, database)
    key = listing_["id"]
    site = "https://www.publisher.example"
    created = await client.post(
        "/v1/admin/api-keys",
        json={"name": "Publisher widget", "owner_contact": "dev@publisher.example", "kind": "browser", "allowed_origins": [site]},
        headers=ADMIN,
    )
    browser_key = created.json()["key"]
    path = f"/v1/providers/{key}/consultation-requests?key={browser_key}"
    # The browser asks first (a JSON POST from another origin): yes for the key's origins only.
    preflight = await client.options(path, headers={"Origin": site, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == site
    assert "content-type" in preflight.headers["access-control-allow-headers"]
    elsewhere = await client.options(path, headers={"Origin": "https://copycat.example", "Access-Control-Request-Method": "POST"})
    assert elsewhere.status_code == 204 and "access-control-allow-origin" not in elsewhere.headers
    form = await client.get(f"/v1/providers/{key}/consultation-form?key={browser_key}", headers={"Origin": site})
    assert form.status_code == 200 and form.headers["access-control-allow-origin"] == site
    sent = await client.post(path, json={**PATIENT, "form_token": aged_token(settings, key)}, headers={"Origin": site})
    assert sent.status_code == 202, sent.text
    assert sent.headers["access-control-allow-origin"] == site
    # Other writes stay closed to browser keys.
    assert_problem(await client.patch(f"/v1/providers/{key}?key={browser_key}", json={"name": "x"}, headers={"Origin": site, "If-Match": "*"}), 403)
    (item,) = (await client.get(f"/v1/providers/{key}/consultation-requests", headers=owner)).json()
    assert item["via_partner"] is True
    (listed,) = (await client.get("/v1/admin/api-keys", headers=ADMIN)).json()
    assert sum(listed["consultation_requests"].values()) == 1  # counts only
    volumes = (await client.get("/v1/moderation/consultations", headers=ADMIN)).json()
    assert volumes["by_partner"] == [{"id": created.json()["id"], "name": "Publisher widget", "this_month": 1, "total": 1}]


async def test_a_request_made_in_spanish_is_confirmed_in_spanish_with_the_spanish_withdrawal_page(client, database, settings, mailbox):
    listing_, _owner, clinic_email = await clinic(client, database, name="Clínica Cedro")
    key = listing_["id"]
    patient = {**PATIENT, "email": "ana.lopez@patients.example", "name": "Ana López"}
    sent = await client.post(
        f"/v1/providers/{key}/consultation-requests", json={**patient, "form_token": aged_token(settings, key)}, headers={"Accept-Language": "es-MX,es;q=0.9"}
    )
    assert sent.status_code == 202, sent.text
    delivery = Delivery(database.writer, service_for(settings), SmtpMailer(mailbox.url, "no-reply@directory.test"))
    assert await delivery.run_due() == 1
    (confirmation,) = mailbox.to(patient["email"])
    body = Mailbox.text(confirmation)
    assert confirmation["Subject"] == "Su solicitud a Clínica Cedro"
    assert body.startswith("Hola, Ana López:") and "La clínica se comunicará con usted." in body and "90 días" in body
    assert sent.json()["reference"] in body
    link = mailbox.link(patient["email"], "/consultations/withdraw")
    assert urlsplit(link).path == "/es/consultations/withdraw"
    page = await client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert page.status_code == 200 and "Retirar mi solicitud" in page.text
    # The clinic's own mail stays in English (the portal and its mails are not in Spanish yet).
    (to_clinic,) = mailbox.to(clinic_email)
    assert to_clinic["Subject"] == "New consultation request for Clínica Cedro"
