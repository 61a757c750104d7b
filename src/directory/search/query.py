"""A search request, checked and resolved: the place as a point or box, codes for every filter term."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from directory import cursors
from directory.errors import BadParameter, InvalidInput
from directory.geocoding import Geocoder
from directory.search.bounds import Box
from directory.search.lexicon import LexiconIndex
from directory.taxonomy.service import TaxonomyIndex
from directory.words import tokens

METRES = {"mi": 1609.344, "km": 1000.0}
DEFAULT_RADIUS = {"mi": 25.0, "km": 40.0}
#: Below this a search can find nothing but the point itself, and the walk's arithmetic breaks down.
MIN_RADIUS_METRES = 1.0
#: Prices are whole dollars; no infusion costs more.
MAX_PRICE = 1_000_000
#: The longest window ``confirmed_within_days`` takes (ten years).
MAX_CONFIRMED_DAYS = 3650
MAX_RADIUS = {"mi": 500.0, "km": 800.0}
MAX_BOX_WIDTH, MAX_BOX_HEIGHT = 180.0, 90.0
FHIR_NEAR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\|(-?\d+(?:\.\d+)?)(?:\|(\d+(?:\.\d+)?)(?:\|([a-z_\[\]]+))?)?\s*$", re.I)
_FHIR_UNITS = {"km": "km", "[mi_i]": "mi", "mi": "mi", "mi_i": "mi"}

Unit = Literal["mi", "km"]
Sort = Literal["distance", "name", "updated", "relevance"]
Group = Literal["provider", "location"]


@dataclass(frozen=True)
class ResolvedPlace:
    """What the place of the search turned out to be."""

    kind: Literal["point", "near", "bbox"]
    latitude: float
    longitude: float
    label: str | None = None
    precision: str | None = None
    state: str | None = None


@dataclass
class RawSearch:
    """The query parameters as received (after type parsing by the framework)."""

    lat: float | None = None
    lon: float | None = None
    near: str | None = None
    bbox: str | None = None
    radius: float | None = None
    unit: Unit = "mi"
    condition: list[str] = field(default_factory=list)
    condition_match: Literal["any", "all"] = "any"
    service: list[str] = field(default_factory=list)
    route: list[str] = field(default_factory=list)
    credential: list[str] = field(default_factory=list)
    specialty: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    rems_certified: bool | None = None
    telehealth: bool | None = None
    accepting_new_patients: bool | None = None
    insurance: list[str] = field(default_factory=list)
    payment: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    max_price: int | None = None
    verified: bool | None = None
    confirmed_within_days: int | None = None
    open_now: bool | None = None
    at: datetime | None = None
    q: str | None = None
    group: Group = "provider"
    sort: Sort | None = None
    limit: int = 20
    cursor: str | None = None
    total: bool = False
    facets: bool = False
    beyond_radius: bool = False


@dataclass
class SearchQuery:
    place: ResolvedPlace | None
    radius_m: float | None
    box: Box | None
    unit: Unit
    conditions: list[str]
    condition_match: str
    services: list[str]
    condition_groups: list[list[str]]
    """Each condition asked for with every narrower one: what it matches."""
    service_groups: list[list[str]]
    routes: list[str]
    credentials: list[str]
    specialties: list[str]
    accessibility: list[str]
    """Terms one location must offer, all of them."""
    rems_certified: bool | None
    telehealth: bool | None
    accepting_new_patients: bool | None
    insurance: list[str]
    payment: list[str]
    languages: list[str]
    max_price: int | None
    verified: bool | None
    confirmed_within_days: int | None
    open_at: datetime | None
    moment: datetime
    words: list[str]
    word_codes: list[tuple[list[str], list[str]]]
    """For each word: the conditions and services whose names mention it (or a spelling it is near)."""
    group: Group
    sort: Sort
    limit: int
    after: list[Any] | None
    want_total: bool
    want_facets: bool
    fingerprint: str
    beyond_radius: bool = False
    """With fewer near matches than the page holds: the nearest beyond the radius, apart (first page only)."""
    word_forms: list[list[str]] = field(default_factory=list)
    """For each word: itself, then the known terms it is probably a misspelling of."""
    stale_after: timedelta = timedelta(days=365)
    """The deployment's windows (settings): a verified listing turns stale, an unconfirmed one is flagged."""
    unconfirmed_after: timedelta = timedelta(days=180)

    @property
    def stale_before(self) -> datetime:
        """A verified listing checked before this is stale, as of the search's moment."""
        return _before(self.moment, self.stale_after)

    @property
    def unconfirmed_before(self) -> datetime:
        return _before(self.moment, self.unconfirmed_after)

    def confirmed_since(self) -> datetime:
        return _before(self.moment, timedelta(days=self.confirmed_within_days or 0))

    @property
    def remote(self) -> bool:
        """Listings serving the searcher's state by telehealth count as remote hits, after the near ones:
        those with no location always, and with ``telehealth=true`` every telehealth listing licensed there."""
        return bool(self.telehealth is not False and self.place and self.place.state and self.radius_m is not None)

    @property
    def remote_telehealth(self) -> bool:
        """``telehealth=true`` with a place: every telehealth listing licensed for the state, even far away."""
        return bool(self.telehealth and self.remote)

    def cursor_for(self, key: list[Any], secret: str) -> str:
        # The moment travels with the cursor so that "open now" means the same on every page.
        return cursors.encode([self.fingerprint, self.moment.isoformat(), *key], secret)


