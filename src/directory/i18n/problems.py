"""Problem documents in the caller's language (``Accept-Language``): the title, the detail and each
field's reason, from the same gettext catalog as the pages.

A problem's words are written in English where the error is raised, often with a value in them
("at most 500 mi"). The messages below are those words with each value as a ``{placeholder}``: a
text that is exactly one of them, or one with values where the placeholders stand, is translated
and the values put back. A text that is none of them stays in English, and so does the answer's
``Content-Language`` unless everything in it was translated.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from directory.i18n import DEFAULT
from directory.i18n.catalogs import catalog, translations


def _(text: str) -> str:
    """Marks a problem's English words for the catalog (``make messages`` extracts them)."""
    return text


MESSAGES = [
    # The titles of the problem types.
    _("Invalid parameter"), _("Invalid input"), _("Authentication required"), _("Not allowed"), _("Not found"),
    _("Not acceptable"), _("Conflict"), _("Precondition failed"), _("Precondition required"), _("Unsupported media type"),
    _("Service unavailable"), _("Too many requests"), _("Internal error"), _("Bad request"), _("Method not allowed"),
    _("Request too large"), _("Error"),
    # Details and reasons of every request.
    _("the request body is invalid"),
    _("Field required"),
    _("String should have at most {count} characters"),
    _("String should have at least {count} characters"),
    _("Input should be {values}"),
    _("Invalid enum value {value}"),
    _("Expected `int` >= {value}"),
    _("Expected `int` <= {value}"),
    _("Expected `float` >= {value}"),
    _("Expected `float` <= {value}"),
    _("expected an email address such as intake@example.com"),
    _("expected a phone number: 10 US digits such as (212) 555-0100, or +<country><number>"),
    _("the server failed to answer; the error was logged"),
    _("the database is unavailable; try again shortly"),
    _("another change to the same listings was written at the same moment; nothing of this one was written: send it again"),
    # Search.
    _("no place called {place} is known; try a 5-digit ZIP code or 'City, ST' such as 'Austin, TX'"),
    _("nothing to search for in q: give a word or a name, e.g. spravato"),
    _("at most {count} characters"),
    _("at most {radius} mi"),
    _("at most {radius} km"),
    _("unknown condition {term}; see GET /v1/conditions for codes and synonyms"),
    _("unknown service {term}; see GET /v1/services for codes and synonyms"),
    _("give one place only, not {places}"),
    _("lat and lon go together"),
    _("a radius needs a place: lat and lon, or near"),
    _("this cursor belongs to another search; start again without it"),
    # A consultation request and a report, from a listing's page or the finder.
    _("give a phone number or an email address, so that the clinic can reach you"),
    _("give a phone number to be contacted by phone"),
    _("give an email address to be contacted by email"),
    _("tick the box to agree that the request is shared with the clinic"),
    _("this form token belongs to another listing's form"),
    _("sent within {seconds} seconds of the form being shown; check the form and send it again"),
    _("the form is more than a day old: reload the page and send it again"),
    _("too many consultation requests; try again later, or call the clinic"),
    _("listing {listing} does not take consultation requests: call its phone number or visit its website"),
    _("no such request: it was withdrawn or deleted already, or the link is not complete"),
    _("say what is wrong in details"),
    _("too many reports from this address in the last hour; try again later"),
    _("no published listing {listing}"),
    # Accounts, listings and their parts: what clinic staff meet in the portal and the API.
    _("use at least {count} characters"),
    _("use at most {count} characters"),
    _("use more than three different characters"),
    _("this password is too easy to guess: it is your email"),
    _("this password is too easy to guess ({warning}); a few unrelated words make a strong one"),
    # The {warning} above: zxcvbn's warnings, as the password policy puts them (lower case, no full stop).
    _("it follows a common pattern"),
    _("straight rows of keys are easy to guess"),
    _("short keyboard patterns are easy to guess"),
    _('repeats like "aaa" are easy to guess'),
    _('repeats like "abcabcabc" are only slightly harder to guess than "abc"'),
    _('sequences like "abc" or "6543" are easy to guess'),
    _("recent years are easy to guess"),
    _("dates are often easy to guess"),
    _("this is a top-10 common password"),
    _("this is a top-100 common password"),
    _("this is a very common password"),
    _("this is similar to a commonly used password"),
    _("a word by itself is easy to guess"),
    _("names and surnames by themselves are easy to guess"),
    _("common names and surnames are easy to guess"),
    _("this link is not valid; ask for a new one"),
    _("this link was already used or replaced by a newer one; ask for a new one"),
    _("this link has expired; ask for a new one"),
    _("this link is not valid any more (it lasts an hour and works once); ask for a new one"),
    _("this is not your current password"),
    _("this is not your password"),
    _("this is already your address"),
    _("another account uses this address"),
    _("this person already manages the listing"),
    _("telehealth_states needs telehealth: true"),
    _("a suspended listing can only be restored by a moderator"),
    _("could not place the address {address}; check it or give latitude and longitude"),
    _("opening hours need a time zone and none could be inferred"),
    _("an NPI is exactly 10 digits"),
    _("not a valid NPI: the check digit does not match (Luhn with prefix 80840)"),
    _("expected a two-letter US state or territory code such as NY or HI"),
    _("expected a US ZIP code: 5 digits or ZIP+4 (12345 or 12345-6789)"),
    _("a +1 number has 10 digits after the country code"),
    _("expected an absolute http:// or https:// URL"),
    _("expected a whole number"),
    _("expected a whole number, not true or false"),
    _("price_min must not exceed price_max"),
    _("min must not exceed max"),
    _("line {number}: write the state, the number and, if you like, the expiry date (NY 123456 2027-06-30)"),
]  # fmt: skip


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """Each message with placeholders as a pattern matching its texts."""
    found = []
    for message in MESSAGES:
        if "{" not in message:
            continue
        parts = re.split(r"\{(\w+)\}", message)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        found.append((re.compile(f"^{regex}$", re.S), message))
    return found


