"""The directory in Spanish, in a real browser: a Spanish speaker's search journey end to end, no
English word of the catalog left on the Spanish pages, and no serious accessibility violation at
desktop and phone sizes (screenshots in tests/screenshots/, as for the English pages)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browsing import DESKTOP, PHONE, browser, expect, no_horizontal_scroll, serious_violations, shoot, visit  # noqa: F401
from catalog_words import english_phrases
from test_browser import site  # noqa: F401 - one served directory for this module too


def _settled(page: object) -> None:
    expect(page.locator("#status")).not_to_have_text("Buscando…", timeout=20_000)  # type: ignore[attr-defined]


def _names(site: str, **params: object) -> list[str]:
    answer = httpx.get(f"{site}/v1/search", params={"unit": "mi", "limit": 20, **params}).json()
    return [hit["provider"]["name"] for hit in answer["items"]]


def _leaks(page: object) -> list[str]:
    """English phrases of the catalog in what the page shows, leaving out what is marked English
    (a clinic's own words) and the clinics' and places' names (data, not the page's words)."""
    shown = page.evaluate(  # type: ignore[attr-defined]
        """() => {
          const body = document.body.cloneNode(true);
          for (const element of body.querySelectorAll('[lang="en"], script, .leaflet-container, h1#name, .card h3, .beyond h3')) element.remove();
          return body.innerText + ' ' + [...document.querySelectorAll('[placeholder], [aria-label], [title]')]
            .map((e) => [e.getAttribute('placeholder'), e.getAttribute('aria-label'), e.getAttribute('title')].join(' ')).join(' ') + ' ' + document.title;
        }"""
    )
    return [phrase for phrase in english_phrases() if phrase in shown]


@pytest.fixture
def spanish(visit) -> Iterator[object]:  # noqa: F811
    yield lambda size=DESKTOP: visit(size, locale="es-US")


def test_a_spanish_speaker_searches_for_depresion_filters_opens_a_listing_and_comes_back(site, spanish):  # noqa: F811
    one = spanish()
    page = one.open(f"{site}/es/")
    assert page.get_attribute("html", "lang") == "es"
    assert page.inner_text("h1") == "Encuentre terapia con ketamina e infusiones cerca de usted"
    page.fill("#where", "Austin, TX")
    page.fill("#condition", "depresión")  # a Spanish name the condition box knows: sent as the broad code
    page.select_option("#radius", "250")
    page.click("#search button[type=submit]")
    _settled(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["condition"] == ["depression"] and "q" not in query
    expected = _names(site, near="Austin, TX", condition="depression", radius=250)
    assert expected and page.locator("#list > li h3").all_inner_texts() == expected
    status = page.inner_text("#status")
    assert "a menos de 250 mi de" in status and "que tratan Depresión" in status, status
    # The switch to English keeps the search.
    assert "condition=depression" in page.get_attribute("#language-switch", "href")
    # A filter: the list and the address change, in Spanish still.
    page.check("input[name=accepting_new_patients]")
    _settled(page)
    accepting = _names(site, near="Austin, TX", condition="depression", radius=250, accepting_new_patients="true")
    assert page.locator("#list > li h3").all_inner_texts() == accepting
    assert "accepting_new_patients=true" in page.url
    # The first listing, in Spanish, its clinic's own words marked as English.
    page.locator("#list > li h3 a").first.click()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert urlsplit(page.url).path.startswith("/es/providers/")
    assert page.locator("h2", has_text="Afecciones que trata").count() == 1
    # The conditions and services by their Spanish names, though the listing's document has them in English.
    spanish_names = {item["name"] for kind in ("conditions", "services") for item in httpx.get(f"{site}/v1/{kind}", params={"lang": "es"}).json()["items"]}
    shown = page.locator("section.part ul.chips li").all_inner_texts() + page.locator("section.part ul.plain > li").all_inner_texts()
    assert shown and all(text.split(" · ")[0] in spanish_names for text in page.locator("section.part ul.chips li").all_inner_texts()), shown
    hours = page.locator("table.hours").first
    assert "Lunes" in hours.inner_text() and "Horario semanal" in hours.inner_text()
    if page.locator("p.lead").count():
        assert page.get_attribute("p.lead", "lang") == "en"
    assert _leaks(page) == []
    shoot(page, "spanish-listing-desktop")
    # Back to the search, as it was.
    page.click("#listing a:has-text('Volver a la búsqueda')")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    _settled(page)
    assert urlsplit(page.url).path == "/es/" and "accepting_new_patients=true" in page.url
    assert page.locator("#list > li h3").all_inner_texts() == accepting
    assert not one.errors, one.errors


def test_an_empty_spanish_search_says_what_to_do_in_spanish(site, spanish):  # noqa: F811
    one = spanish()
    page = one.open(f"{site}/es/?near=59001&condition=ptsd&radius=25")
    _settled(page)
    status = page.inner_text("#status")
    assert status.startswith("No hay proveedores a menos de 25 mi de") and "El más cercano:" in status, status
    assert page.locator("#notice button", has_text="Ampliar a").count() == 1
    assert _leaks(page) == []
    assert not one.errors, one.errors


@pytest.mark.parametrize("path", ["/es/?near=10001&radius=100", "/es/providers/{slug}", "/es/how-we-check", "/es/claim", "/es/embed/demo"])
def test_the_spanish_pages_leak_no_english_and_have_no_serious_accessibility_violation(site, spanish, path):  # noqa: F811
    slug = httpx.get(f"{site}/v1/search", params={"near": "10001"}).json()["items"][0]["provider"]["slug"]
    name = path.split("?")[0].strip("/").replace("/", "-").replace("{slug}", "listing")
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        one = spanish(size)
        page = one.open(site + path.format(slug=slug))
        if "?" in path:
            _settled(page)
        assert page.get_attribute("html", "lang") == "es"
        assert _leaks(page) == [], label
        assert serious_violations(page) == [], label
        assert no_horizontal_scroll(page), label
        assert not one.errors, one.errors
        shoot(page, f"spanish-{name}-{label}")


def test_the_english_page_offers_spanish_to_a_spanish_browser_without_sending_it_there(site, spanish):  # noqa: F811
    one = spanish()
    page = one.open(f"{site}/?near=10001")
    assert page.get_attribute("html", "lang") == "en" and urlsplit(page.url).path == "/"
    suggestion = page.locator(".language-suggestion a")
    assert suggestion.inner_text() == "Esta página en español"
    suggestion.click()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert urlsplit(page.url).path == "/es/" and "near=10001" in page.url
    assert not one.errors, one.errors


def test_the_finder_speaks_the_language_of_the_page_around_it_or_its_own(site, spanish):  # noqa: F811
    one = spanish()
    page = one.open(f"{site}/es/embed/demo")
    finder = page.locator("provider-finder")
    expect(finder.locator("li").first).to_be_visible(timeout=20_000)
    shown = page.evaluate("document.querySelector('provider-finder').shadowRoot.textContent")
    assert "Cerca de" in shown and "Fichas del" in shown and "proveedores más cercanos a" in shown, shown
    english = [phrase for phrase in english_phrases() if phrase in shown]
    assert english == [], english
    assert finder.locator("li a").first.get_attribute("href").startswith(f"{site}/es/providers/")
    # Its own lang wins over the page's.
    page.evaluate("document.querySelector('provider-finder').setAttribute('lang', 'en')")
    expect(finder.locator("button[type=submit]")).to_have_text("Find", timeout=10_000)
    assert not one.errors, one.errors
