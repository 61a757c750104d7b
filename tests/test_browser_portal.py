"""The clinic portal in a real browser (Debian's Chromium), against `directory serve` with mail
going to a local SMTP server of the test's own, on SQLite and on PostgreSQL+PostGIS: a clinic signs
up, confirms its address from the mail, creates a listing with two locations and hours, submits
it, a moderator approves it, and it is found on the directory's search page; a listing is claimed
from its public page; two tabs edit at once; a password is reset; a forged form from another site
is refused; one provider cannot open another's listing. axe-core checks every portal page at
desktop and phone sizes, and the Spanish portal pages for English words left in them too.
Screenshots of each step land in tests/screenshots/ (portal-*.png, spanish-es-portal-*.png).
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from browsing import DESKTOP, PHONE, Visit, browser, expect, free_port, no_horizontal_scroll, serious_violations, serve, shoot, stop, visit  # noqa: F401
from smtp_inbox import Mailbox
from sqlalchemy.engine import make_url

PASSWORD = "correct horse battery staple 9"
ADMIN_EMAIL = "moderator@directory.example"


def _postgres_database() -> tuple[str, str] | None:
    """A database of this module's own on the test PostgreSQL (created now, dropped at the end)."""
    url = os.environ.get("DIRECTORY_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_POSTGRES"):
            pytest.fail("DIRECTORY_TEST_REQUIRE_POSTGRES is set but DIRECTORY_TEST_POSTGRES_URL is not")
        pytest.skip("set DIRECTORY_TEST_POSTGRES_URL to run the portal's browser tests on PostgreSQL+PostGIS too")
    name = f"portal_{uuid.uuid4().hex[:10]}"
    admin = make_url(url).set(drivername="postgresql")
    _psql(admin, f"CREATE DATABASE {name}")
    _psql(admin.set(database=name), "CREATE EXTENSION IF NOT EXISTS postgis")
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _psql(url, statement: str) -> None:
    code = (
        "import asyncio, asyncpg, sys\n"
        "async def main():\n"
        "    connection = await asyncpg.connect(sys.argv[1])\n"
        "    await connection.execute(sys.argv[2])\n"
        "    await connection.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", code, url.render_as_string(hide_password=False), statement], check=True, capture_output=True)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def portal_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Mailbox, str]]:
    """The seeded directory served by its own command, its mail going to the test's SMTP server."""
    folder = tmp_path_factory.mktemp("portal")
    dropped = None
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{folder}/directory.db"
    else:
        database_url, dropped = _postgres_database()  # type: ignore[misc]
    mailbox = Mailbox().start()
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": database_url,
        "DIRECTORY_SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
        "DIRECTORY_VERIFICATION_WORKER": "false",
        "DIRECTORY_WEBHOOK_WORKER": "false",
        "DIRECTORY_ANONYMOUS_RATE_LIMIT": "100000",
        "DIRECTORY_MAP_TILES_URL": "",
        "DIRECTORY_SMTP_URL": mailbox.url,
        "DIRECTORY_MAIL_INTERVAL_SECONDS": "0.5",
        "DIRECTORY_CONSULTATION_INTERVAL_SECONDS": "0.5",
        "DIRECTORY_ARGON2_MEMORY_KIB": "1024",
        "DIRECTORY_ARGON2_TIME_COST": "1",
    }
    url, server = serve(folder, env)
    created = subprocess.run(
        [sys.executable, "-m", "directory", "users", "create-admin", "--email", ADMIN_EMAIL], env=env, input=PASSWORD, text=True, capture_output=True
    )
    assert created.returncode == 0, created.stderr
    try:
        yield url, mailbox, request.param
    finally:
        stop(server)
        mailbox.stop()
        if dropped:
            admin = make_url(os.environ["DIRECTORY_TEST_POSTGRES_URL"]).set(drivername="postgresql")
            _psql(admin, f"DROP DATABASE IF EXISTS {dropped} WITH (FORCE)")


_emails = 0


def _email(name: str) -> str:
    global _emails
    _emails += 1
    return f"{name}{_emails}.{uuid.uuid4().hex[:6]}@clinic{_emails}.example"


