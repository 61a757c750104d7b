"""The clinic portal and its mails in Spanish (issue: Spanish): the portal at /es/portal/ speaks
Spanish from its forms to its refusals, the account keeps the language its mails are written in,
and a clinic writes its description in Spanish for Spanish readers (the API, FHIR, the form)."""

from __future__ import annotations

import re

from catalog_words import english_phrases
from conftest import ADMIN
from factories import assert_problem
from portal_steps import PASSWORD, csrf, form_values, path_of, text_of
from smtp_inbox import Mailbox
from test_portal import mailbox, moderator, person, portal  # noqa: F401 - the portal's fixtures and people
from test_search import NYC, publish

ES = "/es/portal"


def _leaks(page: str) -> list[str]:
    """English phrases of the catalog among what a Spanish page shows: its text, labels and titles,
    leaving out what is marked English (the clinic's own words)."""
    page = re.sub(r'<(\w+)[^>]*\blang="en"[^>]*>.*?</\1>', " ", page, flags=re.S)
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    attributes = " ".join(re.findall(r'(?:aria-label|title|placeholder)="([^"]*)"', page))
    shown = text_of(page) + " " + attributes
    return [phrase for phrase in english_phrases() if phrase in shown]


async def _spanish_clinic(portal, mailbox: Mailbox, confirm: bool = True):  # noqa: F811
    """Someone signs up in the Spanish portal and confirms the address from the mail it gets."""
    ana = person(portal, mailbox, "ana")
    token = csrf(await ana.open(f"{ES}/sign-up"))
    response = await portal.post(f"{ES}/sign-up", data={"csrf_token": token, "email": ana.email, "password": PASSWORD, "display_name": "Ana"})
    assert response.status_code == 303 and response.headers["location"] == f"{ES}/listings"
    if confirm:
        link = await ana.follow("/verify")
        assert link.startswith(f"{ES}/verify?token="), link
        await ana.submit(link, f"{ES}/verify", {"token": link.split("token=")[1]})
    return ana


async def test_a_clinic_works_in_the_spanish_portal_and_is_written_to_in_spanish(portal, mailbox):  # noqa: F811
    ana = await _spanish_clinic(portal, mailbox, confirm=False)
    await ana.mail()
    welcome = ana.mailbox.to(ana.email)[-1]
    assert str(welcome["Subject"]) == "Confirme su correo electrónico para el directorio de proveedores de infusiones"
    assert "Confírmela abriendo este enlace" in ana.mailbox.text(welcome)
    listings = await ana.open(f"{ES}/listings")
    assert '<html lang="es">' in listings and "Sus anuncios" in listings and "Confirme su correo electrónico." in text_of(listings)
    assert 'href="/portal/listings" hreflang="en"' in listings  # the switch keeps the page
    link = await ana.follow("/verify")
    await ana.submit(link, f"{ES}/verify", {"token": link.split("token=")[1]})
    notice = text_of(await ana.open(f"{ES}/listings"))
    assert f"Gracias: {ana.email} está confirmado." in notice

    # A listing made in Spanish: the form, its refusals next to the fields and the notices in Spanish.
    fields = {"listing_name": "Clínica Serena", "address_line1": "350 Fifth Avenue", "city": "New York", "state": "NY", "postal_code": "10118",
              "timezone": "America/New_York", "hours-mon-opens-1": "09:00", "hours-mon-closes-1": "17:00"}  # fmt: skip
    created = await ana.submit(f"{ES}/listings/new", f"{ES}/listings/new", fields)
    edit = path_of(created.headers["location"])
    assert edit.startswith(f"{ES}/listings/")
    listing_id = edit.rsplit("/", 1)[1]
    page = await ana.open(edit)
    assert "El anuncio se guardó como borrador." in text_of(page) and "Todavía falta esto para que un moderador pueda publicarlo:" in text_of(page)
    assert "Depresión" in page  # the conditions to choose from, named in Spanish
    values = form_values(page, f"{ES}/listings/{listing_id}/details")
    values.update({"phone": "555", "conditions": ["ptsd"], "service-ketamine-iv": "on", "description": "A calm clinic.",
                   "description_es": "Una clínica tranquila."})  # fmt: skip
    refused = await ana.submit(edit, f"{ES}/listings/{listing_id}/details", values, status=422)
    assert "escriba un número de teléfono" in text_of(refused.text) and "Hay un problema" in text_of(refused.text)
    values["phone"] = "(212) 555-0142"
    saved = await ana.submit(edit, f"{ES}/listings/{listing_id}/details", values)
    assert path_of(saved.headers["location"]) == edit
    page = await ana.open(edit)
    assert "Guardado." in text_of(page) and "Una clínica tranquila." in page
    stored = (await portal.get(f"/v1/providers/{listing_id}", headers=ADMIN)).json()
    assert stored["description"] == "A calm clinic." and stored["translations"] == {"es": {"description": "Una clínica tranquila."}}
    version = form_values(page, f"{ES}/listings/{listing_id}/status")["version"]
    await ana.submit(edit, f"{ES}/listings/{listing_id}/status", {"status": "pending_review", "version": version})
    assert "Esperando revisión" in text_of(await ana.open(f"{ES}/listings"))

    # An English-speaking moderator approves: the clinic's mail is in the clinic's language.
    mod = await moderator(portal, mailbox)
    await mod.submit("/portal/moderation", f"/portal/moderation/listings/{listing_id}", {"action": "approve", "reason": ""})
    await ana.mail()
    decision = ana.mailbox.to(ana.email)[-1]
    assert str(decision["Subject"]) == "Clínica Serena: publicado"
    body = ana.mailbox.text(decision)
    assert "Un moderador aprobó Clínica Serena." in body and "/es/portal/listings" in body
    assert _leaks(await ana.open(edit)) == []