def _before(moment: datetime, span: timedelta) -> datetime:
    """``moment - span``, or the earliest time there is when that is before year 1 (``at`` may be that early)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=timezone.utc)


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma-separated values both work; duplicates are dropped."""
    seen: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _parse_bbox(text: str) -> Box:
    parts = text.split(",")
    if len(parts) != 4:
        raise BadParameter("bbox", "expected min_lon,min_lat,max_lon,max_lat")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise BadParameter("bbox", "expected four numbers: min_lon,min_lat,max_lon,max_lat") from None
    if not all(map(lambda v: v == v and abs(v) != float("inf"), (west, south, east, north))):
        raise BadParameter("bbox", "expected finite numbers")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise BadParameter("bbox", "longitudes must be between -180 and 180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise BadParameter("bbox", "latitudes must be between -90 and 90")
    if south > north:
        raise BadParameter("bbox", "min_lat is north of max_lat: the box is upside down")
    width = east - west if west <= east else east + 360 - west
    if width > MAX_BOX_WIDTH or north - south > MAX_BOX_HEIGHT:
        raise BadParameter("bbox", f"the box is larger than {MAX_BOX_WIDTH:g} by {MAX_BOX_HEIGHT:g} degrees; search without a place instead")
    return Box(west, south, east, north)


def _box_center(box: Box) -> tuple[float, float]:
    lon = box.west + ((box.east - box.west) % 360) / 2  # a box across the antimeridian wraps
    return (box.south + box.north) / 2, lon - 360 if lon > 180 else lon


async def _resolve_terms(session: AsyncSession, taxonomy: TaxonomyIndex, kind: str, parameter: str, terms: list[str]) -> list[str]:
    codes: dict[str, None] = {}
    for term in terms:
        code = await taxonomy.resolve(session, kind, term)
        if code is None:
            raise InvalidInput(parameter, f"unknown {kind} {term!r}; see GET /v1/{kind}s for codes and synonyms")
        codes.setdefault(code, None)
    return list(codes)


async def build_query(
    raw: RawSearch,
    session: AsyncSession,
    taxonomy: TaxonomyIndex,
    geocoder: Geocoder,
    secret: str,
    now: datetime | None = None,
    lexicon: LexiconIndex | None = None,
) -> SearchQuery:
    """Check every parameter and their combinations; resolve the place and the taxonomy terms."""
    unit: Unit = raw.unit
    radius = raw.radius
    kinds = [name for name, given in (("lat/lon", raw.lat is not None or raw.lon is not None), ("near", bool(raw.near)), ("bbox", bool(raw.bbox))) if given]
    if len(kinds) > 1:
        raise BadParameter(kinds[1].split("/")[0], f"give one place only, not {' and '.join(kinds)}")
    if (raw.lat is None) != (raw.lon is None):
        raise BadParameter("lon" if raw.lon is None else "lat", "lat and lon go together")

    place: ResolvedPlace | None = None
    box: Box | None = None
    if raw.lat is not None and raw.lon is not None:
        place = ResolvedPlace("point", raw.lat, raw.lon, state=geocoder.state_at(raw.lat, raw.lon))
    elif raw.near:
        fhir = FHIR_NEAR.match(raw.near)
        if fhir:
            lat, lon = float(fhir.group(1)), float(fhir.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise BadParameter("near", "latitude must be within ±90 and longitude within ±180")
            if fhir.group(3) is not None:
                if radius is not None:
                    raise BadParameter("radius", "the near parameter already gives a distance")
                fhir_unit = (fhir.group(4) or "km").lower()
                if fhir_unit not in _FHIR_UNITS:
                    raise BadParameter("near", "units must be km or [mi_i]")
                unit, radius = _FHIR_UNITS[fhir_unit], float(fhir.group(3))  # type: ignore[assignment]
            place = ResolvedPlace("point", lat, lon, state=geocoder.state_at(lat, lon))
        else:
            if "|" in raw.near:
                raise BadParameter(
                    "near", "expected latitude|longitude|distance|units, the distance positive and the units km or [mi_i], such as 40.75|-73.99|10|km"
                )
            if len(raw.near) > 200:
                raise BadParameter("near", "at most 200 characters")
            found = await geocoder.locate(raw.near)
            if found is None:
                raise InvalidInput("near", f"no place called {raw.near!r} is known; try a 5-digit ZIP code or 'City, ST' such as 'Austin, TX'")
            state = found.state or geocoder.state_at(found.latitude, found.longitude)
            place = ResolvedPlace("near", found.latitude, found.longitude, found.label, found.precision, state)
    elif raw.bbox:
        if radius is not None:
            raise BadParameter("radius", "a bbox search has no radius; the box is the area")
        box = _parse_bbox(raw.bbox)
        lat, lon = _box_center(box)
        place = ResolvedPlace("bbox", lat, lon, state=geocoder.state_at(lat, lon))

    radius_m = None
    if place is not None and box is None:
        radius = DEFAULT_RADIUS[unit] if radius is None else radius
        if not radius > 0:
            raise BadParameter("radius", "must be greater than 0")
        if radius > MAX_RADIUS[unit]:
            raise BadParameter("radius", f"at most {MAX_RADIUS[unit]:g} {unit}")
        radius_m = radius * METRES[unit]
        if radius_m < MIN_RADIUS_METRES:
            raise BadParameter("radius", f"at least {MIN_RADIUS_METRES:g} metre")
    elif radius is not None and place is None:
        raise BadParameter("radius", "a radius needs a place: lat and lon, or near")

    sort: Sort = raw.sort or ("distance" if place else ("relevance" if raw.q else "name"))
    if sort == "distance" and place is None:
        raise BadParameter("sort", "sorting by distance needs a place: lat and lon, near or bbox")
    if sort == "relevance" and not raw.q:
        raise BadParameter("sort", "sorting by relevance needs q")

    if raw.q is not None and len(raw.q) > 200:
        raise BadParameter("q", "at most 200 characters")
    # Folded (case and accents off) and split on anything not a letter or digit; each word with the
    # known terms it is probably a misspelling of.
    words = list(dict.fromkeys(tokens(raw.q or "")))[:8]
    if raw.q and raw.q.strip() and not words:
        raise BadParameter("q", "nothing to search for in q: give a word or a name, e.g. spravato")
    known = await lexicon.lexicon(session) if words and lexicon is not None else None
    word_forms = [[word, *(known.corrections(word) if known else [])] for word in words]
    word_codes = []
    for forms in word_forms:
        found: tuple[list[str], list[str]] = ([], [])
        for kind, codes in (("condition", found[0]), ("service", found[1])):
            for form in forms:
                codes.extend(code for code in await taxonomy.mentioning(session, kind, form) if code not in codes)
        word_codes.append(found)

    languages = [language.lower() for language in _split(raw.language)]
    for language in languages:
        if not re.fullmatch(r"[a-z]{2,3}", language):
            raise BadParameter("language", f"{language!r} is not a language code such as en or es")
    if raw.max_price is not None and raw.max_price < 0:
        raise BadParameter("max_price", "must not be negative")
    if raw.max_price is not None and raw.max_price > MAX_PRICE:
        raise BadParameter("max_price", f"at most {MAX_PRICE:,} (USD)")
    if raw.confirmed_within_days is not None and not 1 <= raw.confirmed_within_days <= MAX_CONFIRMED_DAYS:
        raise BadParameter("confirmed_within_days", f"a number of days from 1 to {MAX_CONFIRMED_DAYS:,}")
    if raw.at is not None and raw.at.tzinfo is None:
        raise BadParameter("at", "give a time zone offset, e.g. 2026-11-21T18:30:00-05:00")
    if raw.at is not None and not 1900 <= raw.at.year <= 9998:
        raise BadParameter("at", "give a moment between the years 1900 and 9998, e.g. 2026-11-21T18:30:00-05:00")
    moment = raw.at or now or datetime.now(timezone.utc)
    open_at = moment if (raw.open_now or raw.at is not None) and raw.open_now is not False else None

    conditions = await _resolve_terms(session, taxonomy, "condition", "condition", _split(raw.condition))
    services = await _resolve_terms(session, taxonomy, "service", "service", _split(raw.service))
    query = SearchQuery(
        place=place,
        radius_m=radius_m,
        box=box,
        unit=unit,
        conditions=conditions,
        condition_match=raw.condition_match,
        services=services,
        condition_groups=[await taxonomy.below(session, "condition", code) for code in conditions],
        service_groups=[await taxonomy.below(session, "service", code) for code in services],
        routes=_split(raw.route),
        credentials=_split(raw.credential),
        specialties=_split(raw.specialty),
        accessibility=_split(raw.accessibility),
        rems_certified=raw.rems_certified,
        telehealth=raw.telehealth,
        accepting_new_patients=raw.accepting_new_patients,
        insurance=[carrier.lower() for carrier in _split(raw.insurance)],
        payment=_split(raw.payment),
        languages=languages,
        max_price=raw.max_price,
        verified=raw.verified,
        confirmed_within_days=raw.confirmed_within_days,
        open_at=open_at,
        moment=moment,
        words=words,
        word_codes=word_codes,
        word_forms=word_forms,
        group=raw.group,
        sort=sort,
        limit=raw.limit,
        after=None,
        want_total=raw.total,
        want_facets=raw.facets,
        fingerprint="",
        beyond_radius=raw.beyond_radius and radius_m is not None and sort == "distance",
    )
    query.fingerprint = _fingerprint(query)
    if raw.cursor:
        values = cursors.decode(raw.cursor, secret)
        if len(values) < 3 or values[0] != query.fingerprint:
            raise BadParameter("cursor", "this cursor belongs to another search; start again without it")
        try:
            query.moment = datetime.fromisoformat(values[1])
        except (TypeError, ValueError):
            raise BadParameter("cursor", "not a cursor returned by this API") from None
        if query.open_at is not None:
            query.open_at = query.moment
        query.after = values[2:]
    return query


#: What a cursor need not agree on: the page's size and position, what else is asked with it, and
#: the spellings a word is near (they come from terms that change as listings do).
_VOLATILE = frozenset(
    "limit after want_total want_facets fingerprint moment stale_after unconfirmed_after"
    " beyond_radius word_forms word_codes".split()
)


_KEPT = tuple(each.name for each in fields(SearchQuery) if each.name not in _VOLATILE)


def _fingerprint(query: SearchQuery) -> str:
    """What a cursor must agree on: all that decides which hits exist and in what order (a place or
    box, flat dataclasses, by its own fields)."""
    shape = {name: dict(vars(value)) if is_dataclass(value := getattr(query, name)) else value for name in _KEPT}
    shape["open_at"] = shape["open_at"] is not None
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()[:16]