def translate(text: str, language: str) -> str | None:
    """The text in the language, or None when it is none of the messages."""
    if language == DEFAULT:
        return text
    words = translations(language)
    if text in MESSAGES:
        said = words.gettext(text)
        return said if said != text or _same_in(language, text) else None
    for pattern, message in _patterns():
        if (match := pattern.match(text)) is not None:
            said = words.gettext(message)
            if said == message and not _same_in(language, message):
                return None
            # A value that is itself one of the messages (a password's weakness) is said in the language too.
            values = {name: translate(value, language) or value if value in MESSAGES else value for name, value in match.groupdict().items()}
            return said.format(**values)
    return None


def _same_in(language: str, message: str) -> bool:
    """A message the catalog translates as itself ("API")."""
    found = catalog(language)
    entry = found.get(message) if found is not None else None
    return entry is not None and entry.string == message


def localize(body: dict[str, Any], language: str) -> bool:
    """A problem document's words in the language, in place: whether every one of them was."""
    if language == DEFAULT:
        return True
    whole = True
    for key in ("title", "detail"):
        if isinstance(body.get(key), str):
            said = translate(body[key], language) if key == "title" else _detail(body[key], language)
            whole = whole and said is not None
            body[key] = said or body[key]
    for error in body.get("errors") or []:
        said = translate(error["reason"], language)
        whole = whole and said is not None
        error["reason"] = said or error["reason"]
    return whole


#: Where one field's part of a detail ends and the next begins ("; radius: ..."), a reason's own
#: "; see ..." kept whole.
_FIELDS = re.compile(r"; (?=[\w.\-]+: )")


def _detail(text: str, language: str) -> str | None:
    """A detail: one message, or ``field: reason`` parts joined by "; " (each reason translated)."""
    if (said := translate(text, language)) is not None:
        return said
    parts = []
    for part in _FIELDS.split(text):
        field, colon, reason = part.partition(": ")
        said = translate(reason, language) if colon else None
        if said is None:
            return None
        parts.append(f"{field}: {said}")
    return "; ".join(parts)
