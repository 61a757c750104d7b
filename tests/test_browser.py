"""The directory page, a listing page and the embeddable finder, driven in a real browser.

Chromium is Debian's (launched by its path: nothing is downloaded), driven by Playwright against
the app served by ``directory serve`` on the seeded sample directory, as a visitor would see it.
Screenshots of each page at desktop and phone sizes are written to tests/screenshots/ (git-ignored).
Without Chromium these tests are skipped, unless DIRECTORY_TEST_REQUIRE_BROWSER is set (CI sets it).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browsing import ADMIN_TOKEN, ARGS, CHROMIUM, DESKTOP, PHONE, SHOTS, Visit, browser, expect, free_port, playwright_api, serve, stop, visit  # noqa: F401
from browsing import no_horizontal_scroll as _no_horizontal_scroll
from browsing import serious_violations as _serious_violations
from browsing import shoot as _shoot

_free_port = free_port


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded directory served by its own command on a free port, as `make run` serves it."""
    folder = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/directory.db",
        "DIRECTORY_ADMIN_TOKEN": ADMIN_TOKEN,
        "DIRECTORY_SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
        "DIRECTORY_VERIFICATION_WORKER": "false",
        "DIRECTORY_WEBHOOK_WORKER": "false",
        "DIRECTORY_ANONYMOUS_RATE_LIMIT": "100000",
        "DIRECTORY_MAP_TILES_URL": "",
        "DIRECTORY_MAIL_OUTBOX": str(folder / "outbox"),
        "DIRECTORY_CONSULTATION_INTERVAL_SECONDS": "0.5",
    }
    url, server = serve(folder, env)
    _FOLDERS[url] = folder
    try:
        yield url
    finally:
        stop(server)


_FOLDERS: dict[str, Path] = {}


def site_folder(site: str) -> Path:
    """Where the served site keeps its database and outbox."""
    return _FOLDERS[site]


def _api_names(site: str, **params: object) -> list[str]:
    answer = httpx.get(f"{site}/v1/search", params={"unit": "mi", "limit": 20, **params}).json()
    return [hit["provider"]["name"] for hit in answer["items"]]


def _card_names(page: object) -> list[str]:
    return page.locator("#list > li h3").all_inner_texts()  # type: ignore[attr-defined]


def test_a_search_by_zip_and_condition_lists_the_nearest_in_the_apis_order_and_maps_them(site, visit):
    one = visit()
    page = one.open(f"{site}/")
    page.fill("#where", "10001")
    page.fill("#condition", "PTSD")  # another name: the page sends the condition's code
    page.select_option("#radius", "250")
    page.click("button[type=submit]")
    one.settled()
    expected = _api_names(site, near="10001", condition="ptsd", radius=250)
    assert len(expected) >= 2
    assert _card_names(page) == expected
    query = parse_qs(urlsplit(page.url).query)
    assert query["near"] == ["10001"] and query["condition"] == ["ptsd"]
    assert f"{len(expected)} providers within 250" in page.inner_text("#status")
    # The map drew the states shipped with the app and a numbered marker per result.
    assert page.locator(".leaflet-overlay-pane path").count() > 40
    assert page.locator(".leaflet-marker-pane .pin, .leaflet-marker-pane .marker-cluster").count() >= 1
    # Each card: distance, address, conditions and services, a phone link.
    first = page.locator("#list > li").first
    assert " mi" in first.locator(".distance").inner_text()
    assert first.locator("a[href^='tel:']").count() == 1
    assert "Post-traumatic stress disorder" in first.inner_text()
    # Hovering a card highlights its marker.
    first.hover()
    page.wait_for_function("document.querySelectorAll('.leaflet-marker-pane .active').length === 1", timeout=5000)
    assert one.hosts() == {urlsplit(site).netloc}, one.requests
    assert not one.errors, one.errors
    _shoot(page, "search-desktop")


def test_filters_change_the_list_and_the_url_and_back_restores_the_previous_search(site, visit):
    one = visit()
    page = one.open(f"{site}/?near=10001&radius=100")
    before = _card_names(page)
    assert before == _api_names(site, near="10001", radius=100) and len(before) >= 3
    page.check("input[name=accepting_new_patients]")
    one.settled()
    assert "accepting_new_patients=true" in page.url
    accepting = _api_names(site, near="10001", radius=100, accepting_new_patients="true")
    assert _card_names(page) == accepting and accepting != before
    # A service from the facets, with its count.
    service = page.locator("#services input").first
    code = service.get_attribute("value")
    service.check()
    one.settled()
    assert f"service={code}" in page.url
    assert _card_names(page) == _api_names(site, near="10001", radius=100, accepting_new_patients="true", service=code)
    page.go_back()
    one.settled()
    assert "service=" not in page.url and "accepting_new_patients=true" in page.url
    assert _card_names(page) == accepting
    page.go_back()
    one.settled()
    assert not page.is_checked("input[name=accepting_new_patients]")
    assert _card_names(page) == before
    assert not one.errors, one.errors


