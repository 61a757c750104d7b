"""The translations of the directory's words, from the gettext catalogs under version control.

English is the text of the source itself (templates, Python, the pages' scripts); each other
language has ``locale/<language>/LC_MESSAGES/messages.po``, extracted with Babel (``make messages``)
and translated by people, never by a machine at run time. The ``.po`` is read and compiled in
memory when first asked for, so no compiled file is kept beside it; a fuzzy (unchecked) translation
is not used.
"""

from __future__ import annotations

import json
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from directory.i18n import DEFAULT

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(language: str) -> Catalog | None:
    """The language's catalog as written, or None for English (the source's own words)."""
    if language == DEFAULT:
        return None
    with catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """gettext for the language: ``gettext``, ``ngettext`` (English passes through)."""
    found = catalog(language)
    if found is None:
        return NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, found, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


@cache
def script_messages(language: str) -> str:
    """The translations the pages' scripts use, as JSON for the page to carry: each English text
    with its translation, or with its singular and plural translations (keyed by the singular)."""
    found = catalog(language)
    words: dict[str, str | list[str]] = {}
    for message in found or ():
        if not message.id or message.fuzzy or not any(path.endswith(".js") for path, _ in message.locations):
            continue
        if isinstance(message.id, tuple):
            forms = [form for form in message.string if form]
            if len(forms) == len(message.string):
                words[message.id[0]] = forms
        elif message.string:
            words[message.id] = message.string
    # "</" must not end the page's script element early.
    return json.dumps(words, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def page_templates(folder: Path, language: str) -> Environment:
    """The HTML templates of a folder in a language: escaped, every value required, ``_()`` and
    ``ngettext`` from the language's catalog (English passes through)."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env