def _shoot(page: object, backend: str, name: str) -> None:
    if backend == "sqlite":
        shoot(page, f"portal-{name}")


def field(scope: object, text: str) -> object:
    """The field labelled exactly ``text`` (optional fields say so after their label)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(text)}( \(optional\))?$"))  # type: ignore[attr-defined]


def _link(mailbox: Mailbox, email: str, contains: str, count: int = 1) -> str:
    mailbox.wait_for(email, count)
    return mailbox.link(email, contains)


def sign_up(page: object, site: str, mailbox: Mailbox, email: str, backend: str = "", shots: bool = False, go: bool = True) -> None:
    if go:
        page.goto(f"{site}/portal/sign-up")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Your name").fill("Dana Reyes")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    expect(page.locator("#strength-meter")).to_have_text("Strong enough.", timeout=10_000)
    if shots:
        _shoot(page, backend, "1-sign-up")
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator(".flash")).to_contain_text("We sent a link")


def confirm(page: object, site: str, mailbox: Mailbox, email: str) -> None:
    link = _link(mailbox, email, "/portal/verify")
    assert link.startswith(site), link  # links are made for the address the request came to
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator(".flash")).to_contain_text("is confirmed")


def sign_in(page: object, site: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site}/portal/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/**")


def fill_location(page: object, scope: object, street: str, city: str, state: str, zip_code: str, hours: dict[str, tuple[str, str]]) -> None:
    scope.get_by_label("Street address").fill(street)
    scope.get_by_label("City").fill(city)
    field(scope, "State").fill(state)
    scope.get_by_label("ZIP code").fill(zip_code)
    scope.get_by_label("Time zone of the hours").select_option("America/New_York")
    for day, (opens, closes) in hours.items():
        scope.get_by_label(f"{day}, opens", exact=True).fill(opens)
        scope.get_by_label(f"{day}, closes", exact=True).fill(closes)


def test_a_clinic_signs_up_lists_itself_and_is_published_after_a_moderator_approves(portal_site, visit):
    site, mailbox, backend = portal_site
    email = _email("dana")
    clinic = visit()
    page = clinic.page
    sign_up(page, site, mailbox, email, backend, shots=True)
    _shoot(page, backend, "2-my-listings-unconfirmed")
    confirm(page, site, mailbox, email)
    page.get_by_role("link", name="Add a clinic").click()
    name = f"Riverbend Ketamine Care {backend}"
    page.get_by_label("Clinic name").fill(name)
    fill_location(page, page, "350 Fifth Avenue", "New York", "NY", "10118", {"Monday": ("09:00", "17:00"), "Friday": ("22:00", "02:00")})
    _shoot(page, backend, "3-new-listing")
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.locator(".flash")).to_contain_text("saved as a draft")
    # The details: conditions, a service with its price, a phone.
    page.get_by_label(re.compile(r"^Phone( \(optional\))?$")).fill("(212) 555-0148")
    field(page, "Description").fill("Sample clinic made in the portal's browser test.")
    page.get_by_label("Post-traumatic stress disorder").check()
    page.locator("#field-service-ketamine-iv").check()
    page.get_by_label("IV ketamine infusion: lowest price").fill("450")
    page.get_by_label("IV ketamine infusion: highest price").fill("600")
    page.get_by_role("button", name="Save the details").click()
    expect(page.locator(".flash")).to_have_text("Saved.")
    # A second location.
    page.locator("#new-location summary").click()
    new = page.locator("#new-location")
    fill_location(page, new, "1 Main Street", "Brooklyn", "NY", "11201", {"Saturday": ("10:00", "14:00")})
    new.get_by_role("button", name="Add the location").click()
    expect(page.locator(".flash")).to_contain_text("Location added")
    assert page.locator("article.location-form").count() == 2
    expect(page.locator(".pin-map .leaflet-marker-icon").first).to_be_visible()
    _shoot(page, backend, "4-edit-listing")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash")).to_contain_text("Submitted")
    assert not clinic.errors, clinic.errors
    assert {urlsplit(u).netloc for u in clinic.requests} == {urlsplit(site).netloc}

    moderator = visit()
    sign_in(moderator.page, site, ADMIN_EMAIL)
    moderator.page.goto(f"{site}/portal/moderation")
    card = moderator.page.locator("article.review", has_text=name)
    expect(card).to_contain_text("Changed since the last approval")
    expect(card.locator("table.diff tr", has_text="phone")).to_contain_text("+12125550148")
    _shoot(moderator.page, backend, "5-moderation-queue")
    card.get_by_role("button", name="Approve and publish").click()
    expect(moderator.page.locator(".flash")).to_contain_text("Done")
    assert "published" in str(mailbox.wait_for(email, 2)[-1]["Subject"])

    searcher = visit()
    search = searcher.page
    search.goto(f"{site}/?near=10118&radius=25&condition=ptsd")
    search.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
    expect(search.locator("#list > li h3", has_text=name)).to_be_visible(timeout=20_000)
    _shoot(search, backend, "6-found-in-search")
    page.goto(f"{site}/portal/listings")
    expect(page.locator(".listing-rows")).to_contain_text("Published")
    listing = httpx.get(f"{site}/v1/search", params={"near": "10118", "radius": 25, "condition": "ptsd"}).json()
    found = next(hit for hit in listing["items"] if hit["provider"]["name"] == name)
    stored = httpx.get(f"{site}/v1/providers/{found['provider']['slug']}").json()
    manhattan = next(location for location in stored["locations"] if location["city"] == "New York")
    assert {"day": "fri", "opens": "22:00", "closes": "02:00"} in manhattan["hours"]  # one overnight interval


def test_a_listing_is_claimed_from_its_public_page(portal_site, visit):
    site, mailbox, backend = portal_site
    email = _email("claimer")
    hit = httpx.get(f"{site}/v1/search", params={"near": "60601", "radius": 50}).json()["items"][0]["provider"]
    one = visit()
    page = one.page
    one.open(f"{site}/providers/{hit['slug']}")
    page.get_by_role("link", name="Claim and update this listing").click()
    page.wait_for_url("**/portal/sign-in?next=**")
    page.locator("#content").get_by_role("link", name="Create an account").click()
    sign_up(page, site, mailbox, email, go=False)
    page.wait_for_url(f"**/portal/claim/{hit['slug']}")
    confirm(page, site, mailbox, email)
    page.goto(f"{site}/portal/claim/{hit['slug']}")
    page.get_by_label("Who you are at the clinic").fill("Practice manager since 2021; call the front desk to check.")
    _shoot(page, backend, "7-claim")
    page.get_by_role("button", name="Claim this listing").click()
    expect(page.locator(".flash")).to_contain_text("Your claim was sent")
    expect(page.locator("table.data")).to_contain_text("Waiting for a moderator")

    moderator = visit()
    sign_in(moderator.page, site, ADMIN_EMAIL)
    moderator.page.goto(f"{site}/portal/moderation")
    claim = moderator.page.locator("article.review", has_text=email)
    claim.get_by_role("button", name="Approve").click()
    expect(moderator.page.locator(".flash")).to_contain_text("Done")
    page.goto(f"{site}/portal/listings")
    expect(page.locator(".listing-rows")).to_contain_text(hit["name"])
    assert "approved" in str(mailbox.wait_for(email, 2)[-1]["Subject"])


def test_a_clinic_takes_a_consultation_request_and_the_patient_withdraws_it(portal_site, visit):
    site, mailbox, backend = portal_site
    email = _email("inbox")
    clinic = visit()
    sign_up(clinic.page, site, mailbox, email)
    confirm(clinic.page, site, mailbox, email)
    bearer = {"Authorization": "Bearer " + httpx.post(f"{site}/v1/auth/token", json={"email": email, "password": PASSWORD}).json()["access_token"]}
    admin = {"Authorization": "Bearer " + httpx.post(f"{site}/v1/auth/token", json={"email": ADMIN_EMAIL, "password": PASSWORD}).json()["access_token"]}
    body = {"name": f"Willow Ketamine {backend}", "status": "draft", "conditions": ["ptsd"], "locations": [{"latitude": 40.75, "longitude": -73.99, "state": "NY", "city": "New York"}]}
    listing = httpx.post(f"{site}/v1/providers", json=body, headers=bearer).json()
    assert httpx.patch(f"{site}/v1/providers/{listing['id']}", json={"status": "published"}, headers={**admin, "If-Match": "*"}).status_code == 200
    # The clinic turns requests on in its portal.
    clinic.page.goto(f"{site}/portal/listings/{listing['id']}")
    clinic.page.get_by_role("link", name="Consultation requests").click()
    clinic.page.get_by_label("Show a \"Request a free consultation\" form").check()
    expect(clinic.page.get_by_label("Mail each request to")).to_have_value(email)
    clinic.page.get_by_role("button", name="Save").click()
    expect(clinic.page.locator(".flash")).to_contain_text("now takes consultation requests")
    assert not serious_violations(clinic.page), serious_violations(clinic.page)

    patient_email = _email("patient")
    patient = visit(PHONE)
    patient.open(f"{site}/providers/{listing['slug']}")
    form = patient.page.locator(".consult-part")
    patient.page.wait_for_timeout(3000)
    form.get_by_label("Your name").fill("Robin Vega")
    form.get_by_label("Email", exact=True).fill(patient_email)
    form.get_by_label("I agree").check()
    form.get_by_role("button", name="Send the request").click()
    expect(patient.page.locator(".consult-part h2")).to_have_text("Your request was sent")
    assert no_horizontal_scroll(patient.page)
    # Both mails reach the SMTP server: the clinic's with the details, the patient's with the withdrawal link.
    (to_clinic,) = [m for m in mailbox.wait_for(email, 2) if "consultation request" in str(m["Subject"])]
    assert "Robin Vega" in Mailbox.text(to_clinic) and patient_email in Mailbox.text(to_clinic)
    withdraw_link = _link(mailbox, patient_email, "/consultations/withdraw")

    clinic.page.goto(f"{site}/portal/listings/{listing['id']}/consultations")
    request = clinic.page.locator("article.review", has_text="Robin Vega")
    expect(request).to_contain_text(patient_email)
    request.get_by_role("button", name="Mark contacted").click()
    expect(clinic.page.locator(".flash")).to_contain_text("Marked contacted.")
    expect(clinic.page.locator("article.review", has_text="Robin Vega")).to_contain_text("Contacted")

    patient.open(withdraw_link)
    patient.page.get_by_role("button", name="Withdraw my request").click()
    expect(patient.page.locator("#result")).to_have_text("Your request was withdrawn and deleted.")
    clinic.page.reload()
    expect(clinic.page.locator("#requests-heading")).to_have_text("Requests (0)")


def test_two_tabs_editing_at_once_see_the_conflict_and_keep_what_was_typed(portal_site, visit):
    site, mailbox, backend = portal_site
    email = _email("tabs")
    one = visit()
    sign_up(one.page, site, mailbox, email)
    one.page.get_by_role("link", name="Add a clinic").click()
    one.page.get_by_label("Clinic name").fill("Two Tabs Infusions")
    one.page.get_by_label("ZIP code").fill("10001")
    one.page.get_by_role("button", name="Save as a draft").click()
    edit = one.page.url
    second = one.context.new_page()
    second.goto(edit)
    field(one.page, "Description").fill("Saved first, in the first tab.")
    one.page.get_by_role("button", name="Save the details").click()
    expect(one.page.locator(".flash")).to_have_text("Saved.")
    second.get_by_label(re.compile(r"^Phone( \(optional\))?$")).fill("(212) 555-0199")
    second.get_by_role("button", name="Save the details").click()
    expect(second.locator("#conflict")).to_contain_text("Someone else saved this listing")
    expect(second.get_by_label(re.compile(r"^Phone( \(optional\))?$"))).to_have_value("(212) 555-0199")
    _shoot(second, backend, "8-conflict")


def test_a_password_is_reset_by_the_mailed_link(portal_site, visit):
    site, mailbox, backend = portal_site
    email = _email("forgetful")
    one = visit()
    sign_up(one.page, site, mailbox, email)
    one.page.get_by_role("button", name="Sign out").click()
    one.page.get_by_role("link", name="Forgot your password?").click()
    one.page.get_by_label("Email").fill(email)
    one.page.get_by_role("button", name="Send the link").click()
    expect(one.page.locator("main")).to_contain_text("If an account uses")
    link = _link(mailbox, email, "/portal/reset", 2)
    one.page.goto(link)
    one.page.get_by_label("New password").fill("a fresh and long passphrase 4")
    _shoot(one.page, backend, "9-reset")
    one.page.get_by_role("button", name="Save the new password").click()
    expect(one.page.locator(".flash")).to_contain_text("Your password is changed")
    one.page.goto(link)
    expect(one.page.locator(".problem")).to_contain_text("not valid any more")


class OtherSite:
    """A page on another origin of this machine with a form that posts to the portal."""

    def __init__(self, target: str) -> None:
        body = f'<!doctype html><html lang="en"><title>Other</title><form method="post" action="{target}"><input name="name" value="Forged"><button>Go</button></form></html>'.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_forged_form_from_another_site_is_refused_and_another_s_listing_cannot_be_opened(portal_site, visit):
    site, mailbox, backend = portal_site
    owner = visit()
    sign_up(owner.page, site, mailbox, _email("owner"))
    owner.page.get_by_role("link", name="Add a clinic").click()
    owner.page.get_by_label("Clinic name").fill("Guarded Clinic")
    owner.page.get_by_label("ZIP code").fill("10001")
    owner.page.get_by_role("button", name="Save as a draft").click()
    edit = owner.page.url
    listing_id = edit.rstrip("/").rsplit("/", 1)[1].split("#")[0]
    other = OtherSite(f"{site}/portal/listings/{listing_id}/details")
    try:
        forged = owner.context.new_page()
        forged.goto(other.url)
        with forged.expect_navigation():
            forged.get_by_role("button", name="Go").click()
        assert "Form refused" in forged.inner_text("h1")
    finally:
        other.server.shutdown()
    stranger = visit()
    sign_up(stranger.page, site, mailbox, _email("stranger"))
    response = stranger.page.goto(edit)
    assert response.status == 404 and "Not found" in stranger.page.inner_text("h1")
    owner.page.reload()
    assert owner.page.get_by_label("Clinic name").input_value() == "Guarded Clinic"


def test_every_portal_page_has_no_serious_accessibility_violation_and_fits_a_phone(portal_site, visit):
    site, mailbox, backend = portal_site
    if backend != "sqlite":
        pytest.skip("the pages are the same on both databases: checked once, on SQLite")
    email = _email("axe")
    setup = visit()
    sign_up(setup.page, site, mailbox, email)
    confirm(setup.page, site, mailbox, email)
    setup.page.get_by_role("link", name="Add a clinic").click()
    setup.page.get_by_label("Clinic name").fill("Accessible Infusions")
    setup.page.get_by_label("ZIP code").fill("10001")
    setup.page.get_by_role("button", name="Save as a draft").click()
    edit = urlsplit(setup.page.url).path
    setup.page.get_by_label("Invite a colleague by email").fill(_email("colleague"))
    setup.page.get_by_role("button", name="Send the invitation").click()
    invitation = urlsplit(_link(mailbox, "colleague", "/portal/invitations/")).path
    slug = httpx.get(f"{site}/v1/search", params={"near": "60601"}).json()["items"][0]["provider"]["slug"]
    setup.page.get_by_role("button", name="Sign out").click()
    setup.page.goto(f"{site}/portal/forgot")
    setup.page.get_by_label("Email").fill(email)
    setup.page.get_by_role("button", name="Send the link").click()
    reset_link = urlsplit(_link(mailbox, email, "/portal/reset", 2))
    reset = f"{reset_link.path}?{reset_link.query}"
    signed_out = ["/portal/sign-in", "/portal/sign-up", "/portal/forgot", reset, "/portal/verify?token=x"]
    signed_in = ["/portal/listings", "/portal/listings/new", edit, f"{edit}/history", f"{edit}/preview", "/portal/account", f"/portal/claim/{slug}", invitation]
    staff = ["/portal/moderation", "/portal/moderation/keys", "/portal/moderation/accounts", "/portal/listings/00000000-0000-0000-0000-000000000000"]
    failures = []
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for who, paths in ((None, signed_out), (email, signed_in), (ADMIN_EMAIL, staff)):
            one = visit(size)
            if who:
                sign_in(one.page, site, who)
            for path in paths:
                one.page.goto(site + path)
                one.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
                found = serious_violations(one.page)
                if found:
                    failures.append(f"{path} at {label}: {found}")
                if not no_horizontal_scroll(one.page):
                    failures.append(f"{path} scrolls sideways at {label}")
                name = re.sub(r"[^a-z]+", "-", path.split("?")[0].replace(edit, "/edit").replace(invitation, "/invitation").replace(f"/claim/{slug}", "/claim").lower()).strip("-")
                shoot(one.page, f"portal-page-{name}-{label}")
            # The last staff page is the not-found page, answered 404 on purpose.
            assert [error for error in one.errors if "status of 404" not in error] == [], one.errors
    assert failures == []


def _sign_in_es(page: object, site: str, email: str) -> None:
    page.goto(f"{site}/es/portal/sign-in")  # type: ignore[attr-defined]
    page.get_by_label("Correo electrónico").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Contraseña").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Iniciar sesión").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/es/portal/**")  # type: ignore[attr-defined]


def test_the_spanish_portal_speaks_spanish_in_a_browser_with_no_serious_accessibility_violation(portal_site, visit):
    """A clinic signs up in the Spanish portal (the password meter speaks Spanish too), confirms
    its address from the Spanish mail and adds a clinic; every Spanish portal page then shows no
    English phrase of the catalog, fits a phone and passes axe-core at both sizes."""
    from test_browser_spanish import _leaks

    site, mailbox, backend = portal_site
    if backend != "sqlite":
        pytest.skip("the pages are the same on both databases: checked once, on SQLite")
    email = _email("ana")
    setup = visit()
    page = setup.page
    page.goto(f"{site}/es/portal/sign-up")
    page.get_by_label("Correo del trabajo").fill(email)
    page.get_by_label("Su nombre").fill("Ana Ruiz")
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    expect(page.locator("#strength-meter")).to_have_text("Suficientemente segura.", timeout=10_000)
    page.get_by_role("button", name="Crear la cuenta").click()
    expect(page.locator(".flash")).to_contain_text("Enviamos un enlace")
    link = _link(mailbox, email, "/es/portal/verify")
    page.goto(link)
    page.get_by_role("button", name="Confirmar mi dirección").click()
    expect(page.locator(".flash")).to_contain_text("está confirmado")
    page.get_by_role("link", name="Agregar una clínica").click()
    page.get_by_label("Nombre de la clínica").fill("Clínica Accesible")
    page.get_by_label("Código postal").fill("10001")
    page.get_by_role("button", name="Guardar como borrador").click()
    expect(page.locator(".flash")).to_contain_text("borrador")
    edit = urlsplit(page.url).path
    assert edit.startswith("/es/portal/listings/"), edit
    signed_out = ["/es/portal/sign-in", "/es/portal/sign-up", "/es/portal/forgot"]
    signed_in = ["/es/portal/listings", "/es/portal/listings/new", edit, f"{edit}/history", "/es/portal/account"]
    staff = ["/es/portal/moderation", "/es/portal/moderation/accounts"]
    failures = []
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for who, paths in ((None, signed_out), (email, signed_in), (ADMIN_EMAIL, staff)):
            one = visit(size)
            if who:
                _sign_in_es(one.page, site, who)
            for path in paths:
                one.page.goto(site + path)
                one.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
                assert one.page.evaluate("document.documentElement.lang") == "es", path
                leaks = _leaks(one.page)
                if leaks:
                    failures.append(f"{path} at {label} shows English: {leaks}")
                found = serious_violations(one.page)
                if found:
                    failures.append(f"{path} at {label}: {found}")
                if not no_horizontal_scroll(one.page):
                    failures.append(f"{path} scrolls sideways at {label}")
                name = re.sub(r"[^a-z]+", "-", path.replace(edit, "/edit").lower()).strip("-")
                shoot(one.page, f"spanish-{name}-{label}")
            assert one.errors == [], one.errors
    assert failures == []
