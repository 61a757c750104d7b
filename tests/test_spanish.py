"""The directory in Spanish (issue: Spanish): the API's words follow ``Accept-Language`` or ``lang``,
and search understands Spanish condition and service words at the right level of the hierarchy,
accents optional."""

from __future__ import annotations

import json
import re

from factories import assert_problem
from test_search import NYC, names, offset, publish, search

from directory import i18n
from directory.web.routes import language_of, localized


def test_the_language_comes_from_lang_then_the_best_weighted_header():
    assert i18n.choose(None, "es-MX,es;q=0.9,en;q=0.8") == "es"
    assert i18n.choose(None, "fr-FR, es;q=0.5, en;q=0.4") == "es"  # French is not spoken here: the next best
    assert i18n.choose(None, "en-US,en;q=0.9,es;q=0.8") == "en"
    assert i18n.choose(None, "es;q=0, en") == "en"  # q=0 means "not this one"
    assert i18n.choose(None, "es;q=abc") == "en"
    assert i18n.choose(None, None) == i18n.choose(None, "") == i18n.choose(None, "de") == "en"
    assert i18n.choose("ES", "en") == "es" and i18n.choose("en", "es") == "en"


async def test_the_taxonomies_answer_in_spanish_with_the_same_codes(client):
    english = await client.get("/v1/conditions")
    assert english.headers["content-language"] == "en" and "accept-language" in english.headers["vary"].lower()
    spanish = await client.get("/v1/conditions", headers={"Accept-Language": "es-US,es;q=0.9"})
    assert spanish.status_code == 200 and spanish.headers["content-language"] == "es"
    by_code = {entry["code"]: entry for entry in spanish.json()["items"]}
    assert set(by_code) == {entry["code"] for entry in english.json()["items"]}
    assert by_code["depression"]["name"] == "Depresión" and "ansiedad" in by_code["anxiety-disorders"]["synonyms"]
    assert by_code["ptsd"]["name"] == "Trastorno de estrés postraumático" and "TEPT" in by_code["ptsd"]["synonyms"]
    assert by_code["depression"]["children"] and by_code["major-depression"]["parent"] == "depression"
    # Sorted by the Spanish names, accents ignored ("Depresión bipolar" before "Depresión mayor").
    listed = [entry["name"] for entry in spanish.json()["items"]]
    assert listed.index("Depresión bipolar") < listed.index("Depresión mayor") < listed.index("Dolor crónico")
    # lang= wins over the header; a language we do not speak is a 400 naming lang.
    services = await client.get("/v1/services", params={"lang": "es"}, headers={"Accept-Language": "en"})
    assert {entry["code"]: entry["name"] for entry in services.json()["items"]}["ketamine-iv"] == "Infusión de ketamina por vena"
    assert_problem(await client.get("/v1/services", params={"lang": "fr"}), 400, "lang")


async def test_spanish_condition_and_service_words_search_at_the_right_level(client):
    await publish(client, "Resistant", offset(NYC, 1), conditions=["treatment-resistant-depression"], services=[{"code": "ketamine-iv"}])
    await publish(client, "Trauma", offset(NYC, 2), conditions=["ptsd"], services=[{"code": "esketamine-spravato"}])
    await publish(client, "Pain", offset(NYC, 3), conditions=["crps"], services=[{"code": "ketamine-iv"}])
    await publish(client, "Worry", offset(NYC, 4), conditions=["generalized-anxiety-disorder"])
    near = {"lat": NYC[0], "lon": NYC[1], "sort": "name"}
    for condition, expected in (
        ("depresión", ["Resistant"]),  # the broad term finds the narrower one
        ("depresion", ["Resistant"]),  # accents optional
        ("DEPRESIÓN", ["Resistant"]),
        ("TEPT", ["Trauma"]),
        ("estrés postraumático", ["Trauma"]),
        ("estres postraumatico", ["Trauma"]),
        ("dolor crónico", ["Pain"]),
        ("ansiedad", ["Worry"]),
    ):
        assert names(await search(client, condition=condition, **near)) == expected, condition
    assert names(await search(client, service="infusión de ketamina", **near)) == ["Pain", "Resistant"]
    assert names(await search(client, service="esketamina", **near)) == ["Trauma"]
    # In free text too, with the English words still there.
    assert names(await search(client, q="dolor cronico", **near)) == ["Pain"]
    assert names(await search(client, q="ansiedad", **near)) == ["Worry"]
    assert names(await search(client, q="anxiety", **near)) == ["Worry"]
    # An unknown word stays an error naming the parameter.
    assert_problem(await client.get("/v1/search", params={"condition": "tristeza"}), 422, "condition")


async def test_the_fhir_code_system_carries_the_spanish_displays(client):
    response = await client.get("/fhir/CodeSystem/condition", headers={"Accept": "application/fhir+json"})
    concepts = {concept["code"]: concept for concept in response.json()["concept"]}
    designations = concepts["depression"]["designation"]
    assert {"language": "es", "value": "Depresión"} in designations
    assert any(d["language"] == "es" and d["value"] == "depresión" for d in designations)