async def test_an_account_chooses_the_language_of_its_mails(portal, mailbox):  # noqa: F811
    dana = person(portal, mailbox)
    await dana.sign_up()
    account = await dana.open("/portal/account")
    assert "Language of our mails" in account and "English" in text_of(account)
    await dana.submit("/portal/account", "/portal/account/language", {"language": "es"})
    assert "Saved: we write to you in Español." in text_of(await dana.open("/portal/account"))
    refused = await dana.submit("/portal/account", "/portal/account/language", {"language": "fr"}, status=422)
    assert "choose one of the languages offered" in text_of(refused.text)
    # The next mail (a password change) is in Spanish, with Spanish links.
    await dana.submit("/portal/account", "/portal/account/password", {"current_password": PASSWORD, "password": PASSWORD + " nueva"})
    await dana.mail()
    changed = dana.mailbox.to(dana.email)[-1]
    assert str(changed["Subject"]) == "Su contraseña se cambió" and "/es/portal/forgot" in dana.mailbox.text(changed)
    # The API shows the account's language, and takes one at sign-up.
    token = (await portal.post("/v1/auth/token", json={"email": dana.email, "password": PASSWORD + " nueva"})).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await portal.get("/v1/me", headers=bearer)).json()["language"] == "es"
    # Through the API the account changes it back, and an unknown language is refused naming the field.
    assert (await portal.patch("/v1/me", json={"language": "en"}, headers=bearer)).json()["language"] == "en"
    assert_problem(await portal.patch("/v1/me", json={"language": "fr"}, headers=bearer), 422, "language")
    assert (await portal.get("/v1/me", headers=bearer)).json()["language"] == "en"
    assert_problem(await portal.post("/v1/accounts", json={"email": "x@y.example", "password": PASSWORD, "language": "fr"}), 422, "language")


async def test_the_spanish_portal_pages_show_no_english_words(portal, mailbox):  # noqa: F811
    ana = await _spanish_clinic(portal, mailbox)
    created = await ana.submit(f"{ES}/listings/new", f"{ES}/listings/new", {"listing_name": "Clínica Luz", "city": "Austin", "state": "TX", "postal_code": "78701"})
    edit = path_of(created.headers["location"])
    visitor = person(await _fresh(portal), mailbox)
    for path in ("/sign-in", "/sign-up", "/forgot", "/reset?token=nope", "/verify?token=nope"):
        page = await visitor.open(ES + path, status=400 if path.startswith("/reset") else 200)
        assert '<html lang="es">' in page, path
        assert _leaks(page) == [], path
    for path in ("/listings", "/listings/new", "/account", edit, f"{edit}/history", f"{edit}/consultations"):
        page = await ana.open(path if path.startswith(ES) else ES + path)
        assert _leaks(page) == [], path
    mod = await moderator(portal, mailbox)
    queue = await mod.open(f"{ES}/moderation")
    assert "Anuncios que esperan revisión" in queue and _leaks(queue) == []
    # A refused form (a forged token) is a Spanish page too.
    refused = await portal.post(f"{ES}/sign-in", data={"csrf_token": "forged", "email": "a@b.example", "password": "x"})
    assert refused.status_code == 403 and "Formulario rechazado" in refused.text and _leaks(refused.text) == []


