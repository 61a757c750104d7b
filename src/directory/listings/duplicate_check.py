"""Possible duplicates found as listings change: a follower of the recorder (the rules: ``duplicates``).

The recorder hands over the listings a transaction touched, up to ``RECORD_BATCH`` at a time (one
for an API write, hundreds for an import). Each rule asks the database once for all of them, not
once per listing: the NPIs, the phone numbers and the domains as one ``IN`` each, the places as one
join of their boxes with the locations, the pairs already kept as one read. What a listing is
paired with is the same as when each listing was checked on its own.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, func, literal_column, or_, select, union_all, update
from sqlalchemy.orm import Session

from directory.columns import new_id, utcnow
from directory.database import insert_or_skip
from directory.listings.duplicates import (
    CROWD,
    LEFT_OUT,
    NEARBY_M,
    POSSIBLE,
    PRECISE,
    DuplicateCandidate,
    metres,
    pair,
    place_key,
    same_place,
    score,
    similar_names,
    site_domain,
)
from directory.listings.models import Location, Provider

#: About 50 m of latitude in degrees, with room.
_LAT_STEP = 0.00046
#: Values in one ``IN`` (SQLite takes at most 32,766 parameters in a statement).
_CHUNK = 900
#: Places in one join of boxes (four parameters each).
_PLACES = 250

Reasons = dict[uuid.UUID, list[dict[str, str]]]
#: Not closed or merged, the statuses written into the statement. As parameters, PostgreSQL's
#: generic plan (a prepared statement's, from its sixth run) took them for a filter that keeps one
#: listing in the whole table, and joined every location to each box: 0.5 s instead of 0.2 ms.
_OPEN = Provider.status.not_in([literal_column(f"'{status}'") for status in LEFT_OUT])


@dataclass
class _Listing:
    id: uuid.UUID
    name: str
    npi: str | None
    phones: set[str] = field(default_factory=set)
    domain: str | None = None
    points: list[tuple[float, float, bool, str]] = field(default_factory=list)
    """(latitude, longitude, placed precisely, street address key) of each location."""
    left_out: bool = False


def note(session: Session, provider_ids: set[uuid.UUID], loaded: Mapping[uuid.UUID, Provider]) -> None:
    """Follower of the recorder: find the candidates of these listings and keep them in
    ``duplicate_candidate``; each listing's list is left in ``session.info[POSSIBLE]``."""
    found: dict[uuid.UUID, list[tuple[uuid.UUID, list[dict[str, str]]]]] = session.info.setdefault(POSSIBLE, {})
    listings = [_in_hand(loaded[key]) for key in sorted(provider_ids) if key in loaded]
    listings += _read(session, sorted(key for key in provider_ids if key not in loaded))
    checked = [listing for listing in listings if not listing.left_out]
    matches: dict[uuid.UUID, Reasons] = {listing.id: defaultdict(list) for listing in checked}
    _by_npi(session, checked, matches)
    _by_phone(session, checked, matches)
    _by_domain(session, checked, matches)
    _by_place(session, checked, matches)
    wanted = {listing.id: dict(matches.get(listing.id, {})) for listing in listings}
    _keep(session, wanted)
    for provider_id, reasons in wanted.items():
        found[provider_id] = sorted(reasons.items(), key=lambda item: -score(item[1]))


def _in_hand(provider: Provider) -> _Listing:
    """A listing loaded whole by the change itself: nothing to read again."""
    domain = site_domain(provider.website)
    if domain != provider.site_domain:
        provider.site_domain = domain  # flushed with the rest of the change
    listing = _Listing(provider.id, provider.name, provider.npi, {provider.phone} if provider.phone else set(), domain)
    listing.left_out = provider.status in LEFT_OUT
    for location in provider.locations:
        listing.points.append((location.latitude, location.longitude, location.coordinate_precision in PRECISE, place_key(location.address_line1, location.postal_code)))
        if location.phone:
            listing.phones.add(location.phone)
    return listing


def _read(session: Session, ids: list[uuid.UUID]) -> list[_Listing]:
    listings: dict[uuid.UUID, _Listing] = {}
    for chunk in _chunks(ids):
        rows = session.execute(select(Provider.id, Provider.name, Provider.npi, Provider.phone, Provider.website, Provider.site_domain, Provider.status).where(Provider.id.in_(chunk))).all()
        for row in rows:
            domain = site_domain(row.website)
            if domain != row.site_domain:
                session.execute(update(Provider).where(Provider.id == row.id).values(site_domain=domain).execution_options(synchronize_session=False))
            listings[row.id] = _Listing(row.id, row.name, row.npi, {row.phone} if row.phone else set(), domain, left_out=row.status in LEFT_OUT)
        located = select(Location.provider_id, Location.latitude, Location.longitude, Location.phone, Location.coordinate_precision, Location.address_line1, Location.postal_code)
        for provider_id, lat, lon, phone, precision, line1, postal in session.execute(located.where(Location.provider_id.in_(chunk))):
            listings[provider_id].points.append((lat, lon, precision in PRECISE, place_key(line1, postal)))
            if phone:
                listings[provider_id].phones.add(phone)
    return list(listings.values())