# --- the pages -----------------------------------------------------------------------------------


async def test_every_page_has_a_spanish_address_with_alternates_and_a_switch(client):
    for english, spanish in (("/", "/es"), ("/claim", "/es/claim"), ("/how-we-check", "/es/how-we-check"), ("/embed/demo", "/es/embed/demo")):
        page = await client.get(spanish)
        assert page.status_code == 200 and page.headers["content-language"] == "es", spanish
        text = re.sub(r'<script type="application/json" id="directory-messages">.*?</script>', "", page.text)  # the scripts' words, by their English
        assert '<html lang="es">' in text
        assert f'hreflang="en" href="http://testserver.local{english}"' in text and 'hreflang="x-default"' in text
        # The switch leads to the same page in English, named in English.
        assert f'class="language-switch" id="language-switch" href="{english}" hreflang="en" lang="en">English</a>' in text
        assert "Directorio de proveedores de infusiones" in text and "Infusion provider directory" not in text
        back = await client.get(english)
        assert '<html lang="en">' in back.text and 'hreflang="es"' in back.text and ">Español</a>" in back.text


async def test_the_switch_keeps_the_query_and_the_english_page_suggests_spanish_without_sending_anyone(client):
    page = await client.get("/", params={"near": "10001", "condition": "ptsd"}, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert page.status_code == 200 and '<html lang="en">' in page.text  # never redirected
    assert page.headers["vary"] == "Accept-Language"
    assert '<p class="language-suggestion" lang="es"><a href="/es/?near=10001&amp;condition=ptsd" hreflang="es">Esta página en español</a></p>' in page.text
    plain = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "language-suggestion" not in plain.text


async def test_the_spanish_pages_carry_their_scripts_words_and_a_missing_listing_is_a_spanish_404(client):
    page = await client.get("/es/providers/no-such-clinic")
    assert page.status_code == 404 and '<html lang="es">' in page.text
    start = page.text.index('id="directory-messages">') + len('id="directory-messages">')
    words = json.loads(page.text[start : page.text.index("</script>", start)])
    assert words["Open now"] == "Abierto ahora"
    assert words["{count} provider{what}."] == ["{count} proveedor{what}.", "{count} proveedores{what}."]
    english = await client.get("/providers/no-such-clinic")
    assert 'id="directory-messages">{}</script>' in english.text


def test_a_pages_address_in_each_language():
    assert localized("/", "es") == "/es/" and localized("/es/", "en") == "/" and localized("/es", "en") == "/"
    assert localized("/providers/a-clinic", "es") == "/es/providers/a-clinic"
    assert localized("/es/providers/a-clinic", "en") == "/providers/a-clinic"
    assert localized("/es/claim", "es") == "/es/claim"
    assert language_of("/es/how-we-check") == "es" and language_of("/estates") == "en" and language_of("/") == "en"


# --- the API's problems --------------------------------------------------------------------------


async def test_problems_come_in_spanish_with_the_values_kept(client):
    spanish = {"Accept-Language": "es"}
    response = await client.get("/v1/search", params={"near": "zzzzqq"}, headers=spanish)
    body = assert_problem(response, 422, "near")
    assert body["title"] == "Datos no válidos" and response.headers["content-language"] == "es"
    assert body["errors"][0]["reason"] == "no conocemos ningún lugar llamado 'zzzzqq'; pruebe con un código postal de 5 dígitos o 'Ciudad, ST', por ejemplo 'Austin, TX'"
    assert body["detail"] == "near: " + body["errors"][0]["reason"]
    radius = assert_problem(await client.get("/v1/search", params={"near": "10001", "radius": 900}, headers=spanish), 400, "radius")
    assert radius["title"] == "Parámetro no válido" and radius["errors"][0]["reason"] == "como máximo 500 mi"
    unknown = assert_problem(await client.get("/v1/search", params={"condition": "tristeza"}, headers=spanish), 422, "condition")
    assert unknown["detail"] == "condition: afección desconocida: 'tristeza'; vea GET /v1/conditions para los códigos y sinónimos"
    # The same in English without the header; a problem whose words the catalog lacks stays English, and says so.
    english = await client.get("/v1/search", params={"near": "zzzzqq"})
    assert english.json()["title"] == "Invalid input" and english.headers["content-language"] == "en"
    missing = await client.get("/v1/providers/no-such-clinic", headers=spanish)
    assert missing.status_code == 404 and missing.json()["title"] == "No encontrado"
    assert "vary" in missing.headers and "accept-language" in missing.headers["vary"].lower()


def test_a_problem_text_that_is_none_of_the_messages_stays_english():
    from directory.i18n.problems import localize

    body = {"title": "Invalid input", "detail": "something nobody wrote down", "errors": [{"field": "x", "reason": "Field required"}]}
    assert localize(body, "es") is False
    assert body == {"title": "Datos no válidos", "detail": "something nobody wrote down", "errors": [{"field": "x", "reason": "Este dato es obligatorio"}]}
