"""Answering a visit with a page: the portal's templates (Jinja, autoescaped), one layout for all,
the Content-Security-Policy of the directory's pages, never cached, never framed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from babel.dates import format_date, format_time
from jinja2 import Environment
from litestar import Response

from directory import i18n
from directory.errors import DirectoryError, FieldError
from directory.i18n.catalogs import page_templates, script_messages, translations
from directory.listings.models import ProviderStatus
from directory.web.portal.visits import CSRF_FIELD, N_, NOTICE_COOKIE, Visit
from directory.web.routes import localized, page_policy

TEMPLATES = Path(__file__).parent / "templates"

#: A listing's status in words, for its owners.
STATUS_WORDS = {
    ProviderStatus.draft.value: N_("Draft: not submitted"),
    ProviderStatus.pending_review.value: N_("Waiting for review"),
    ProviderStatus.published.value: N_("Published"),
    ProviderStatus.suspended.value: N_("Suspended by a moderator"),
    ProviderStatus.closed.value: N_("Closed"),
}
VERIFICATION_WORDS = {
    "unverified": N_("Not checked: the listing has no organization NPI"),
    "pending": N_("Being checked against the national NPI registry"),
    "verified": N_("Verified against the national NPI registry"),
    "failed": N_("Failed the registry check"),
}

#: Who made a change, by the kind of caller.
ACTOR_WORDS = {"provider": N_("clinic staff"), "moderator": N_("moderator"), "admin": N_("administrator"), "partner": N_("partner"), "system": N_("the directory")}
#: What a recorded change did.
ACTION_WORDS = {
    "created": N_("created"), "updated": N_("updated"), "claimed": N_("claimed"), "closed": N_("closed"), "confirmed": N_("confirmed"),
    "merged": N_("merged"), "merged_in": N_("merged in"), "state": N_("status changed"), "consultations": N_("consultation requests"),
    "location_added": N_("location added"), "location_removed": N_("location removed"), "location_updated": N_("location updated"),
    "clinician_added": N_("clinician added"), "clinician_removed": N_("clinician removed"), "clinician_updated": N_("clinician updated"),
    "owner_added": N_("owner added"), "owner_invited": N_("owner invited"), "owner_removed": N_("owner removed"),
    "verification_requested": N_("verification asked for"), "trust_change_requested": N_("change held for a moderator"),
    "approve": N_("approved"), "reject": N_("sent back"), "suspend": N_("suspended"), "restore": N_("restored"),
}  # fmt: skip
#: A listing's fields, as the history and the moderators' diff name them.
FIELD_WORDS = {
    "name": N_("name"), "description": N_("description"), "phone": N_("phone"), "website": N_("website"), "email": N_("email"),
    "npi": N_("NPI"), "status": N_("status"), "conditions": N_("conditions"), "services": N_("services"), "routes": N_("routes"),
    "payment_options": N_("payment"), "insurance_carriers": N_("insurance carriers"), "languages": N_("languages"),
    "accepting_new_patients": N_("accepting new patients"), "telehealth": N_("telehealth"), "telehealth_states": N_("telehealth states"),
    "price_min": N_("lowest price"), "price_max": N_("highest price"), "locations": N_("locations"), "clinicians": N_("clinicians"),
    "hours": N_("opening hours"), "credential": N_("credential"), "specialty": N_("specialty"), "licenses": N_("licenses"),
    "rems_certified": N_("REMS certification"), "accessibility_features": N_("accessibility"), "translations": N_("translations"),
}  # fmt: skip


@cache
def environment(language: str = i18n.DEFAULT) -> Environment:
    """The portal's templates in a language: ``_()`` from its catalog, ``|t`` for words chosen by
    value (marked where they are defined), dates by the locale's conventions (CLDR, through Babel)."""
    env = page_templates(TEMPLATES, language)
    words = translations(language)
    env.globals.update(
        STATUS_WORDS=STATUS_WORDS, VERIFICATION_WORDS=VERIFICATION_WORDS, CSRF_FIELD=CSRF_FIELD,
        ACTOR_WORDS=ACTOR_WORDS, ACTION_WORDS=ACTION_WORDS, FIELD_WORDS=FIELD_WORDS,
    )  # fmt: skip
    env.filters["t"] = words.gettext
    env.filters["when"] = lambda moment: when(moment, language)
    env.filters["day"] = lambda moment: day(moment, language)
    env.filters["shown"] = lambda value: shown(value, words.gettext)
    return env


