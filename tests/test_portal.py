"""The clinic portal, as its users use it: sign up and confirm the address by the mailed link,
create a listing, submit it, a moderator approves it, it is found by the search; claims, resets,
conflicts, invitations; and the portal's guards (CSRF, sessions, one's own listings only).

Mail is received by a local SMTP server of the test's own; the app's mail worker is off, and each
test hands the queued mail over when a person would check their inbox."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from conftest import ADMIN, empty_listings, make_settings, watch
from litestar.testing import AsyncTestClient
from portal_steps import PASSWORD, Person, csrf, form_values, text_of
from smtp_inbox import Mailbox
from sqlalchemy import select, text

from directory.app import create_app
from directory.database import Database
from directory.mail import MailQueue, QueuedMail, SmtpMailer


@pytest.fixture
def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
async def portal(database_url: str, mailbox: Mailbox) -> AsyncIterator[AsyncTestClient]:
    await empty_listings(database_url)
    settings = make_settings(database_url, smtp_url=mailbox.url, mail_worker=False, public_url="http://directory.test")
    database = Database.from_settings(settings)
    async with AsyncTestClient(app=create_app(settings), base_url="http://directory.test") as client:
        client.follow_redirects = False  # each redirect is checked, as the browser's next request
        # The app runs on the test client's own event loop: the test sends the queued mail with a
        # queue of its own on the same database, as a separate mail worker would.
        client.mail_queue = MailQueue(SmtpMailer(mailbox.url, "no-reply@directory.test"), database.writer)
        yield watch(client)
    await database.dispose()


async def another(portal: AsyncTestClient) -> AsyncTestClient:
    """A second browser on the same server (its own cookies)."""
    client = AsyncTestClient(app=portal.app, base_url="http://directory.test")
    client.blocking_portal = portal.blocking_portal
    client.follow_redirects = False
    client.mail_queue = portal.mail_queue
    return client


_people = 0


def person(client: AsyncTestClient, mailbox: Mailbox, name: str = "dana") -> Person:
    global _people
    _people += 1
    return Person(client, mailbox, f"{name}{_people}@harbor{_people}.example")


async def moderator(portal: AsyncTestClient, mailbox: Mailbox) -> Person:
    """A moderator signed in on a browser of its own."""
    browser = await another(portal)
    mod = person(browser, mailbox, "mod")
    await mod.sign_up()
    me = await portal.post("/v1/auth/token", json={"email": mod.email, "password": PASSWORD})
    account_id = (await portal.get("/v1/me", headers={"Authorization": f"Bearer {me.json()['access_token']}"})).json()["id"]
    assert (await portal.patch(f"/v1/admin/accounts/{account_id}", json={"role": "moderator"}, headers=ADMIN)).status_code == 200
    return mod


async def test_a_clinic_signs_up_creates_a_listing_and_sees_it_published_after_review(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up(confirm=False)
    page = await dana.open("/portal/listings")
    assert "Confirm your email address" in text_of(page)
    listing_id = await dana.new_listing()
    edit = f"/portal/listings/{listing_id}"
    # Submitting before the address is confirmed is refused, with what to do.
    await dana.submit(edit, f"{edit}/status", {"status": "pending_review", "version": form_values(await dana.open(edit), f"{edit}/status")["version"]})
    assert "Confirm your email address first" in text_of(await dana.open(edit))
    await dana.confirm()
    # Details: conditions, a service with its price, the phone.
    values = form_values(await dana.open(edit), f"{edit}/details")
    values.update({"phone": "(212) 555-0142", "conditions": ["ptsd", "treatment-resistant-depression"], "service-ketamine-iv": "on",
                   "service-ketamine-iv-price_min": "400", "service-ketamine-iv-price_max": "550", "service-ketamine-iv-session_minutes": "50",
                   "description": "Sample clinic for the portal test."})  # fmt: skip
    await dana.submit(edit, f"{edit}/details", values)
    # A second location, with an overnight interval typed as one.
    version = form_values(await dana.open(edit), f"{edit}/status")["version"]
    await dana.submit(edit, f"{edit}/locations", {"version": version, "address_line1": "1 Main St", "city": "Brooklyn", "state": "NY",
                                                   "postal_code": "11201", "hours-fri-opens-1": "22:00", "hours-fri-closes-1": "02:00"})  # fmt: skip
    page = await dana.open(edit)
    assert "Still missing" not in text_of(page)
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    assert len(stored["locations"]) == 2
    brooklyn = next(location for location in stored["locations"] if location["city"] == "Brooklyn")
    assert brooklyn["hours"] == [{"day": "fri", "opens": "22:00", "closes": "02:00"}]  # one overnight interval, as the API takes it
    assert 'value="22:00"' in page and 'value="02:00"' in page  # shown again as the one interval it was typed as
    version = form_values(page, f"{edit}/status")["version"]
    await dana.submit(edit, f"{edit}/status", {"status": "pending_review", "version": version})
    assert "Waiting for review" in text_of(await dana.open("/portal/listings"))

    mod = await moderator(portal, mailbox)
    queue = await mod.open("/portal/moderation")
    assert "Harbor Ketamine Clinic" in queue and "Changed since the last approval" in queue
    assert "phone — +12125550142" in text_of(queue)  # each field once, before and after
    await mod.submit("/portal/moderation", f"/portal/moderation/listings/{listing_id}", {"action": "approve", "reason": ""})
    await dana.mail()
    decision = dana.mailbox.to(dana.email)[-1]
    assert "published" in str(decision["Subject"])
    found = await portal.get("/v1/search", params={"near": "10001", "radius": 25, "unit": "mi", "condition": "ptsd"})
    assert "Harbor Ketamine Clinic" in [hit["provider"]["name"] for hit in found.json()["items"]]
    assert "Published" in text_of(await dana.open("/portal/listings"))


async def test_a_rejection_s_reason_is_shown_to_the_clinic(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing("Quiet Pines Infusions")
    edit = f"/portal/listings/{listing_id}"
    await dana.submit(edit, f"{edit}/status", {"status": "pending_review", "version": form_values(await dana.open(edit), f"{edit}/status")["version"]})
    mod = await moderator(portal, mailbox)
    await mod.submit("/portal/moderation", f"/portal/moderation/listings/{listing_id}", {"action": "reject", "reason": "Add the clinic's phone number."})
    mine = text_of(await dana.open("/portal/listings"))
    assert "Draft: not submitted" in mine and "Add the clinic's phone number." in mine
    await dana.mail()
    assert "Add the clinic's phone number." in Mailbox.text(dana.mailbox.to(dana.email)[-1])
    # A rejection without a reason is refused, and says why.
    await dana.submit(edit, f"{edit}/status", {"status": "pending_review", "version": form_values(await dana.open(edit), f"{edit}/status")["version"]})
    await mod.submit("/portal/moderation", f"/portal/moderation/listings/{listing_id}", {"action": "reject", "reason": ""})
    assert "give a reason to reject" in text_of(await mod.open("/portal/moderation"))


async def test_bad_input_is_named_next_to_its_field_and_summarised(portal, mailbox):
    dana = person(portal, mailbox)
    response = await dana.submit("/portal/sign-up", "/portal/sign-up", {"email": "not-an-email", "password": "password123"}, status=422)
    page = response.text
    assert 'href="#field-email"' in page and 'id="error-email"' in page and 'aria-invalid="true"' in page
    response = await dana.submit("/portal/sign-up", "/portal/sign-up", {"email": dana.email, "password": "password123"}, status=422)
    assert 'id="error-password"' in response.text and "too easy to guess" in text_of(response.text)
    await dana.sign_up()
    response = await dana.submit("/portal/listings/new", "/portal/listings/new", {"listing_name": "", "postal_code": "00000"}, status=422)
    assert 'id="error-listing_name"' in response.text
    listing_id = await dana.new_listing()
    edit = f"/portal/listings/{listing_id}"
    values = form_values(await dana.open(edit), f"{edit}/details")
    values.update({"website": "not a site", "service-ketamine-iv": "on", "service-ketamine-iv-price_min": "900", "service-ketamine-iv-price_max": "100"})
    page = (await dana.submit(edit, f"{edit}/details", values, status=422)).text
    assert 'id="error-website"' in page
    # What was typed is kept.
    assert 'value="not a site"' in page
    page = (await dana.submit(edit, f"{edit}/locations", {"version": values["version"], "postal_code": "99999x"}, status=422)).text
    assert "There is a problem" in page or "problems" in page


async def test_someone_else_saving_first_is_shown_and_what_was_typed_is_kept(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    edit = f"/portal/listings/{listing_id}"
    first = form_values(await dana.open(edit), f"{edit}/details")
    second = dict(first)
    first["description"] = "Saved first by a colleague."
    await dana.submit(edit, f"{edit}/details", first)
    second["phone"] = "(212) 555-0177"
    page = (await dana.submit(edit, f"{edit}/details", second, status=409)).text
    words = text_of(page)
    assert "Someone else saved this listing while you were editing it" in words and "updated" in words
    assert 'value="(212) 555-0177"' in page  # kept, not saved
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    assert stored["description"] == "Saved first by a colleague." and stored["phone"] is None


async def test_a_forged_form_without_its_token_or_from_another_site_is_refused(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    before = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()["version"]
    forged = await portal.post(f"/portal/listings/{listing_id}/details", data={"name": "Forged", "version": str(before)})
    assert forged.status_code == 403 and "form has expired or did not come from this site" in text_of(forged.text)
    token = csrf(await dana.open(f"/portal/listings/{listing_id}"))
    other_site = await portal.post(f"/portal/listings/{listing_id}/details", data={"csrf_token": token, "name": "Forged"}, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    stranger = await another(portal)
    stolen = await stranger.post(f"/portal/listings/{listing_id}/details", data={"csrf_token": token, "name": "Forged"})
    assert stolen.status_code in (403, 303)  # no cookie of the token: refused (or sent to sign in first)
    assert (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()["name"] == "Harbor Ketamine Clinic"


async def test_a_provider_cannot_open_or_change_another_s_listing(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    eve_browser = await another(portal)
    eve = person(eve_browser, mailbox, "eve")
    await eve.sign_up()
    for path in (f"/portal/listings/{listing_id}", f"/portal/listings/{listing_id}/history", f"/portal/listings/{listing_id}/preview", f"/portal/listings/{listing_id}/preview.json"):
        response = await eve_browser.get(path)
        assert response.status_code == 404, path  # a draft of another's: not even there
    token = csrf(await eve.open("/portal/listings"))
    for action, fields in (("details", {"name": "Taken"}), ("status", {"status": "closed"}), ("invitations", {"invite_email": "eve@x.example"})):
        response = await eve_browser.post(f"/portal/listings/{listing_id}/{action}", data={"csrf_token": token, "version": "1", **fields})
        assert response.status_code in (404, 422), (action, response.status_code)
    assert (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()["name"] == "Harbor Ketamine Clinic"
    assert "Moderation" not in (await eve.open("/portal/listings"))
    assert (await eve_browser.get("/portal/moderation")).status_code == 403


async def test_signing_in_needs_the_right_password_and_signing_out_ends_the_session(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    cookie = portal.cookies.get("directory_session")
    await dana.submit("/portal/listings", "/portal/sign-out", {})
    assert (await portal.get("/portal/listings")).headers["location"].startswith("/portal/sign-in?next=/portal/listings")
    # The old cookie is dead on the server too.
    replay = await another(portal)
    replay.cookies.set("directory_session", cookie)
    assert (await replay.get("/portal/listings")).status_code == 303
    page = (await dana.sign_in("wrong password here", status=401)).text
    assert "the email or password is wrong" in page
    await dana.sign_in()
    assert portal.cookies.get("directory_session") not in (None, cookie)  # a new session id at sign-in


async def test_a_forgotten_password_is_reset_once_by_the_mailed_link(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    other_browser = await another(portal)
    await Person(other_browser, mailbox, dana.email).sign_in()
    await dana.submit("/portal/forgot", "/portal/forgot", {"email": dana.email}, status=200)
    # The same answer for an address nobody has.
    nobody = await dana.submit("/portal/forgot", "/portal/forgot", {"email": "nobody@nowhere.example"}, status=200)
    assert "If an account uses" in text_of(nobody.text)
    link = await dana.follow("/portal/reset")
    token = link.split("token=")[1]
    await dana.submit(link, "/portal/reset", {"token": token, "password": "a brand new passphrase 7"})
    # Used once: the link is spent, and the other browser's session ended with the old password.
    assert "not valid any more" in text_of(await dana.open(link, status=400))
    assert (await other_browser.get("/portal/listings")).status_code == 303
    await dana.submit("/portal/listings", "/portal/sign-out", {})
    await dana.sign_in("a brand new passphrase 7")
    assert (await portal.get("/portal/sign-in")).status_code == 303  # already signed in: sent on


async def test_a_reset_link_expires_after_an_hour(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    await dana.submit("/portal/forgot", "/portal/forgot", {"email": dana.email}, status=200)
    link = await dana.follow("/portal/reset")
    recovery = portal.app.state.accounts.recovery
    real = recovery.clock
    recovery.clock = lambda: real() + timedelta(hours=1, seconds=1)
    try:
        assert "lasts an hour" in text_of(await dana.open(link, status=400))
    finally:
        recovery.clock = real


async def test_an_existing_listing_is_claimed_from_its_page_and_granted_by_a_moderator(portal, mailbox):
    created = await portal.post("/v1/providers", json={"name": "Lakeside Ketamine", "status": "published", "locations": [{"postal_code": "10001"}]}, headers=ADMIN)
    slug = created.json()["slug"]
    dana = person(portal, mailbox)
    # From the public page's link: sign-in first, and back to the claim.
    response = await portal.get(f"/portal/claim/{slug}")
    assert response.status_code == 303 and response.headers["location"] == f"/portal/sign-in?next=/portal/claim/{slug}"
    await dana.submit(f"/portal/sign-up?next=/portal/claim/{slug}", "/portal/sign-up", {"email": dana.email, "password": PASSWORD, "next": f"/portal/claim/{slug}"})
    refused = await dana.submit(f"/portal/claim/{slug}", f"/portal/claim/{slug}", {"message": "I run it"}, status=403)
    assert "confirm your email address first" in text_of(refused.text)
    await dana.confirm()
    await dana.submit(f"/portal/claim/{slug}", f"/portal/claim/{slug}", {"message": "I am the practice manager", "npi": "1234567893"})
    assert "Waiting for a moderator" in text_of(await dana.open("/portal/listings"))
    mod = await moderator(portal, mailbox)
    queue = text_of(await mod.open("/portal/moderation"))
    assert dana.email in queue and "1234567893 (pending)" in queue
    claim_id = (await portal.get("/v1/moderation/queue", headers=ADMIN)).json()["claims"][0]["id"]
    await mod.submit("/portal/moderation", f"/portal/moderation/claims/{claim_id}", {"decision": "approve", "reason": ""})
    await dana.mail()
    assert "approved" in str(dana.mailbox.to(dana.email)[-1]["Subject"])
    assert "Lakeside Ketamine" in text_of(await dana.open("/portal/listings"))
    await dana.open(f"/portal/listings/{created.json()['id']}")


async def test_a_colleague_is_invited_by_mail_and_removed(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    edit = f"/portal/listings/{listing_id}"
    sam_browser = await another(portal)
    sam = person(sam_browser, mailbox, "sam")
    await dana.submit(edit, f"{edit}/invitations", {"invite_email": sam.email})
    assert "not accepted yet" in text_of(await dana.open(edit))
    await dana.mail()
    link = sam.mailbox.link(sam.email, "/portal/invitations/")
    path = "/portal/invitations/" + link.rsplit("/", 1)[1]
    await sam.sign_up(confirm=False)
    await sam.submit(path, path, {})
    assert "Harbor Ketamine Clinic" in text_of(await sam.open("/portal/listings"))
    assert "Confirm your email address" not in text_of(await sam.open("/portal/listings"))  # the invitation reached that address
    me = await portal.post("/v1/auth/token", json={"email": sam.email, "password": PASSWORD})
    sam_id = (await portal.get("/v1/me", headers={"Authorization": f"Bearer {me.json()['access_token']}"})).json()["id"]
    await dana.submit(edit, f"{edit}/owners/{sam_id}/remove", {})
    assert (await sam_browser.get(edit)).status_code == 404


async def test_a_failing_smtp_server_never_fails_the_request_and_the_mail_is_retried(portal, mailbox, database):
    queue = portal.mail_queue
    working = queue.mailer
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    queue.mailer = SmtpMailer(f"smtp://127.0.0.1:{closed_port}", "no-reply@directory.test", timeout=5)  # nothing answers there
    dana = person(portal, mailbox)
    await dana.sign_up(confirm=False)  # the request succeeds all the same
    assert await queue.send_due() == 0
    async with database.reader() as session:
        [mail] = (await session.execute(select(QueuedMail).where(QueuedMail.status == "pending"))).scalars()
    assert mail.attempts == 1 and mail.last_error and dana.email not in mail.last_error
    queue.mailer = working  # the server is back
    real = queue.clock
    queue.clock = lambda: real() + timedelta(seconds=31)  # past the first wait
    try:
        assert await queue.send_due() == 1
    finally:
        queue.clock = real
    assert mailbox.to(dana.email)
    async with database.reader() as session:
        text_left = (await session.execute(text("SELECT text FROM mail_queue"))).scalar_one()
    assert text_left is None  # the single-use link is not kept once sent


async def test_a_demoted_moderator_is_signed_out(portal, mailbox):
    mod = await moderator(portal, mailbox)
    assert (await mod.client.get("/portal/moderation")).status_code == 200
    me = await portal.post("/v1/auth/token", json={"email": mod.email, "password": PASSWORD})
    account_id = (await portal.get("/v1/me", headers={"Authorization": f"Bearer {me.json()['access_token']}"})).json()["id"]
    await portal.patch(f"/v1/admin/accounts/{account_id}", json={"role": "provider"}, headers=ADMIN)
    assert (await mod.client.get("/portal/moderation")).status_code == 303


async def test_pages_are_never_framed_or_cached_and_cookies_are_http_only(portal, mailbox):
    response = await portal.get("/portal/sign-in")
    assert response.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    dana = person(portal, mailbox)
    response = await dana.submit("/portal/sign-up", "/portal/sign-up", {"email": dana.email, "password": PASSWORD})
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("directory_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
    assert "access_token" not in (await dana.open("/portal/listings"))


HOSTILE = ["", " ", "\x00", "x" * 20_000, "<script>alert(1)</script>", "-1", "1e309", "NaN", "24:61", "99999999999999999999", "'; DROP TABLE provider; --", "\ud7ff", "ü" * 300]


async def test_no_form_of_the_portal_answers_a_server_error_whatever_it_is_sent(portal, mailbox):
    """Every POST route of the portal, signed in as a moderator who owns a listing, with hostile values in every field it reads."""
    mod = await moderator(portal, mailbox)
    listing_id = await mod.new_listing()
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    location_id = stored["locations"][0]["id"]
    page = await mod.open(f"/portal/listings/{listing_id}")
    names = set(re.findall(r'name="([^"]+)"', page)) | {"email", "password", "token", "current_password", "email_password", "npi", "message", "action",
                                                        "decision", "reason", "role", "kind", "scopes", "rate_limit", "allowed_origins", "owner_contact"}  # fmt: skip
    names.discard("csrf_token")
    routes = [
        "/portal/sign-in", "/portal/forgot", "/portal/reset", "/portal/verify", "/portal/account/password", "/portal/account/email",
        "/portal/password-check", "/portal/listings/new", f"/portal/listings/{listing_id}/details", f"/portal/listings/{listing_id}/status",
        f"/portal/listings/{listing_id}/locations", f"/portal/listings/{listing_id}/locations/{location_id}", f"/portal/listings/{listing_id}/clinicians",
        f"/portal/listings/{listing_id}/invitations", f"/portal/claim/{stored['slug']}", "/portal/moderation/keys", "/portal/moderation/accounts",
        f"/portal/moderation/listings/{listing_id}", f"/portal/moderation/claims/{uuid.uuid4()}", f"/portal/invitations/{'x' * 50}",
    ]  # fmt: skip
    token = csrf(page)
    for index, value in enumerate(HOSTILE):
        fields = {name: value for name in names}
        fields["version"] = str(stored["version"]) if index % 2 else value
        for route in routes:
            response = await mod.client.post(route, data={"csrf_token": token, **fields})
            assert response.status_code < 500, (route, repr(value)[:40], response.text[:500])
                # Still signed in, still the same listing.
    assert (await mod.client.get(f"/portal/listings/{listing_id}")).status_code == 200


async def test_a_moderator_resolves_a_visitor_s_report_in_the_portal(portal, mailbox):
    created = await portal.post("/v1/providers", json={"name": "Reported Clinic", "status": "published", "locations": [{"postal_code": "10001"}]}, headers=ADMIN)
    report = await portal.post(f"/v1/providers/{created.json()['id']}/reports", json={"kind": "wrong_address", "details": "They moved to Brooklyn."})
    assert report.status_code == 202
    mod = await moderator(portal, mailbox)
    queue = text_of(await mod.open("/portal/moderation"))
    assert "Reported Clinic : the address is wrong" in queue and "They moved to Brooklyn." in queue
    await mod.submit("/portal/moderation", f"/portal/moderation/reports/{report.json()['id']}", {"decision": "resolve", "reason": "address corrected"})
    assert "No report waits." in text_of(await mod.open("/portal/moderation"))


async def test_a_clinic_says_its_published_listing_is_still_correct(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    published = await portal.patch(f"/v1/providers/{listing_id}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})
    assert published.status_code == 200, published.text
    reported = await portal.post(f"/v1/providers/{listing_id}/reports", json={"kind": "wrong_phone", "details": "Rings a pizzeria."})
    assert reported.status_code == 202, reported.text
    page = await dana.open(f"/portal/listings/{listing_id}")
    assert "Are the details still correct?" in text_of(page) and "Still correct" in page
    # The owner sees what visitors reported, to correct it.
    assert "Visitors reported problems (1)" in text_of(page) and "the phone number is wrong: “Rings a pizzeria.”" in text_of(page)
    response = await dana.submit(f"/portal/listings/{listing_id}", f"/portal/listings/{listing_id}/confirm", {})
    assert response.headers["location"] == f"/portal/listings/{listing_id}"
    assert "confirmed today" in text_of(await dana.open(f"/portal/listings/{listing_id}"))
    public = (await portal.get(f"/v1/providers/{listing_id}")).json()
    assert public["confirmation"]["confirmed_at"] is not None and public["confirmation"]["unconfirmed"] is False
    history = (await portal.get(f"/v1/providers/{listing_id}/history", headers=ADMIN)).json()["items"]
    assert history[0]["action"] == "confirmed" and history[0]["actor"].startswith("provider:")


async def test_a_moderator_merges_a_duplicate_from_the_moderation_page(portal, mailbox):
    made = []
    for name in ("Cedar Ketamine", "Cedar Ketamine Clinic"):
        response = await portal.post("/v1/providers", json={"name": name, "npi": "1234567893", "status": "published", "conditions": ["ptsd"], "locations": [{"latitude": 40.75, "longitude": -73.99, "state": "NY"}]}, headers=ADMIN)
        assert response.status_code == 201, response.text
        made.append(response.json())
    mod = await moderator(portal, mailbox)
    page = await mod.open("/portal/moderation")
    assert "Possible duplicates (1)" in text_of(page) and "both list NPI 1234567893" in page
    pair_id = re.search(r'action="/portal/moderation/duplicates/([0-9a-f-]+)"', page).group(1)
    await mod.submit("/portal/moderation", f"/portal/moderation/duplicates/{pair_id}", {"decision": "merge", "keep": made[0]["id"], "reason": "one clinic"})
    assert "Possible duplicates (0)" in text_of(await mod.open("/portal/moderation"))
    moved = await portal.get(f"/providers/{made[1]['slug']}")
    assert moved.status_code == 301 and moved.headers["location"] == f"/providers/{made[0]['slug']}"


async def test_a_clinic_takes_consultation_requests_and_works_through_its_inbox(portal, mailbox):
    from test_consultations import PATIENT

    from directory import cursors

    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    assert (await portal.patch(f"/v1/providers/{listing_id}", json={"status": "published"}, headers={**ADMIN, "If-Match": "*"})).status_code == 200
    page = await dana.open(f"/portal/listings/{listing_id}/consultations")
    assert "No request yet." in text_of(page) and dana.email in page
    await dana.submit(f"/portal/listings/{listing_id}/consultations", f"/portal/listings/{listing_id}/consultations/settings", {"accepting": "on", "email": dana.email})
    assert "now takes consultation requests" in text_of(await dana.open(f"/portal/listings/{listing_id}/consultations"))
    token = cursors.encode([listing_id, int(time.time()) - 10], "test-secret-that-is-at-least-32-characters-long")
    sent = await portal.post(f"/v1/providers/{listing_id}/consultation-requests", json={**PATIENT, "form_token": token})
    assert sent.status_code == 202, sent.text
    page = text_of(await dana.open(f"/portal/listings/{listing_id}/consultations"))
    assert "Sam Rivera" in page and "+13035550142" in page and "Mail not sent yet" in page
    reference = sent.json()["reference"]
    await dana.submit(f"/portal/listings/{listing_id}/consultations", f"/portal/listings/{listing_id}/consultations/{reference}", {"status": "contacted"})
    assert "Marked contacted." in text_of(await dana.open(f"/portal/listings/{listing_id}/consultations"))
    # Another clinic's account sees nothing of it.
    eve_browser = await another(portal)
    eve = person(eve_browser, mailbox, "eve")
    await eve.sign_up()
    assert (await eve_browser.get(f"/portal/listings/{listing_id}/consultations")).status_code == 404


async def test_a_location_states_its_accessibility_and_rems_and_spravato_without_it_is_flagged(portal, mailbox):
    dana = person(portal, mailbox)
    await dana.sign_up()
    listing_id = await dana.new_listing()
    edit = f"/portal/listings/{listing_id}"
    values = form_values(await dana.open(edit), f"{edit}/details")
    values.update({"service-esketamine-spravato": "on", "conditions": ["treatment-resistant-depression"]})
    await dana.submit(edit, f"{edit}/details", values)
    page = await dana.open(edit)
    assert 'id="rems-missing"' in page  # it offers Spravato and no location says it is certified
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    location_id = stored["locations"][0]["id"]
    action = f"{edit}/locations/{location_id}"
    values = form_values(page, action)
    values.update({"accessibility_features": ["step_free_entrance", "elevator"], "rems_certified_on": "2025-03-01"})
    await dana.submit(edit, action, values)
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    place = stored["locations"][0]
    assert place["accessibility_features"] == ["step_free_entrance", "elevator"] and place["rems_certified"] is True and place["rems_certified_on"] == "2025-03-01"
    page = await dana.open(edit)
    assert 'id="rems-missing"' not in page and 'value="2025-03-01"' in page
    # A date in the future is named next to its field.
    values = form_values(page, action)
    values["rems_certified_on"] = "2999-01-01"
    refused = (await dana.submit(edit, action, values, status=422)).text
    assert f'href="#field-location-{location_id}-rems_certified_on"' in refused and f'id="error-location-{location_id}-rems_certified_on"' in refused
    assert "in the future" in refused
