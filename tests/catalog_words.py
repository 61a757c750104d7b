"""The English words of the catalog, for the tests that check a Spanish page shows none of them."""

from __future__ import annotations

import re
from functools import cache

from babel.messages.pofile import read_po

from directory.i18n.catalogs import catalog_path


@cache
def english_phrases() -> tuple[str, ...]:
    """The English of every message whose Spanish differs, as the phrases a page would show: the
    text between placeholders and tags, two words or more (a single word may be a clinic's name)."""
    with catalog_path("es").open("rb") as handle:
        messages = [m for m in read_po(handle, locale="es") if m.id]
    phrases = set()
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if set(ids) & set(strings):
            continue
        for english in ids:
            for piece in re.split(r"\{\w+\}|%\(\w+\)s|<[^>]+>", english):
                piece = piece.strip(" .,:;()–·\"")
                if len(piece.split()) >= 2:
                    phrases.add(piece)
    return tuple(sorted(phrases))
