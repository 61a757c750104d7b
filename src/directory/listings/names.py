"""The words of a clinic's name, for comparing names: with the registry's (``verification.names``)
and with other listings' (``duplicates``).

A name is read as a set of words: lower case, accents and punctuation gone, `&` read as "and",
common abbreviations spelled out (St, Ctr, Assoc...), and legal forms and small words dropped
(LLC, Inc, PLLC, PC, PA, Corp, Ltd, LLP, "the", "of", "and"...). The words left are split in two:
**generic** words of this field (ketamine, infusion, center, clinic, wellness, therapy, health,
institute, medical, psychiatry, and the like), which any clinic may use, and **distinctive** words
(the rest: "Aurora", "Harbor", "Smith", "Blue Ridge"), which say whose clinic it is.
"""

from __future__ import annotations

import re
import unicodedata

#: Legal forms and small words that say nothing about whose clinic it is.
IGNORED = frozenset(
    "llc l.l.c pllc inc incorporated corp corporation co company ltd limited lp llp lllp pc pa p.a dba "
    "the of and a an at in for by on to professional association".split()
)
#: Words any clinic of this field may carry in its name.
GENERIC = frozenset(
    """ketamine esketamine spravato infusion infusions iv center centers centre clinic clinics clinical wellness
    therapy therapies therapeutic therapeutics health healthcare institute institutes medical medicine medicines
    care services service group associates partners practice practices treatment treatments mental behavioral
    behavioural psychiatry psychiatric psychiatrists psychology psychological counseling anesthesia anesthesiology
    pain management solutions restore recovery hope renew rejuvenation lounge spa med medspa integrative holistic
    functional family community regional national american united specialists specialty specialists consultants
    network alliance collective hub studio suite office offices md do np crna phd llc physicians physician doctors
    depression anxiety ptsd trauma mood brain mind neuro neurology neuroscience""".split()
)
ABBREVIATIONS = {
    "st": "saint", "mt": "mount", "ft": "fort", "ctr": "center", "cntr": "center", "assoc": "associates", "assocs": "associates",
    "svcs": "services", "svc": "service", "hlth": "health", "med": "medical", "inst": "institute", "grp": "group", "natl": "national",
    "intl": "international", "mgmt": "management", "psych": "psychiatry", "bhvrl": "behavioral",
}  # fmt: skip


def words(name: str) -> frozenset[str]:
    """The name's meaningful words: "Dr. Smith's Ketamine & Wellness, P.L.L.C." -> {dr, smith, ketamine, wellness}."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"['’]s\b", "", text.replace("&", " and "))  # possessives: Smith's -> Smith
    text = re.sub(r"['’]", "", text)  # O'Neil -> ONeil, as the registry writes it
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # P.L.L.C. -> PLLC, M.D. -> MD
    found = []
    for word in re.sub(r"[^a-z0-9]+", " ", text).split():
        word = ABBREVIATIONS.get(word, word)
        if word not in IGNORED:
            found.append(word)
    return frozenset(found)


def distinctive(name_words: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in name_words if word not in GENERIC and word not in ("dr", "doctor"))