@contextlib.contextmanager
def _suspended(site: str, **search: object) -> Iterator[None]:
    """The listings a search finds, suspended by a moderator for the block's length (then restored):
    the data an empty search needs, whatever the sample directory holds."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    found = httpx.get(f"{site}/v1/search", params={"unit": "mi", "limit": 100, **search}).json()["items"]
    ids = [hit["provider"]["id"] for hit in found]
    for provider_id in ids:
        done = httpx.post(f"{site}/v1/moderation/listings/{provider_id}/actions", json={"action": "suspend", "reason": "browser test"}, headers=admin)
        assert done.status_code == 200, done.text
    try:
        yield
    finally:
        for provider_id in ids:
            done = httpx.post(f"{site}/v1/moderation/listings/{provider_id}/actions", json={"action": "restore"}, headers=admin)
            assert done.status_code == 200, done.text


def test_an_empty_search_says_what_to_do(site, visit):
    one = visit()
    with _suspended(site, near="10001", radius=10, condition="crps"):
        assert _api_names(site, near="10001", radius=10, condition="crps") == []
        page = one.open(f"{site}/?near=10001&radius=10&condition=crps")
        status = page.inner_text("#status")
        assert "No providers within 10 mi of New York, NY 10001 treating Complex regional pain syndrome." in status
        # The nearest beyond the radius are named and listed apart, and the searched place is pinned.
        beyond = httpx.get(f"{site}/v1/search", params={"near": "10001", "radius": 10, "condition": "crps", "beyond_radius": "true"}).json()["beyond_radius"]
        assert beyond and f"The nearest: {beyond[0]['provider']['name']}" in status
        assert page.locator("#beyond-list > li h3").all_inner_texts() == [hit["provider"]["name"] for hit in beyond]
        assert page.locator(".leaflet-marker-pane .pin.place").count() == 1
        # Widening goes as far as the nearest one needs.
        wider = next(r for r in (25, 50, 100, 250, 500) if r >= beyond[0]["distance"])
        page.click(f"#notice button:has-text('Widen to {wider} mi')")
        one.settled()
        assert f"radius={wider}" in page.url
    unknown = one.open(f"{site}/?near=Nowhere%20Special%2C%20ZZ")
    assert unknown.locator("#notice [role=alert]").count() == 1
    assert "Nowhere Special" in unknown.inner_text("#notice")


def test_a_rural_search_names_the_place_and_the_nearest_clinics_beyond_the_radius(site, visit):
    one = visit()
    page = one.open(f"{site}/?near=59001&condition=ptsd")
    status = page.inner_text("#status")
    answer = httpx.get(f"{site}/v1/search", params={"near": "59001", "condition": "ptsd", "beyond_radius": "true"}).json()
    label = answer["place"]["label"]
    assert answer["items"] == [] and answer["beyond_radius"]
    nearest = answer["beyond_radius"][0]
    assert f"No providers within 25 mi of {label} treating Post-traumatic stress disorder." in status
    assert f"The nearest: {nearest['provider']['name']} in {nearest['location']['city']}, {round(nearest['distance'])} mi." in status
    assert page.locator("#beyond").is_visible() and label in page.inner_text("#beyond-heading")
    first = page.locator("#beyond-list > li").first
    assert f"{nearest['distance']:.1f} mi" in first.locator(".distance").inner_text()
    assert not one.errors, one.errors


def test_the_clinician_filters_ask_for_one_clinician_with_both(site, visit):
    one = visit()
    page = one.open(f"{site}/?near=10001&radius=500")
    page.select_option("#credential", "MD")
    one.settled()
    page.select_option("#specialty", "anesthesiology")
    one.settled()
    query = parse_qs(urlsplit(page.url).query)
    assert query["credential"] == ["MD"] and query["specialty"] == ["anesthesiology"]
    expected = _api_names(site, near="10001", radius=500, credential="MD", specialty="anesthesiology")
    assert _card_names(page) == expected
    # Fewer than a specialty alone would give: each filter alone means any clinician.
    assert len(expected) <= len(_api_names(site, near="10001", radius=500, specialty="anesthesiology"))
    assert not one.errors, one.errors


def test_words_the_taxonomy_does_not_know_are_searched_as_forgiving_text(site, visit):
    one = visit()
    page = one.open(f"{site}/")
    page.fill("#where", "Austin, TX")
    page.fill("#condition", "depresion")  # a typo: not a condition, so free text
    page.select_option("#radius", "250")
    page.click("button[type=submit]")
    one.settled()
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["depresion"] and "condition" not in query
    expected = _api_names(site, near="Austin, TX", q="depresion", radius=250)
    assert expected and _card_names(page) == expected
    assert "matching “depresion”" in page.inner_text("#status")
    assert page.input_value("#condition") == "depresion"
    assert not one.errors, one.errors


def test_a_listing_page_shows_hours_clinicians_and_the_claim_link(site, visit):
    one = visit()
    slug = httpx.get(f"{site}/v1/search", params={"near": "10001"}).json()["items"][0]["provider"]["slug"]
    listing = httpx.get(f"{site}/v1/providers/{slug}").json()
    page = one.open(f"{site}/providers/{slug}")
    assert page.inner_text("h1") == listing["name"]
    hours = page.locator("table.hours").first
    assert hours.locator("tr").count() == 7 and "Monday" in hours.inner_text()
    clinician = listing["clinicians"][0]
    assert f"{clinician['first_name']} {clinician['last_name']}" in page.inner_text(".clinicians")
    assert page.locator(f"a[href='/portal/claim/{slug}']").count() == 1
    assert one.hosts() == {urlsplit(site).netloc}, one.requests
    assert not one.errors, one.errors
    _shoot(page, "listing-desktop")
    missing = one.open(f"{site}/providers/no-such-clinic")
    assert "not in the directory" in missing.inner_text("h1")
    assert httpx.get(f"{site}/providers/no-such-clinic").status_code == 404
    assert httpx.get(f"{site}/providers/{slug}").status_code == 200


def _clinic_taking_requests(site: str, name: str = "Cedar Ketamine Clinic") -> tuple[dict, dict[str, str]]:
    """A published listing owned by an account with a confirmed address, taking consultation requests."""
    email = f"owner{free_port()}@cedar-clinic.example"
    assert httpx.post(f"{site}/v1/accounts", json={"email": email, "password": "a long passphrase 1"}).status_code == 201
    database = sqlite3.connect(site_folder(site) / "directory.db")
    with database:  # the address confirmed, as its mailed link would
        database.execute("UPDATE account SET email_verified_at = '2026-12-01 00:00:00.000000' WHERE email = ?", (email,))
    database.close()
    token = httpx.post(f"{site}/v1/auth/token", json={"email": email, "password": "a long passphrase 1"}).json()["access_token"]
    owner = {"Authorization": f"Bearer {token}"}
    body = {"name": name, "phone": "(212) 555-0190", "status": "draft", "conditions": ["ptsd"],
            "locations": [{"address_line1": "350 Fifth Avenue", "city": "New York", "state": "NY", "postal_code": "10118"}]}  # fmt: skip
    made = httpx.post(f"{site}/v1/providers", json=body, headers=owner).json()
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "If-Match": "*"}
    assert httpx.patch(f"{site}/v1/providers/{made['id']}", json={"status": "published"}, headers=admin).status_code == 200
    assert httpx.put(f"{site}/v1/providers/{made['id']}/consultation-settings", json={"accepting": True, "email": email}, headers=owner).status_code == 200
    return made, owner


def test_a_patient_requests_a_consultation_from_a_listing_page(site, visit):
    listing, owner = _clinic_taking_requests(site)
    one = visit()
    page = one.open(f"{site}/providers/{listing['slug']}")
    form = page.locator(".consult-part")
    expect(form.get_by_role("heading", name="Request a free consultation")).to_be_visible()
    assert "null" not in page.inner_text("#listing")  # parts the listing lacks (no payment details here) are left out
    # Sent empty: each problem next to its field, nothing sent.
    form.get_by_role("button", name="Send the request").click()
    expect(form.locator("#consult-name-error")).to_contain_text("how to address you")
    expect(form.locator("#consult-consent-error")).to_contain_text("Tick the box")
    page.wait_for_timeout(3000)  # a person takes longer than the form's minimum to fill it in
    form.get_by_label("Your name").fill("Sam Rivera")
    form.get_by_label("Phone", exact=True).fill("(303) 555-0142")
    form.get_by_label("Email", exact=True).fill("sam@patients.example")
    form.get_by_label("By phone", exact=True).check()
    form.get_by_label("Best time to reach you").fill("weekday mornings")
    form.get_by_label("I agree").check()
    assert not _serious_violations(page), _serious_violations(page)
    _shoot(page, "consultation-form")
    form.get_by_role("button", name="Send the request").click()
    expect(page.locator(".consult-part h2")).to_have_text("Your request was sent")
    expect(page.locator(".consult-part")).to_contain_text("Cedar Ketamine Clinic will contact you by phone")
    (request,) = httpx.get(f"{site}/v1/providers/{listing['id']}/consultation-requests", headers=owner).json()
    assert request["name"] == "Sam Rivera" and request["phone"] == "+13035550142" and request["preferred_contact"] == "phone"
    # The app's own worker mails the clinic and the requester (here: the outbox folder).
    outbox = site_folder(site) / "outbox"
    wanted = {"Subject: New consultation request for Cedar Ketamine Clinic", "Subject: Your request to Cedar Ketamine Clinic"}
    deadline = time.monotonic() + 20
    while True:  # the outbox also holds the owner's confirmation mail and other tests' mail: wait for these two
        subjects = sorted(line for path in outbox.glob("*.eml") for line in path.read_text().splitlines() if line.startswith("Subject:"))
        if wanted <= set(subjects) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "Subject: New consultation request for Cedar Ketamine Clinic" in subjects and "Subject: Your request to Cedar Ketamine Clinic" in subjects
    # The requester changes their mind: the link of their mail, one button, and the request is gone.
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in outbox.glob("*.eml")]
    confirmation = next(m for m in mails if m["Subject"] == "Your request to Cedar Ketamine Clinic")
    link = next(word for word in confirmation.get_content().split() if "/consultations/withdraw?" in word)
    withdraw = one.open(link)
    withdraw.get_by_role("button", name="Withdraw my request").click()
    expect(withdraw.locator("#result")).to_have_text("Your request was withdrawn and deleted.")
    assert httpx.get(f"{site}/v1/providers/{listing['id']}/consultation-requests", headers=owner).json() == []
    assert not one.errors, one.errors


def test_a_visitor_reports_a_problem_from_a_listing_page(site, visit):
    one = visit()
    slug = httpx.get(f"{site}/v1/search", params={"near": "94103"}).json()["items"][0]["provider"]["slug"]
    page = one.open(f"{site}/providers/{slug}")
    page.get_by_text("Report a problem with this listing").click()
    page.get_by_label("The phone number is wrong").check()
    page.get_by_label("In a few words").fill("The number rings a closed office.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator(".report-problem [role=status]").first).to_contain_text("Thank you")
    reports = httpx.get(f"{site}/v1/moderation/reports", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert any(r["kind"] == "wrong_phone" and r["details"] == "The number rings a closed office." for r in reports)
    assert not one.errors, one.errors


def test_the_keyboard_alone_reaches_every_result(site, visit):
    one = visit()
    page = one.open(f"{site}/?near=10001&radius=100")
    links = page.locator("#list > li h3 a").all_inner_texts()
    assert len(links) >= 3
    reached: list[str] = []
    page.locator("body").focus()
    for _ in range(150):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('#list h3') ? document.activeElement.textContent : null")
        if focused:
            reached.append(focused)
        if len(reached) == len(links):
            break
    assert reached == links
    page.keyboard.press("Enter")
    page.wait_for_url("**/providers/**")


@pytest.mark.parametrize("path", ["/?near=10001&radius=100", "/providers/{slug}", "/embed/demo", "/how-we-check"])
def test_no_serious_accessibility_violations_and_no_horizontal_scroll_on_a_phone(site, visit, path):
    slug = httpx.get(f"{site}/v1/search", params={"near": "10001"}).json()["items"][0]["provider"]["slug"]
    url = site + path.format(slug=slug)
    name = {"/": "search", "/providers/{slug}": "listing", "/embed/demo": "demo", "/how-we-check": "checks"}[path.split("?")[0]]
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        one = visit(size)
        page = one.open(url)
        if name == "demo":
            expect(page.locator("provider-finder li").first).to_be_visible(timeout=20_000)
        assert _serious_violations(page) == [], label
        assert _no_horizontal_scroll(page), label
        assert one.hosts() == {urlsplit(site).netloc}, one.requests
        assert not one.errors, one.errors
        if label == "phone" or name == "demo":
            _shoot(page, f"{name}-{label}")


HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; }
li, a, button, input, ol, p, h2, form { display: none !important; }
provider-finder { font-family: 'Comic Sans MS', fantasy; }
"""


