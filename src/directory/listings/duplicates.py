"""Possible duplicates: pairs of listings that may be one clinic.

A pair is a candidate when the two listings share

- an organisation **NPI** (one NPI is one organisation);
- a **phone** number (E.164; the listing's own or a location's);
- a website's **registered domain** (``www.aurora-ketamine.com/denver`` and
  ``aurora-ketamine.com`` share ``aurora-ketamine.com``; sites on shared hosts such as
  ``wixsite.com`` are told apart by their own host name);
- or a **location within 50 m** under a **similar name** (the same distinctive words, mostly: see
  ``similar_names``). Only coordinates placed at an address or given exactly say where a clinic is:
  two locations placed at a ZIP code's or a city's centre are the same place only when their street
  address and ZIP code are the same too (``same_place``).

Each reason adds to the pair's score (``1 - Π(1 - weight)``): an NPI weighs most, a website least.
A phone number or domain shared by more than ``CROWD`` listings is a chain's or a call centre's: it
makes no pairs. Closed and merged listings are left out.

Pairs are found as listings change (``duplicate_check.note``, a follower of the recorder, in the
same transaction: the creator of a listing hears of them in the answer) and over the whole directory by ``scan``
(``duplicate_scan``, ``directory duplicates``). Moderators dismiss a pair or merge it (``moderation.duplicates``).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from sqlalchemy import Column, ForeignKey, UniqueConstraint, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from directory.columns import JSONValue, UTCDateTime, empty_list, new_id, utcnow
from directory.listings.models import Provider, ProviderStatus
from directory.listings.names import distinctive, words
from directory.listings.schemas import PossibleDuplicate

#: What each reason adds to a pair's score.
WEIGHTS = {"npi": 0.9, "phone": 0.6, "website": 0.4, "nearby": 0.7}
NEARBY_M = 50.0
#: A phone or domain shared by more listings than this belongs to a chain or a call centre.
CROWD = 25
#: Hosts whose sites belong to many unrelated owners: the site's own host name is its domain.
SHARED_HOSTS = frozenset(
    "wixsite.com squarespace.com business.site godaddysites.com wordpress.com weebly.com square.site webflow.io "
    "carrd.co github.io netlify.app vercel.app myshopify.com site123.me jimdosite.com".split()
)
#: Hosts that are not the clinic's own site at all (a profile page): no domain.
PROFILE_HOSTS = frozenset(
    "facebook.com instagram.com linkedin.com twitter.com x.com yelp.com google.com goo.gl linktr.ee "
    "psychologytoday.com zocdoc.com healthgrades.com".split()
)
#: Second-level labels under which a country's registrations sit (example.co.uk).
_SECOND_LEVEL = frozenset("co com net org gov edu ac".split())
LEFT_OUT = (ProviderStatus.closed.value, ProviderStatus.merged.value)
POSSIBLE = "possible_duplicates"
"""The session-info key where the pairs found for each listing in this transaction are left."""


class DuplicateCandidate(SQLModel, table=True):
    """Two listings that may be one clinic; ``first_id`` sorts before ``second_id``."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("first_id", "second_id", name="uq_duplicate_pair"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    first_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    second_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True))
    reasons: list[dict[str, str]] = Field(default_factory=empty_list, sa_type=JSONValue)
    """``[{"reason": "npi", "detail": "both list NPI 1234567893"}, ...]``"""
    score: float
    status: str = Field(default="open", max_length=20, index=True)
    """open, dismissed (not the same clinic) or merged."""
    found_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=1000)


# --- the rules --------------------------------------------------------------------------------


def site_domain(url: str | None) -> str | None:
    """The registered domain of a website, for comparing sites; None for none or a profile page."""
    if not url:
        return None
    host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower().rstrip(".")
    host = host.removeprefix("www.")
    labels = host.split(".")
    if len(labels) < 2:
        return None
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    registered = ".".join(labels[-keep:])
    if registered in PROFILE_HOSTS:
        return None
    if registered in SHARED_HOSTS:
        return host
    return registered


def similar_names(first: str, second: str) -> bool:
    """Two names a person would take for one clinic's: the same distinctive words, or one's within
    the other's, or a typo apart (ratio ≥ 0.85, numbers alike); names with no distinctive word must be the same words."""
    a, b = words(first), words(second)
    own_a, own_b = distinctive(a), distinctive(b)
    if not own_a or not own_b:
        return bool(a) and a == b
    if _numbers(own_a) != _numbers(own_b):  # "Clinic 2" is not a typo of "Clinic 3"
        return False
    if own_a <= own_b or own_b <= own_a:
        return True
    return SequenceMatcher(None, " ".join(sorted(own_a)), " ".join(sorted(own_b))).ratio() >= 0.85


def _numbers(name_words: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in name_words if any(char.isdigit() for char in word))


#: Coordinate precisions that place a location at its own spot (not a ZIP code's or city's centre).
PRECISE = frozenset({"exact", "address"})


def place_key(line1: str | None, postal_code: str | None) -> str:
    """A street address and ZIP code compared loosely ("20 Market St." is "20 market st 12601"); "" without a street."""
    if not line1:
        return ""
    words = [_STREET_WORDS.get(word, word) for word in re.sub(r"[^a-z0-9]+", " ", line1.lower()).split()]
    return " ".join(words) + " " + (postal_code or "")[:5]


#: The USPS abbreviations of the commonest street words, so that "Main Street" is "Main St".
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln", "court": "ct",
    "place": "pl", "parkway": "pkwy", "highway": "hwy", "suite": "ste", "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip


def same_place(precise_a: bool, key_a: str, precise_b: bool, key_b: str) -> bool:
    """Two locations within 50 m are one place when both were placed precisely, or share a street address."""
    return (precise_a and precise_b) or (bool(key_a) and key_a == key_b)


def score(reasons: Iterable[dict[str, str]]) -> float:
    remaining = 1.0
    for reason in reasons:
        remaining *= 1 - WEIGHTS[reason["reason"]]
    return round(1 - remaining, 3)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance: within 0.5% at 50 m, which is all a neighbour test needs."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


# --- what a listing's creator is told -----------------------------------------------------------


async def possible_duplicates(session: AsyncSession, provider_id: uuid.UUID) -> list[PossibleDuplicate]:
    """The published listings found to pair with this one in the transaction just committed."""
    return await describe_duplicates(session, session.sync_session.info.pop(POSSIBLE, {}).get(provider_id, []))


async def describe_duplicates(session: AsyncSession, pairs: list[tuple[uuid.UUID, list[dict[str, str]]]]) -> list[PossibleDuplicate]:
    """Pairs found for a listing (other id, reasons), as its creator may see them: published ones only."""
    found = dict(pairs)
    if not found:
        return []
    rows = await session.execute(select(Provider.id, Provider.slug, Provider.name).where(Provider.id.in_(found), Provider.status == ProviderStatus.published.value))
    return sorted(
        (PossibleDuplicate(id=key, slug=slug, name=name, reasons=[r["reason"] for r in found[key]], score=score(found[key])) for key, slug, name in rows),
        key=lambda d: (-d.score, d.name),
    )
