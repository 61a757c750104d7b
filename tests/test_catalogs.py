"""The message catalogs: every word of the pages and their scripts has a checked Spanish translation,
the template is what the sources say now, and a translation keeps its placeholders and markup.

The sources are extracted here with Babel, as `make messages` does: a string added to a page or a
script without its translation fails here, as does a fuzzy (changed, unchecked) one.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from directory import i18n
from directory.i18n.catalogs import LOCALE_DIR, catalog_path

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "t": None, "tn": (1, 2)}
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _path, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(handle) if m.id}


def test_the_template_holds_exactly_the_words_of_the_sources():
    extracted = _extracted()
    assert len(extracted) > 250  # the pages, their scripts and the Python code that speaks
    template = _ids(LOCALE_DIR / "messages.pot")
    assert sorted(extracted - template) == [], "new words: run make messages"
    assert sorted(template - extracted) == [], "words no longer used: run make messages"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_has_a_checked_translation(language):
    with catalog_path(language).open("rb") as handle:
        messages = [m for m in read_po(handle, locale=language) if m.id]
    by_id = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in messages}
    missing = sorted(_extracted() - set(by_id))
    assert missing == [], f"not in the {language} catalog: run make messages, then translate"
    untranslated = [m.id for m in messages if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert [m.id for m in messages if m.fuzzy] == [], "fuzzy translations are not used: check them and remove the flag"


PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")
MARKUP = re.compile(r"</?(?:a|code|strong|em|br)\b[^>]*>")  # HTML tags, not "+<country><number>"


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_the_placeholders_and_the_markup(language):
    with catalog_path(language).open("rb") as handle:
        messages = [m for m in read_po(handle, locale=language) if m.id]
    wrong = []
    for message in messages:
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        spoken = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = Counter(PLACEHOLDER.findall(english[-1])) | Counter(PLACEHOLDER.findall(english[0]))
        for text in spoken:
            placeholders = Counter(PLACEHOLDER.findall(text))
            # A singular may leave out the count ("un proveedor"); every other placeholder stays.
            if {k for k in placeholders if k != "{count}"} != {k for k in wanted if k != "{count}"}:
                wrong.append((english[0], text))
            if sorted(MARKUP.findall(text)) != sorted(MARKUP.findall(english[0])):
                wrong.append((english[0], text))
    assert wrong == []
