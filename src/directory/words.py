"""Words as free-text search compares them: folded (lower case, accents off: "Sérénité" is
"serenite", "Núñez" is "nunez"), split on anything that is not a letter or digit; and the nearest
spellings of a word among known terms (one or two letters apart: "depresion", "ptds", "spravto").

Both sides of every comparison are folded here, before the database sees them, so that SQLite and
PostgreSQL compare the same strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPLIT = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case with the accents taken off (and the few letters that are not a letter plus an accent)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.translate(_LETTERS)


_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def tokens(text: str) -> list[str]:
    """The folded words of a text, in order (repeats kept)."""
    return [word for word in _SPLIT.split(fold(text)) if word]


def typo_allowance(word: str) -> int:
    """How many letters a word may be off and still mean a known term: none under 4 letters, one up to
    7, two from 8."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Edits between two words (insert, delete, substitute, swap two neighbours), or ``limit + 1``
    as soon as it is certain to be more than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _grams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class Lexicon:
    """Known terms, and for a word the terms it is probably a misspelling of."""

    MAX_SUGGESTIONS = 3

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = {term for term in terms if len(term) >= 3}
        self._by_gram: dict[str, set[str]] = {}
        for term in self.terms:
            for gram in _grams(term):
                self._by_gram.setdefault(gram, set()).add(term)

    def knows(self, word: str) -> bool:
        """The word is a term, or the start of one (a prefix is not a typo)."""
        if word in self.terms:
            return True
        padded = f"  {word}"
        grams = [padded[i : i + 3] for i in range(len(padded) - 2)]  # no closing gram: a prefix goes on
        candidates = set.intersection(*(self._by_gram.get(g, set()) for g in grams))
        return any(term.startswith(word) for term in candidates)

    def corrections(self, word: str) -> list[str]:
        """The nearest known terms a word is a misspelling of (none when the word is known)."""
        allowed = typo_allowance(word)
        if not allowed or self.knows(word):
            return []
        grams = _grams(word)
        shared: dict[str, int] = {}
        for gram in grams:
            for term in self._by_gram.get(gram, ()):
                shared[term] = shared.get(term, 0) + 1
        # An edit spoils at most three of the word's letter triples, a swap of neighbours four.
        needed = max(1, len(grams) - 4 * allowed)
        found = sorted(
            (d, term) for term, count in shared.items() if count >= needed and (d := distance(word, term, allowed)) <= allowed
        )
        return [term for _, term in found[: self.MAX_SUGGESTIONS]]
