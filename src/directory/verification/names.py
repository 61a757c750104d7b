"""When a listing's name is the registry's name for its NPI.

Names are compared as sets of words (``directory.listings.names``: case, accents, punctuation,
`&`/and, abbreviations and legal forms normalised; generic words of this field told apart from
distinctive ones).

An organisation's listed name matches a registered name (its legal name, or one of its other
names: doing-business-as, former or other names) when both have distinctive words and they are the
same words: "Aurora Ketamine" matches "AURORA KETAMINE CENTER, LLC", but "Ketamine" and "Center"
(no distinctive word) match nothing, and "Aurora Ketamine Center Discount Pharmacy" (two words the
registry lacks) does not match. A registered name with no distinctive word at all ("KETAMINE
INFUSION CENTER LLC") is matched only by the same words exactly.
"""

from __future__ import annotations

from directory.listings.names import distinctive, words


def organisation_matches(listed: str, registered: str) -> bool:
    """Whether a listing's name is this registered name (see the module's rule)."""
    mine, theirs = words(listed), words(registered)
    if not mine or not theirs:
        return False
    own, their_own = distinctive(mine), distinctive(theirs)
    if not their_own:
        return mine == theirs
    return own == their_own


def person_matches(listed_first: str, listed_last: str, registered_first: str, registered_last: str) -> bool:
    """A clinician's name: the same last name, and the same first name or its initial."""
    if words(listed_last) != words(registered_last) or not words(listed_last):
        return False
    first, theirs = sorted(words(listed_first)), sorted(words(registered_first))
    if not first or not theirs:
        return not first and not theirs
    return first == theirs or (len(first[0]) == 1 and theirs[0].startswith(first[0])) or (len(theirs[0]) == 1 and first[0].startswith(theirs[0]))