async def _fresh(portal):  # noqa: F811
    from test_portal import another

    return await another(portal)


async def test_a_listing_s_spanish_description_through_the_api_and_fhir(client):
    listing = await publish(client, "Bilingual", NYC, description="A calm clinic.", translations={"es": {"description": "Una clínica tranquila."}})
    read = (await client.get(f"/v1/providers/{listing['id']}")).json()
    assert read["translations"] == {"es": {"description": "Una clínica tranquila."}}
    fhir = (await client.get(f"/fhir/HealthcareService/{listing['id']}", headers={"Accept": "application/fhir+json"})).json()
    extension = fhir["_comment"]["extension"][0]
    assert extension["url"] == "http://hl7.org/fhir/StructureDefinition/translation"
    assert {part["url"]: part.get("valueCode", part.get("valueString")) for part in extension["extension"]} == {"lang": "es", "content": "Una clínica tranquila."}
    # A language the directory does not speak is refused, naming the field; null removes them.
    etag = (await client.get(f"/v1/providers/{listing['id']}")).headers["etag"]
    bad = await client.patch(f"/v1/providers/{listing['id']}", json={"translations": {"fr": {"description": "Une clinique."}}}, headers={**ADMIN, "If-Match": etag})
    assert_problem(bad, 422, "translations.fr")
    cleared = await client.patch(f"/v1/providers/{listing['id']}", json={"translations": None}, headers={**ADMIN, "If-Match": etag})
    assert cleared.status_code == 200 and cleared.json()["translations"] == {}


async def test_a_weak_password_is_explained_in_spanish_with_the_checker_s_own_warning(portal, mailbox):  # noqa: F811
    visitor = person(portal, mailbox)
    token = csrf(await visitor.open(f"{ES}/sign-up"))
    checked = await portal.post(f"{ES}/password-check", data={"csrf_token": token, "password": "abcabcabcabc1", "email": "ana@clinic.example"})
    assert checked.json() == {
        "ok": False,
        "message": 'esta contraseña es fácil de adivinar (las repeticiones como "abcabcabc" son casi tan fáciles de adivinar como "abc"); '
        "unas pocas palabras sin relación entre sí forman una contraseña segura",
    }
    assert (await portal.post(f"{ES}/password-check", data={"csrf_token": token, "password": PASSWORD})).json()["ok"] is True
    # The API says the same to a caller that asks in Spanish, and says the answer is all Spanish.
    refused = await portal.post("/v1/accounts", json={"email": "ana@clinic.example", "password": "password12345"}, headers={"Accept-Language": "es"})
    body = assert_problem(refused, 422, "password")
    assert "se parece a una contraseña muy usada" in body["errors"][0]["reason"] and refused.headers["content-language"] == "es"


async def test_a_portal_address_that_names_no_page_is_the_portal_s_not_found_page_in_its_language(portal, mailbox):  # noqa: F811
    visitor = person(portal, mailbox)
    spanish = await visitor.open(f"{ES}/no-such-page", status=404)
    assert '<html lang="es">' in spanish and "No encontrado" in text_of(spanish) and _leaks(spanish) == []
    english = await visitor.open("/portal/listings/not-an-id/nothing", status=404)
    assert '<html lang="en">' in english and "There is no such page here." in text_of(english)
    # The API's own addresses keep answering problem+json.
    assert (await portal.get("/v1/no-such-route")).headers["content-type"].startswith("application/problem+json")
    assert (await portal.get("/portal/static/no-such-file.js")).headers["content-type"].startswith("application/problem+json")
