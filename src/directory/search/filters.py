"""The search filters as SQL conditions on rows of the read model's search projection.

Each row is one location of a published listing and carries its listing's filter attributes, so
every filter is a test on the row itself: bit masks, flags, JSON arrays matched as text.
Different kinds of filter are ANDed; the values of one kind are ORed (conditions may ask for all,
accessibility terms always do). Filters with facets are kept apart (``Faceted``) so that each
facet's counts can leave out its own filter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, false, func, literal, not_, or_, select, true

from directory.listings.models import OpeningInterval
from directory.listings.readmodel import ENUM_BITS, clinician_pair, mask, search_location
from directory.search.backends import SearchBackend
from directory.search.query import SearchQuery

S = search_location.c


@lru_cache(maxsize=4096)
def _any_bit(column: ColumnElement[int], bits: int) -> ColumnElement[bool]:
    """The column has one of the bits. Kept per column and mask, like ``serves_state``: building it
    took a twentieth of a located search's time."""
    return column.op("&")(bits) != 0


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    return column.like(f"%{_like_escaped(text)}%", escape="\\")


def _holds(column: ColumnElement[str], values: list[str]) -> ColumnElement[bool]:
    """The JSON array column holds one of the values, in any case (the values come in lower case)."""
    return or_(*(_contains(func.lower(column), json.dumps(value.lower())) for value in values))


def _union(masks: Iterable[int]) -> int:
    total = 0
    for value in masks:
        total |= value
    return total


def word_matches(forms: list[str], conditions: int, services: int) -> list[tuple[ColumnElement[bool], int]]:
    """Where a free-text word matches, with the weight relevance gives each place, best first: the
    name (6 as typed, 4 as a spelling it is near), a condition or service whose names mention it
    (3), anywhere else: the description, clinicians, accessibility (2 as typed, 1 as near)."""
    word, near = forms[0], forms[1:]
    places = [(_contains(S.name_key, word), 6)]
    if near:
        places.append((or_(*(_contains(S.name_key, form) for form in near)), 4))
    if conditions or services:
        places.append((or_(_any_bit(S.conditions, conditions), _any_bit(S.services, services)), 3))
    places.append((_contains(S.words, word), 2))
    if near:
        places.append((or_(*(_contains(S.words, form) for form in near)), 1))
    return places


def relevance(query: SearchQuery, bits: dict[str, dict[str, int]]) -> ColumnElement[int]:
    """Sum over the words of the best place each one matched."""
    score: ColumnElement[int] = literal(0)
    for forms, codes in zip(query.word_forms, query.word_codes, strict=True):
        score = score + case(*word_matches(forms, *_word_masks(codes, bits)), else_=0)
    return score


