"""The languages the directory speaks, and which one a request wants.

English is the directory's own language; every other language is a translation of it. A request
names its language by a ``lang`` parameter (which wins) or by ``Accept-Language`` (RFC 9110: the
best-weighted language we speak, English when none). An answer in words says which language it is
in (``Content-Language``) and that it depends on the header (``Vary: Accept-Language``).
"""

from __future__ import annotations


def N_(text: str) -> str:
    """A word for the catalog, translated where it is shown."""
    return text


#: Each language's code and its name in itself (for the switch between them).
LANGUAGES = {"en": "English", "es": "Español"}
#: Each language's name in English, said in the reader's language where it is shown ("Description
#: in Spanish" is "Descripción en español").
NAMES = {"en": N_("English"), "es": N_("Spanish")}
DEFAULT = "en"
#: The languages that translate English: pages under /{code}/, a listing's own words besides English.
OTHERS = tuple(code for code in LANGUAGES if code != DEFAULT)


def prefix(language: str) -> str:
    """What a language's addresses begin with: nothing for English, ``/es`` for Spanish."""
    return "" if language == DEFAULT else f"/{language}"


def from_header(header: str | None) -> str:
    """The language of ``Accept-Language`` we speak best, by weight then order; English when none."""
    best, best_weight = DEFAULT, 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary == "*":
            primary = DEFAULT
        # A later tag wins only by a higher weight: the header lists what it prefers first.
        if primary in LANGUAGES and 0 < weight <= 1 and weight > best_weight:
            best, best_weight = primary, weight
    return best


def choose(lang: str | None, header: str | None) -> str:
    """The language of an answer: ``lang`` when it is one we speak (routes that take it check it),
    else the header's."""
    code = (lang or "").strip().lower()
    return code if code in LANGUAGES else from_header(header)


def headers(language: str) -> dict[str, str]:
    """What an answer in words says about its language."""
    return {"Content-Language": language, "Vary": "Accept-Language"}
