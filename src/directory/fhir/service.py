"""Reading the directory as FHIR: one read and one search per resource type, and Bundles.

Only published listings exist here. Pages are keyset pages in id order (``_cursor`` in the
``next`` link is opaque and signed); ``near`` searches of Location come from the same search
engine as GET /v1/search, nearest first with exact geodesic distances.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from directory import cursors
from directory.errors import BadParameter, NotFound
from directory.fhir import params, resources
from directory.fhir.bundles import bundle, with_cursor
from directory.fhir.kinds import KINDS, NEAR, PUBLISHED, Kind, accepted_parameters
from directory.fhir.params import Parameter, SearchRequest
from directory.fhir.resources import Systems
from directory.listings.models import Clinician, Provider
from directory.listings.queries import full_listing
from directory.search.query import FHIR_NEAR, RawSearch
from directory.search.service import SearchService

# --- the service -------------------------------------------------------------------------------


class Loaded:
    """The rows a page (and its includes) is built from, each loaded once."""

    def __init__(self) -> None:
        self.providers: dict[uuid.UUID, Provider] = {}
        self.clinicians: dict[uuid.UUID, Clinician] = {}

    async def load(self, session: AsyncSession, provider_ids: set[uuid.UUID], clinician_ids: set[uuid.UUID] = set()) -> None:
        wanted = provider_ids - self.providers.keys()
        if wanted:
            rows = await session.execute(full_listing().where(Provider.id.in_(wanted), PUBLISHED))
            for provider in rows.scalars():
                self.providers[provider.id] = provider
        wanted_people = clinician_ids - self.clinicians.keys()
        if wanted_people:
            rows = await session.execute(select(Clinician).where(Clinician.id.in_(wanted_people)))
            for person in rows.scalars():
                self.clinicians[person.id] = person


class FhirService:
    def __init__(self, search: SearchService, secret_key: str) -> None:
        self.search_engine = search
        self.secret_key = secret_key

    # --- read ----------------------------------------------------------------------------------

    async def read(self, session: AsyncSession, systems: Systems, kind: str, id_: str) -> dict[str, Any]:
        spec = KINDS[kind]
        systems.stale_after = self.search_engine.stale_after
        where = spec.criteria["_id"][1](Parameter("_id", None, [id_]), systems)
        rows = (await session.execute(spec.base().where(where))).all()
        if not rows:
            raise NotFound(f"{kind}/{id_} is not known (only published listings are served)")
        loaded = Loaded()
        found = await self._resources(session, systems, kind, rows, loaded)
        return found[0]

    # --- search --------------------------------------------------------------------------------

    async def search_query(
        self, session: AsyncSession, base: str, kind: str, query: list[tuple[str, str]], *, lenient: bool = False
    ) -> dict[str, Any]:
        """A search as the client sent it: its parameters checked against the type's, then run; the
        ``self`` link names the parameters used (with ``Prefer: handling=lenient``, others are dropped)."""
        search = params.parse(query, accepted_parameters(kind), lenient=lenient)
        used = [(name, value) for name, value in search.used if name != "_cursor"]
        self_url = f"{base}/{kind}" + (f"?{urlencode(used)}" if used else "")
        if search.cursor:
            self_url += ("&" if used else "?") + urlencode({"_cursor": search.cursor})
        return await self.search(session, Systems(base), kind, search, self_url)

    async def search(
        self, session: AsyncSession, systems: Systems, kind: str, request: SearchRequest, self_url: str
    ) -> dict[str, Any]:
        spec = KINDS[kind]
        systems.stale_after = self.search_engine.stale_after
        for include in request.includes:
            if include not in spec.includes:
                allowed = ", ".join(spec.includes) or "none"
                raise BadParameter("_include", f"{include!r} is not supported on {kind}; supported: {allowed}")
        near = [c for c in request.criteria if c.name == "near"]
        if request.sort is not None and not (kind == "Location" and request.sort == "near" and near):
            raise BadParameter("_sort", "the only sort supported is _sort=near, on Location with near; results otherwise come in id order")
        if near:
            return await self._near(session, systems, request, near, self_url)

        statement = spec.base()
        for criterion in request.criteria:
            if criterion.name == "_lastUpdated":
                statement = statement.where(params.dates(spec.updated, criterion))
            else:
                statement = statement.where(spec.criteria[criterion.name][1](criterion, systems))
        total = None
        if request.total:
            total = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
        if request.cursor:
            statement = statement.where(tuple_(*spec.keys) > tuple_(*self._after(kind, request.cursor, spec)))
        rows = (await session.execute(statement.order_by(*spec.keys).limit(request.count + 1))).all()
        more = len(rows) > request.count
        rows = rows[: request.count]
        loaded = Loaded()
        matches = await self._resources(session, systems, kind, rows, loaded)
        next_url = None
        if more:
            last = [str(value) for value in rows[-1]]
            next_url = with_cursor(self_url, cursors.encode([kind, *last], self.secret_key))
        included = await self._included(session, systems, request.includes, matches, loaded)
        return bundle(systems, matches, included, self_url, next_url, total)

    def _after(self, kind: str, cursor: str, spec: Kind) -> list[Any]:
        values = cursors.decode(cursor, self.secret_key, field="_cursor")
        if len(values) != len(spec.keys) + 1 or values[0] != kind:
            raise BadParameter("_cursor", "this cursor belongs to another search; start again without it")
        try:
            return [int(v) if kind == "Location" and i == 0 else uuid.UUID(v) for i, v in enumerate(values[1:])]
        except (TypeError, ValueError):
            raise BadParameter("_cursor", "not a cursor returned by this server") from None

    async def _near(
        self, session: AsyncSession, systems: Systems, request: SearchRequest, near: list[Parameter], self_url: str
    ) -> dict[str, Any]:
        others = [c.name for c in request.criteria if c.name != "near"]
        if others:
            raise BadParameter(others[0], "this server does not combine near with other Location criteria")
        if len(near) > 1 or len(near[0].values) != 1 or near[0].modifier:
            raise BadParameter("near", f"give one point: {NEAR}")
        value = near[0].values[0]
        if not FHIR_NEAR.match(value):
            raise BadParameter("near", f"expected {NEAR}, e.g. 40.75|-73.99|10|km")
        try:
            page = await self.search_engine.search(
                session,
                RawSearch(near=value, group="location", sort="distance", limit=request.count, cursor=request.cursor, total=request.total),
            )
        except BadParameter as error:
            # The search engine names its own parameters; here they are parts of near, and _cursor.
            renamed = {"radius": "near", "cursor": "_cursor"}
            field = renamed.get(error.errors[0].field, error.errors[0].field)
            raise BadParameter(field, error.errors[0].reason) from None
        unit = "km" if page.unit == "km" else "[mi_i]"
        rows = [(hit.location.id, hit.provider.id) for hit in page.items if hit.location is not None]
        loaded = Loaded()
        matches = await self._resources(session, systems, "Location", rows, loaded)
        distances = [hit.distance for hit in page.items if hit.location is not None]
        for entry, distance in zip(matches, distances):
            entry["_distance"] = {"value": round(distance or 0.0, 3), "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
        next_url = with_cursor(self_url, page.next_cursor) if page.next_cursor else None
        included = await self._included(session, systems, request.includes, matches, loaded)
        return bundle(systems, matches, included, self_url, next_url, page.total)

    async def _resources(
        self, session: AsyncSession, systems: Systems, kind: str, rows: list[Any], loaded: Loaded
    ) -> list[dict[str, Any]]:
        if kind == "Practitioner":
            await loaded.load(session, set(), {row[0] for row in rows})
            return [resources.practitioner(loaded.clinicians[row[0]], systems) for row in rows]
        provider_of = (lambda row: row[1]) if kind == "Location" else (lambda row: row[0])
        await loaded.load(session, {provider_of(row) for row in rows})
        built = []
        for row in rows:
            provider = loaded.providers.get(provider_of(row))
            if provider is None:
                continue  # unpublished between the two statements
            if kind == "Organization":
                built.append(resources.organization(provider, systems))
            elif kind == "HealthcareService":
                built.append(resources.healthcare_service(provider, systems))
            elif kind == "Location":
                place = next((loc for loc in provider.locations if loc.id == row[0]), None)
                if place is not None:
                    built.append(resources.location(place, provider, systems))
            else:
                role = next((r for r in provider.clinician_roles if r.clinician_id == row[1]), None)
                if role is not None:
                    built.append(resources.practitioner_role(role, provider, systems))
        return built

    async def _included(
        self, session: AsyncSession, systems: Systems, includes: list[str], matches: list[dict[str, Any]], loaded: Loaded
    ) -> list[dict[str, Any]]:
        """The resources the page's matches refer to through the asked _include paths, each once."""
        if not includes:
            return []
        wanted: dict[tuple[str, str], None] = {}
        for match in matches:
            for include in includes:
                element = include.split(":")[1]
                element = {"service": "healthcareService"}.get(element, element)
                if element == "organization" and match["resourceType"] == "Location":
                    element = "managingOrganization"
                if element == "organization" and match["resourceType"] == "HealthcareService":
                    element = "providedBy"
                refs = match.get(element) or []
                for ref in refs if isinstance(refs, list) else [refs]:
                    kind, _, id_ = ref["reference"].partition("/")
                    wanted[(kind, id_)] = None
        seen = {(m["resourceType"], m["id"]) for m in matches}
        included = []
        for kind, id_ in wanted:
            if (kind, id_) in seen:
                continue
            if kind == "Location":
                owner = next((p.id for p in loaded.providers.values() if any(str(loc.id) == id_ for loc in p.locations)), None)
                if owner is None:
                    continue
                rows = [(int(id_), owner)]
            else:
                rows = [(uuid.UUID(id_),)]
            included.extend(await self._resources(session, systems, kind, rows, loaded))
        return included