def text_filters(query: SearchQuery, contains: Callable[[str], ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """Each word of q, as typed or as a spelling it is near, is in the row's words (folded)."""
    return [or_(*(contains(form) for form in forms)) for forms in query.word_forms]


def words_contain(text: str) -> ColumnElement[bool]:
    return _contains(S.words, text)


def _word_masks(codes: tuple[list[str], list[str]], bits: dict[str, dict[str, int]]) -> tuple[int, int]:
    return mask(bits["conditions"], codes[0]), mask(bits["services"], codes[1])


@dataclass(frozen=True)
class Faceted:
    """A filter whose values have facet counts. ``families``: the facets it narrows (the clinician
    pair narrows both credential and specialty). Disjunctive (the default): a value's count is what
    ticking it would give, so the counts of its own facet leave it out. ``location``: a test on the
    location rather than the listing (every row is tested either way)."""

    families: frozenset[str]
    predicate: ColumnElement[bool]
    location: bool = False
    disjunctive: bool = True


def listing_filters(query: SearchQuery, bits: dict[str, dict[str, int]]) -> list[ColumnElement[bool]]:
    """Filters on the listing's attributes that have no facet."""
    where: list[ColumnElement[bool]] = []
    if query.routes:
        where.append(_any_bit(S.routes, mask(ENUM_BITS["routes"], query.routes)))
    if query.verified is not None:
        # Verified means verified and not stale: checked within the window, as of the search's moment.
        current = and_(S.verified == true(), S.verified_at.is_not(None), S.verified_at >= query.stale_before)
        where.append(current if query.verified else not_(current))
    if query.confirmed_within_days is not None:
        where.append(S.confirmed_at >= query.confirmed_since())
    return where


def faceted_filters(query: SearchQuery, bits: dict[str, dict[str, int]]) -> list[Faceted]:
    """The filters that have facets, each with the facets it narrows."""
    found: list[Faceted] = []

    def add(family: str, predicate: ColumnElement[bool], **options: bool) -> None:
        found.append(Faceted(frozenset([family]), predicate, **options))

    # A broad term matches a listing of any entry below it: each term is the mask of its group.
    if query.condition_groups:
        groups = [mask(bits["conditions"], group) for group in query.condition_groups]
        if query.condition_match == "all":
            for group in groups:  # all of them: ticking one more narrows, so the counts keep them
                add("condition", _any_bit(S.conditions, group), disjunctive=False)
        else:
            add("condition", _any_bit(S.conditions, _union(groups)))
    if query.service_groups:
        add("service", _any_bit(S.services, _union(mask(bits["services"], group) for group in query.service_groups)))
    for values, column, kind, family in (
        (query.payment, S.payment, "payment", "payment"),
        (query.credentials, S.credentials, "credentials", "credential"),
        (query.specialties, S.specialties, "specialties", "specialty"),
    ):
        if values:
            add(family, _any_bit(column, mask(ENUM_BITS[kind], values)))
    if query.credentials and query.specialties:
        # Together they describe one clinician: an MD who is an anesthesiologist, not an MD and another's specialty.
        pairs = [clinician_pair(c, s) for c in query.credentials for s in query.specialties]
        found.append(Faceted(frozenset(["credential", "specialty"]), or_(*(_contains(S.clinicians, json.dumps(pair)) for pair in pairs))))
    if query.telehealth is not None:
        add("telehealth", S.telehealth == query.telehealth)
    if query.accepting_new_patients is not None:
        add("accepting_new_patients", S.accepting == query.accepting_new_patients)
    if query.insurance:
        add("insurance", _holds(S.insurance, query.insurance))
    if query.languages:
        add("language", _holds(S.languages, query.languages))
    if query.max_price is not None:
        add("price", S.price_min <= query.max_price)
    if query.accessibility:
        wanted = mask(ENUM_BITS["accessibility"], query.accessibility)
        add("accessibility", S.access.op("&")(wanted) == wanted, location=True, disjunctive=False)  # all of them
    if query.rems_certified is not None:
        add("rems_certified", S.rems == query.rems_certified, location=True)
    return found


def open_at(moment: datetime, zones: list[str]) -> ColumnElement[bool]:
    """The location is open at this moment in its own time zone (hours are local times)."""
    per_zone = []
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone))
        minute = local.hour * 60 + local.minute
        per_zone.append(
            and_(
                S.timezone == zone,
                select(1)
                .where(
                    OpeningInterval.location_id == S.location_id,
                    OpeningInterval.day == local.weekday(),
                    OpeningInterval.opens <= minute,
                    OpeningInterval.closes > minute,
                )
                .exists(),
            )
        )
    return or_(*per_zone) if per_zone else false()


def location_filters(query: SearchQuery, backend: SearchBackend, zones: list[str]) -> list[ColumnElement[bool]]:
    """Conditions on the location itself that have no facet (the radius is handled apart, exactly)."""
    where: list[ColumnElement[bool]] = []
    if query.box is not None:
        where.append(backend.inside(query.box))
    if query.open_at is not None:
        where.append(open_at(query.open_at, zones))
    return where


@lru_cache(maxsize=128)
def serves_state(state: str) -> ColumnElement[bool]:
    """The listing offers telehealth licensed for this state. Kept per state: an expression is
    immutable, and building it took a twentieth of a located search's time."""
    return _holds(S.telehealth_states, [state.lower()])
