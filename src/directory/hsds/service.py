"""Open Referral HSDS 3.0 lists and records, read from the published listings."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.errors import BadParameter, InvalidInput, NotFound
from directory.geocoding import Geocoder
from directory.hsds import ids, present
from directory.i18n.catalogs import translations as gettext_for
from directory.listings.models import Location, Provider, ProviderCondition, ProviderService, ProviderStatus
from directory.listings.queries import full_listing
from directory.search.query import MIN_RADIUS_METRES, RawSearch
from directory.search.service import SearchService
from directory.taxonomy.models import Condition, Service

PUBLISHED = Provider.status == ProviderStatus.published.value
MAX_PROXIMITY_M = 800_000
MAX_NEAREST = 1000
"""How deep proximity results can be paged (page x per_page): nearest-first lists are walked from the start."""

TAXONOMIES = {
    "condition": ("Conditions treated", "What a clinic treats, e.g. ptsd; the codes of GET /v1/conditions"),
    "service": ("Services offered", "What a clinic offers, e.g. ketamine-iv; the codes of GET /v1/services"),
    "verification": ("Verification", "The listing's check against the national NPI registry (NPPES): verified, stale, pending, failed or unverified"),
}


@dataclass
class ListQuery:
    page: int = 1
    per_page: int = 50
    search: str | None = None
    taxonomy_term_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None
    postcode: str | None = None
    proximity: float | None = None
    lat: float | None = None
    lon: float | None = None
    full: bool = False
    terms: dict[str, list[str]] = field(default_factory=dict)


def page_envelope(contents: list[dict[str, Any]], total: int, query: ListQuery) -> dict[str, Any]:
    pages = max(1, math.ceil(total / query.per_page)) if total else 0
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": query.page,
        "size": len(contents),
        "first_page": query.page == 1,
        "last_page": query.page >= pages,
        "empty": not contents,
        "contents": contents,
    }


class HsdsService:
    def __init__(self, search: SearchService, geocoder: Geocoder) -> None:
        self.search_engine = search
        self.geocoder = geocoder
        self.stale_after = search.stale_after

    # --- taxonomies ------------------------------------------------------------------------------

    async def terms(self, session: AsyncSession, language: str = i18n.DEFAULT) -> list[dict[str, Any]]:
        """Every term; conditions and services named in ``language`` where the taxonomy has its words
        (each term's ``language`` says which it is in), ids and codes the same in every language."""
        found = []
        for kind, table in (("condition", Condition), ("service", Service)):
            rows = await session.execute(select(table.code, table.name, table.description, table.parent, table.translations).order_by(table.code))
            for code, name, description, parent, translations in rows:
                words = (translations or {}).get(language) or {} if language != i18n.DEFAULT else {}
                if words.get("name"):
                    found.append(present.taxonomy_term(kind, code, words["name"], words.get("description") or words["name"], parent, language))
                else:
                    found.append(present.taxonomy_term(kind, code, name, description, parent))
        said = gettext_for(language)
        for code, name in present.VERIFICATION_TERMS.items():
            spoken = language if language != i18n.DEFAULT and said.gettext(name) != name else i18n.DEFAULT
            found.append(present.taxonomy_term("verification", code, said.gettext(name), language=spoken))
        return found

    def taxonomies(self) -> list[dict[str, Any]]:
        return [{"id": ids.taxonomy_id(kind), "name": name, "description": description, "version": "1"} for kind, (name, description) in TAXONOMIES.items()]

    async def _resolve_terms(self, session: AsyncSession, query: ListQuery) -> None:
        """taxonomy_term_id: term ids (or our plain codes), comma-separated; any of each taxonomy."""
        if not query.taxonomy_term_id:
            return
        by_id = {term["id"]: term for term in await self.terms(session)}
        by_code = {term["code"]: term for term in by_id.values()}
        for value in (part.strip() for part in query.taxonomy_term_id.split(",")):
            term = by_id.get(value.lower()) or by_code.get(value.lower())
            if term is None:
                raise InvalidInput("taxonomy_term_id", f"no taxonomy term {value!r}; see GET /hsds/taxonomy_terms")
            if term["taxonomy"] == "verification":
                raise InvalidInput(
                    "taxonomy_term_id", f"{value!r} is a verification term: it describes listings but is not a filter; filter on conditions and services"
                )
            # A broad term matches the listings of the terms below it (depression: postpartum depression too).
            query.terms.setdefault(term["taxonomy"], []).extend(_below(term["id"], by_id))

    # --- lists -----------------------------------------------------------------------------------

    async def organizations(self, session: AsyncSession, query: ListQuery) -> dict[str, Any]:
        await self._resolve_terms(session, query)
        return await self._provider_page(session, query, present.organization)

    async def services(self, session: AsyncSession, query: ListQuery) -> dict[str, Any]:
        await self._resolve_terms(session, query)
        if self._near(query):
            return await self._nearest(session, query, "provider")
        return await self._provider_page(session, query, partial(present.service, stale_after=self.stale_after))

    async def _provider_page(self, session: AsyncSession, query: ListQuery, record: Callable[..., dict[str, Any]]) -> dict[str, Any]:
        """A page of published listings in name order, each presented as ``record`` (organization or service)."""
        total, provider_ids = await self._page(session, self._providers(query), query, (func.lower(Provider.name), Provider.id))
        providers = await _load(session, provider_ids)
        return page_envelope([record(providers[pid], full=query.full) for pid in provider_ids if pid in providers], total, query)

    async def service_at_locations(self, session: AsyncSession, query: ListQuery) -> dict[str, Any]:
        await self._resolve_terms(session, query)
        if self._near(query):
            return await self._nearest(session, query, "location")
        statement = (
            select(Location.id, Location.provider_id)
            .join(Provider, Provider.id == Location.provider_id)
            .where(Location.provider_id.in_(self._providers(query)))
        )
        if query.postcode:
            statement = statement.where(Location.postal_code == query.postcode)
        total, rows = await self._page(session, statement, query, (Location.id,), whole_rows=True)
        providers = await _load(session, list({row[1] for row in rows}))
        contents = []
        for location_id, provider_id in rows:
            provider = providers.get(provider_id)
            place = next((loc for loc in provider.locations if loc.id == location_id), None) if provider else None
            if place is not None:
                contents.append(present.service_at_location(provider, place, stale_after=self.stale_after))  # type: ignore[arg-type]
        return page_envelope(contents, total, query)

    def _providers(self, query: ListQuery) -> Select[Any]:
        statement = select(Provider.id).where(PUBLISHED)
        if query.search:
            text = query.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{text}%"
            statement = statement.where(
                or_(
                    func.lower(Provider.name).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Provider.description, "")).like(pattern, escape="\\"),
                )
            )
        if query.organization_id:
            organization = ids.parse(query.organization_id)
            statement = statement.where(Provider.id == organization) if organization else statement.where(Provider.id.is_(None))
        if query.modified_after:
            statement = statement.where(Provider.updated_at > query.modified_after)
        if query.terms.get("condition"):
            statement = statement.where(
                Provider.id.in_(select(ProviderCondition.provider_id).where(ProviderCondition.condition_code.in_(query.terms["condition"])))
            )
        if query.terms.get("service"):
            statement = statement.where(Provider.id.in_(select(ProviderService.provider_id).where(ProviderService.service_code.in_(query.terms["service"]))))
        if query.postcode and not self._near(query):
            statement = statement.where(Provider.id.in_(select(Location.provider_id).where(Location.postal_code == query.postcode)))
        return statement

    async def _page(
        self, session: AsyncSession, statement: Select[Any], query: ListQuery, order: tuple[Any, ...], whole_rows: bool = False
    ) -> tuple[int, list[Any]]:
        total = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
        rows = await session.execute(statement.order_by(*order).offset((query.page - 1) * query.per_page).limit(query.per_page))
        return total, (list(rows.all()) if whole_rows else list(rows.scalars()))

    # --- by distance -----------------------------------------------------------------------------

    def _near(self, query: ListQuery) -> bool:
        if (query.lat is None) != (query.lon is None):
            raise BadParameter("lon" if query.lon is None else "lat", "lat and lon go together")
        if query.lat is not None and query.postcode:
            raise BadParameter("postcode", "give postcode or lat and lon, not both")
        if query.proximity is not None:
            if query.lat is None and not query.postcode:
                raise BadParameter("proximity", "proximity is a distance from postcode (or from lat and lon): give one")
            if not MIN_RADIUS_METRES <= query.proximity <= MAX_PROXIMITY_M:
                raise BadParameter("proximity", f"metres, at least {MIN_RADIUS_METRES:g} and at most {MAX_PROXIMITY_M}")
        return query.lat is not None or query.proximity is not None

    async def _nearest(self, session: AsyncSession, query: ListQuery, group: str) -> dict[str, Any]:
        for name in ("organization_id", "modified_after"):
            if getattr(query, name) is not None:
                raise BadParameter(name, "cannot be combined with proximity or lat/lon; filter the results instead")
        if query.page * query.per_page > MAX_NEAREST:
            raise BadParameter("page", f"results by distance can be paged to the first {MAX_NEAREST}; narrow the proximity")
        lat, lon = query.lat, query.lon
        if lat is None:
            place = await self.geocoder.locate(query.postcode or "")
            if place is None:
                raise InvalidInput("postcode", f"no place has the postcode {query.postcode!r}; give a 5-digit US ZIP code")
            lat, lon = place.latitude, place.longitude
        radius_km = (query.proximity or 40_000) / 1000
        result = await self.search_engine.search(
            session,
            RawSearch(
                lat=lat,
                lon=lon,
                radius=radius_km,
                unit="km",
                q=query.search,
                condition=query.terms.get("condition", []),
                service=query.terms.get("service", []),
                group=group,  # type: ignore[arg-type]
                sort="distance",
                limit=query.page * query.per_page,
                total=True,
            ),
        )
        hits = result.items[(query.page - 1) * query.per_page :]
        providers = await _load(session, list({hit.provider.id for hit in hits}))
        contents = []
        for hit in hits:
            provider = providers.get(hit.provider.id)
            if provider is None or hit.location is None:
                continue
            place = next((loc for loc in provider.locations if loc.id == hit.location.id), None)
            distance_m = (hit.distance or 0.0) * 1000
            if group == "location" and place is not None:
                contents.append(present.service_at_location(provider, place, distance_m=distance_m, stale_after=self.stale_after))
            elif group == "provider":
                body = present.service(provider, full=query.full, stale_after=self.stale_after)
                body["distance"] = round(distance_m, 1)
                contents.append(body)
        return page_envelope(contents, result.total or 0, query)

    # --- single records --------------------------------------------------------------------------

    async def organization(self, session: AsyncSession, value: str) -> dict[str, Any]:
        provider = await _one(session, ids.parse(value), value)
        return present.organization(provider, full=True)

    async def service(self, session: AsyncSession, value: str) -> dict[str, Any]:
        parsed = ids.parse(value)
        provider = await _one(session, ids.provider_of_service(parsed) if parsed else None, value)
        return present.service(provider, full=True, stale_after=self.stale_after)

    async def service_at_location(self, session: AsyncSession, value: str) -> dict[str, Any]:
        parsed = ids.parse(value)
        location_id = ids.location_of_service_at_location(parsed) if parsed else None
        provider_id = None
        if location_id is not None:
            provider_id = (await session.execute(select(Location.provider_id).where(Location.id == location_id))).scalar_one_or_none()
        provider = await _one(session, provider_id, value)
        place = next(loc for loc in provider.locations if loc.id == location_id)
        body = present.service_at_location(provider, place, stale_after=self.stale_after)
        return body


async def _load(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, Provider]:
    if not provider_ids:
        return {}
    rows = await session.execute(full_listing().where(Provider.id.in_(provider_ids), PUBLISHED))
    return {provider.id: provider for provider in rows.scalars()}


async def _one(session: AsyncSession, provider_id: uuid.UUID | None, value: str) -> Provider:
    found = await _load(session, [provider_id]) if provider_id else {}
    if not found:
        raise NotFound(f"no record {value} (only published listings are served)")
    return next(iter(found.values()))


def _below(term_id: str, by_id: dict[str, dict[str, Any]]) -> list[str]:
    """The codes of the term and of every term under it."""
    codes, todo = [], [term_id]
    while todo:
        current = todo.pop()
        codes.append(by_id[current]["code"])
        todo += [other["id"] for other in by_id.values() if other["parent_id"] == current and other["id"] not in todo]
    return codes