def _chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _by_npi(session: Session, listings: list[_Listing], matches: dict[uuid.UUID, Reasons]) -> None:
    holders: dict[str, list[uuid.UUID]] = defaultdict(list)
    for chunk in _chunks({listing.npi for listing in listings if listing.npi}):
        for other, npi in session.execute(select(Provider.id, Provider.npi).where(_OPEN, Provider.npi.in_(chunk))):
            holders[npi].append(other)
    for listing in listings:
        for other in holders.get(listing.npi or "", ()):
            if other != listing.id:
                matches[listing.id][other].append({"reason": "npi", "detail": f"both list NPI {listing.npi}"})


def _shared(session: Session, sharing: Any, limit: int) -> dict[str, list[uuid.UUID]]:
    """(id, value) rows of ``sharing``, grouped by value, at most ``limit`` per value."""
    ranked = select(sharing.c.id, sharing.c.value, func.row_number().over(partition_by=sharing.c.value, order_by=sharing.c.id).label("n")).subquery()
    holders: dict[str, list[uuid.UUID]] = defaultdict(list)
    for other, value in session.execute(select(ranked.c.id, ranked.c.value).where(ranked.c.n <= limit)):
        holders[value].append(other)
    return holders


def _by_phone(session: Session, listings: list[_Listing], matches: dict[uuid.UUID, Reasons]) -> None:
    """A phone number shared with at most ``CROWD`` other listings (their own or a location's)."""
    holders: dict[str, list[uuid.UUID]] = defaultdict(list)
    for chunk in _chunks({phone for listing in listings for phone in listing.phones}):
        sharing = union_all(
            select(Provider.id.label("id"), Provider.phone.label("value")).where(_OPEN, Provider.phone.in_(chunk)),
            select(Location.provider_id, Location.phone).join(Provider, Provider.id == Location.provider_id).where(_OPEN, Location.phone.in_(chunk)),
        ).subquery()
        for phone, others in _shared(session, sharing, CROWD * 4 + 2).items():
            holders[phone].extend(others)
    for listing in listings:
        shared = {other: phone for phone in sorted(listing.phones) for other in holders.get(phone, ()) if other != listing.id}
        if len(shared) <= CROWD:
            for other, phone in shared.items():
                matches[listing.id][other].append({"reason": "phone", "detail": f"both list the phone number {phone}"})


def _by_domain(session: Session, listings: list[_Listing], matches: dict[uuid.UUID, Reasons]) -> None:
    """A website's domain shared with at most ``CROWD`` other listings."""
    holders: dict[str, list[uuid.UUID]] = defaultdict(list)
    for chunk in _chunks({listing.domain for listing in listings if listing.domain}):
        sharing = select(Provider.id.label("id"), Provider.site_domain.label("value")).where(_OPEN, Provider.site_domain.in_(chunk)).subquery()
        for domain, others in _shared(session, sharing, CROWD + 2).items():
            holders[domain].extend(others)
    for listing in listings:
        same_site = [other for other in holders.get(listing.domain or "", ()) if other != listing.id]
        if len(same_site) <= CROWD:
            for other in same_site:
                matches[listing.id][other].append({"reason": "website", "detail": f"both have a website on {listing.domain}"})


def _by_place(session: Session, listings: list[_Listing], matches: dict[uuid.UUID, Reasons]) -> None:
    """A location within ``NEARBY_M`` of one of the listing's, at the same place, under a similar name.

    Every location's box (about 50 m each way) goes into one statement, the boxes OR-ed, each found
    through the (latitude, longitude) index; the rows are matched back to the boxes that hold them.
    The boxes' corners are bound parameters, so the statement's compiled form is kept for each
    number of boxes (a list of values would be compiled anew for every change)."""
    places = [(listing, point) for listing in listings for point in listing.points]
    for start in range(0, len(places), _PLACES):
        part = places[start : start + _PLACES]
        strips: dict[int, list[int]] = defaultdict(list)
        corners: dict[str, float] = {}
        for number, (_, (lat, lon, _p, _k)) in enumerate(part):
            strips[math.floor(lat / _LAT_STEP)].append(number)
            corners.update(zip((f"s{number}", f"n{number}", f"w{number}", f"e{number}"), _box(lat, lon)))
        rows = session.execute(_near_statement(len(part)), corners)
        near: dict[uuid.UUID, dict[uuid.UUID, float]] = defaultdict(dict)
        for other, other_lat, other_lon, other_name, precision, line1, postal in rows:
            strip = math.floor(other_lat / _LAT_STEP)
            for number in (n for nearby in (strip - 1, strip, strip + 1) for n in strips.get(nearby, ())):
                listing, (lat, lon, precise, key) = part[number]
                if other == listing.id or not corners[f"s{number}"] <= other_lat <= corners[f"n{number}"] or not corners[f"w{number}"] <= other_lon <= corners[f"e{number}"]:
                    continue
                distance = metres(lat, lon, other_lat, other_lon)
                here = same_place(precise, key, precision in PRECISE, place_key(line1, postal))
                if distance <= NEARBY_M and here and similar_names(listing.name, other_name):
                    near[listing.id][other] = min(distance, near[listing.id].get(other, math.inf))
        for provider_id, others in near.items():
            for other, distance in others.items():
                matches[provider_id][other].append({"reason": "nearby", "detail": f"a location {distance:.0f} m from one of the other's, under a similar name"})