def day(moment: datetime | None, language: str = i18n.DEFAULT) -> str:
    """A date the locale's way: "Dec 6, 2026", "6 dic 2026"."""
    return format_date(moment, "medium", locale=language) if moment else ""


def when(moment: datetime | None, language: str = i18n.DEFAULT) -> str:
    """A moment, in UTC: "Dec 6, 2026, 15:04 UTC"."""
    if not moment:
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{day(moment, language)}, {format_time(moment, 'HH:mm', tzinfo=UTC, locale=language)} UTC"


def shown(value: Any, words: Callable[[str], str] = str) -> str:
    """A recorded value in words: lists joined, a location as its address and hours, nothing as a dash."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return words("yes") if value else words("no")
    if isinstance(value, dict):
        if "day" in value and "opens" in value:
            return f"{value['day']} {value['opens']}–{value.get('closes', '')}"
        parts = [shown(value[key], words) for key in ("name", "address_line1", "address_line2", "city", "state", "postal_code") if value.get(key)]
        if value.get("hours"):
            parts.append(words("hours") + " " + shown(value["hours"], words))
        return ", ".join(parts) if parts else ", ".join(f"{key}: {shown(item, words)}" for key, item in value.items() if item not in (None, "", [], {}))
    if isinstance(value, list) and len(value) == 3 and value[2] == "USD":  # a price range as recorded: [min, max, currency]
        return "—" if value[0] is None and value[1] is None else f"${value[0]}–${value[1]}"
    if isinstance(value, list):
        return ", ".join(shown(item, words) for item in value if item not in (None, "", [], {})) or "—"
    return str(value)


# The words ``shown`` uses, for the catalog.
N_("yes"), N_("no"), N_("hours")


def field_errors(error: DirectoryError) -> dict[str, str]:
    """A service's field errors by field name, for the messages next to each field."""
    found: dict[str, str] = {}
    for item in error.errors or [FieldError("form", error.detail)]:
        found.setdefault(item.field, item.reason)
    return found


def page(visit: Visit, template: str, status: int = 200, **context: Any) -> Response[str]:
    """The page, with the visit's cookies set and the one-time notice shown (and forgotten)."""
    notice = visit.request.cookies.get(NOTICE_COOKIE)
    if notice:
        visit.forget_cookie(NOTICE_COOKIE, path=visit.home)
    language = visit.language
    url = visit.request.url
    query = f"?{url.query}" if url.query and visit.request.method == "GET" else ""
    values = {
        "visit": visit,
        "account": visit.account,
        "csrf": visit.csrf,
        "notice": unquote(notice) if notice else None,
        "errors": {},
        "values": {},
        "lang": language,
        "home": visit.home,
        "site": i18n.prefix(language),
        "languages": i18n.LANGUAGES,
        "other_languages": i18n.OTHERS,
        "language_names": i18n.NAMES,
        "script_messages": script_messages(language),
        "switch": [{"hreflang": code, "name": name, "path": localized(url.path, code) + query} for code, name in i18n.LANGUAGES.items() if code != language],
    }
    values.update(context)
    # What services said (a field's reason, a refusal) in the page's language where the catalog has it.
    for key in ("errors", "part_errors", "summary"):
        if isinstance(values.get(key), dict):
            values[key] = {name: visit.said(reason) if isinstance(reason, str) else reason for name, reason in values[key].items()}
    for key in ("title", "detail", "failure"):
        if isinstance(values.get(key), str):
            values[key] = visit.said(values[key])
    html = environment(language).get_template(template).render(**values)
    # X-Frame-Options comes from the edge, as on every answer.
    headers = {"Content-Security-Policy": page_policy(visit.state.settings), "Cache-Control": "no-store", "Content-Language": language}
    response = Response(html, status_code=status, media_type="text/html", headers=headers)
    for cookie in visit.cookies:
        response.set_cookie(cookie)
    return response