class HostPage:
    """A partner's page on another origin of this machine, with hostile CSS, embedding the finder."""

    def __init__(self, site: str) -> None:
        self.html = ""
        page = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                body = page.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.site = site
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def show(self, finder: str) -> None:
        self.html = (
            "<!doctype html><html lang='en'><head><title>Partner</title>"
            f"<style>{HOSTILE_CSS}</style><script src='{self.site}/embed.js' async></script></head>"
            f"<body><main><h1>Partner article</h1>{finder}</main></body></html>"
        )

    def close(self) -> None:
        self.server.shutdown()


def _browser_key(site: str, *origins: str) -> str:
    response = httpx.post(
        f"{site}/v1/admin/api-keys",
        json={"name": "Partner widget", "owner_contact": "dev@partner.example", "kind": "browser", "allowed_origins": list(origins)},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def test_the_embed_works_on_another_origin_with_its_browser_key_and_is_refused_elsewhere(site, visit):
    host = HostPage(site)
    try:
        allowed = f"http://127.0.0.1:{host.port}"
        key = _browser_key(site, allowed)
        host.show(
            f'<provider-finder condition="ptsd" near="auto" key="{key}" limit="2" radius="250" '
            'link="https://partner.example/clinics/{slug}" style="--pf-accent: rgb(122, 62, 0)"></provider-finder>'
        )
        one = visit(DESKTOP, geolocation={"latitude": 40.7484, "longitude": -73.9967}, permissions=["geolocation"])
        page = one.page
        page.goto(f"{allowed}/")
        finder = page.locator("provider-finder")
        expect(finder.locator("li").first).to_be_visible(timeout=20_000)
        expected = _api_names(site, lat=40.7484, lon=-73.9967, condition="ptsd", radius=250, limit=2)
        assert finder.locator("li a").all_inner_texts() == expected  # Playwright's locators pierce the shadow root
        href = finder.locator("li a").first.get_attribute("href")
        assert href.startswith("https://partner.example/clinics/")
        # The hostile page's CSS does not reach inside: results shown, in the element's own colours.
        assert finder.locator("li").first.is_visible() and finder.locator("form button[type=submit]").first.is_visible()
        assert finder.locator("li a").first.evaluate("a => getComputedStyle(a).color") == "rgb(122, 62, 0)"
        assert finder.locator("form button[type=submit]").first.evaluate("b => getComputedStyle(b).fontSize") == "16px"
        assert one.hosts() == {urlsplit(allowed).netloc, urlsplit(site).netloc}
        _shoot(page, "embed-host-desktop")

        # The same page on an origin the key does not allow: the finder says it is not set up there.
        refused_host = f"http://localhost:{host.port}"
        other = visit(DESKTOP, geolocation={"latitude": 40.7484, "longitude": -73.9967}, permissions=["geolocation"])
        other.page.goto(f"{refused_host}/")
        expect(other.page.locator("provider-finder .status")).to_contain_text("not set up", timeout=20_000)
        assert "not allowed on pages of" in other.page.locator("provider-finder .status").inner_text()
        assert other.page.locator("provider-finder li").count() == 0
    finally:
        host.close()


def test_a_patient_requests_a_consultation_through_a_partners_embed(site, visit):
    listing, owner = _clinic_taking_requests(site, "Juniper Infusions")
    host = HostPage(site)
    try:
        allowed = f"http://127.0.0.1:{host.port}"
        key = _browser_key(site, allowed)
        host.show(f'<provider-finder condition="ptsd" near="10118" key="{key}" limit="20" radius="1"></provider-finder>')
        one = visit(DESKTOP)
        page = one.page
        page.goto(f"{allowed}/")
        finder = page.locator("provider-finder")
        hit = finder.locator("li", has_text="Juniper Infusions")
        expect(hit).to_be_visible(timeout=20_000)
        hit.get_by_role("button", name="Request a free consultation").click()
        page.wait_for_timeout(3000)  # a person takes longer than the form's minimum
        hit.get_by_label("Your name").fill("Robin Vega")
        hit.get_by_label("Email", exact=True).fill("robin@patients.example")
        hit.get_by_label("I agree").check()
        assert not _serious_violations(page), _serious_violations(page)
        hit.get_by_role("button", name="Send the request").click()
        expect(hit.locator("[role=status]")).to_contain_text("Juniper Infusions will contact you", timeout=10_000)
        requests = httpx.get(f"{site}/v1/providers/{listing['id']}/consultation-requests", headers=owner).json()
        assert [(r["name"], r["email"], r["via_partner"]) for r in requests] == [("Robin Vega", "robin@patients.example", True)]
        assert one.hosts() == {urlsplit(allowed).netloc, urlsplit(site).netloc}
        assert not one.errors, one.errors
    finally:
        host.close()