@functools.cache
def _near_statement(boxes: int) -> Select[Any]:
    """The open listings' locations in any of ``boxes`` boxes (parameters s0, n0, w0, e0, s1, ...)."""
    inside = [
        and_(Location.latitude.between(bindparam(f"s{n}"), bindparam(f"n{n}")), Location.longitude.between(bindparam(f"w{n}"), bindparam(f"e{n}")))
        for n in range(boxes)
    ]
    return (
        select(Location.provider_id, Location.latitude, Location.longitude, Provider.name, Location.coordinate_precision, Location.address_line1, Location.postal_code)
        .join(Provider, Provider.id == Location.provider_id)
        .where(_OPEN, or_(*inside))
    )


def _box(lat: float, lon: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of the box around a point that holds every place within about 50 m."""
    lon_step = _LAT_STEP / max(math.cos(math.radians(lat)), 0.05)
    return lat - _LAT_STEP, lat + _LAT_STEP, lon - lon_step, lon + lon_step


def _keep(session: Session, wanted: dict[uuid.UUID, Reasons]) -> None:
    """Store each listing's pairs as found now: new ones open, open ones brought up to date (or
    dropped when nothing links them any more); decided pairs stay as decided. Listings are taken
    in order, so of two listings of this batch that disagree about their pair, the later one's
    finding stands, as when each was kept on its own.

    Other transactions change the same pairs at the same moment (each listing of a pair keeps it),
    so the writes take their locks in one order: the stored pairs to change are locked by id, read
    again as they are now, then the new pairs go in sorted, a pair another writer has just added
    left as that writer found it (``ON CONFLICT DO NOTHING``)."""
    C = DuplicateCandidate
    stored: dict[tuple[uuid.UUID, uuid.UUID], tuple[uuid.UUID, str, list[dict[str, str]]]] = {}
    for chunk in _chunks(wanted):
        linked = select(C.id, C.first_id, C.second_id, C.status, C.reasons).where(or_(C.first_id.in_(chunk), C.second_id.in_(chunk)))
        for candidate_id, first_id, second_id, status, reasons in session.execute(linked):
            stored[pair(first_id, second_id)] = (candidate_id, status, reasons)
    members: dict[uuid.UUID, set[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(set)
    for key in stored:
        members[key[0]].add(key)
        members[key[1]].add(key)
    outcome: dict[tuple[uuid.UUID, uuid.UUID], list[dict[str, str]] | None] = {}
    for provider_id, reasons in wanted.items():
        linked_now = set(members[provider_id])
        for other, why in reasons.items():
            key = pair(provider_id, other)
            outcome[key] = why
            linked_now.discard(key)
            members[key[0]].add(key)
            members[key[1]].add(key)
        for key in linked_now:
            outcome[key] = None
    changing = {stored[key][0]: why for key, why in outcome.items() if key in stored and stored[key][1] == "open" and stored[key][2] != why}
    _change_stored(session, changing)
    new = [{"id": new_id(), "first_id": key[0], "second_id": key[1], "reasons": why, "score": score(why), "status": "open", "found_at": utcnow()}
           for key, why in sorted(outcome.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))) if key not in stored and why is not None]  # fmt: skip
    for start in range(0, len(new), _CHUNK // 2):
        session.execute(insert_or_skip(session, C), new[start : start + _CHUNK // 2])


def _change_stored(session: Session, changing: dict[uuid.UUID, list[dict[str, str]] | None]) -> None:
    """Bring open stored pairs (by id) to these reasons, None dropping the pair; each is locked and
    read again first, in id order, and left alone if another writer decided or dropped it since."""
    C = DuplicateCandidate
    for chunk in _chunks(changing):
        locked = select(C.id, C.status).where(C.id.in_(chunk)).order_by(C.id).with_for_update()
        for candidate_id, status in session.execute(locked).all():
            why = changing[candidate_id]
            if status != "open":
                continue
            if why is None:
                session.execute(delete(C).where(C.id == candidate_id))
            else:
                session.execute(update(C).where(C.id == candidate_id).values(reasons=why, score=score(why)))
