"""Reading the directory as FHIR: one read and one search per resource type, and Bundles.

Only published listings exist here. Pages are keyset pages in id order (``_cursor`` in the
``next`` link is opaque and signed); ``near`` searches of Location come from the same search
engine as GET /v1/search, nearest first with exact geodesic distances.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, false, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from directory import cursors
from directory.errors import BadParameter, NotFound
from directory.fhir import params, resources
from directory.fhir.params import Parameter, SearchRequest
from directory.fhir.resources import Systems
from directory.listings.models import (
    Clinician,
    Location,
    Provider,
    ProviderClinician,
    ProviderCondition,
    ProviderService,
    ProviderStatus,
)
from directory.listings.queries import full_listing
from directory.search.query import FHIR_NEAR, RawSearch
from directory.search.service import SearchService

PUBLISHED = Provider.status == ProviderStatus.published.value
_NEAR = r"lat|lon|distance|units"


# --- the criteria of each resource type --------------------------------------------------------

Criterion = Callable[[Parameter, Systems], ColumnElement[bool]]


def _npi(column: Any) -> Criterion:
    return lambda p, s: params.in_or_nothing(column, params.tokens(p, {resources.NPI_SYSTEM}))


def _location_field(provider_column: Any, location_column: Any) -> Criterion:
    return lambda p, s: provider_column.in_(select(Location.provider_id).where(params.string(location_column, p)))


def _active(p: Parameter, s: Systems) -> ColumnElement[bool]:
    wanted = params.boolean(p)
    return PUBLISHED if wanted in (None, True) else ~PUBLISHED


def _service_type(column: Any) -> Criterion:
    return lambda p, s: column.in_(
        select(ProviderService.provider_id).where(params.in_or_nothing(ProviderService.service_code, params.tokens(p, {s.service})))
    )


def _characteristic(column: Any) -> Criterion:
    return lambda p, s: column.in_(
        select(ProviderCondition.provider_id).where(
            params.in_or_nothing(ProviderCondition.condition_code, params.tokens(p, {s.condition}))
        )
    )


def _specialty_codes(p: Parameter, s: Systems) -> list[str]:
    codes = []
    for code in params.tokens(p, {s.specialty, resources.NUCC_SYSTEM}):
        codes.append(resources.NUCC_TO_SPECIALTY.get(code, code))
    return codes


def _provider_specialty(column: Any) -> Criterion:
    return lambda p, s: column.in_(
        select(ProviderClinician.provider_id)
        .join(Clinician, Clinician.id == ProviderClinician.clinician_id)
        .where(params.in_or_nothing(Clinician.specialty, _specialty_codes(p, s)))
    )


def _reference_uuid(column: Any, kind: str) -> Criterion:
    return lambda p, s: params.in_or_nothing(column, params.uuids(params.references(p, kind)))


def _location_ids(p: Parameter) -> list[int]:
    return [int(i) for i in params.references(p, "Location") if i.isdigit() and len(i) < 19]


def _id_uuid(column: Any) -> Criterion:
    return lambda p, s: params.in_or_nothing(column, params.uuids(params.tokens(p, {None})))


def _id_location(p: Parameter, s: Systems) -> ColumnElement[bool]:
    ids = [int(i) for i in params.tokens(p, {None}) if i.isdigit() and len(i) < 19]
    return params.in_or_nothing(Location.id, ids)


def _id_role(p: Parameter, s: Systems) -> ColumnElement[bool]:
    pairs = [pair for value in params.tokens(p, {None}) if (pair := resources.split_role_id(value))]
    return params.in_or_nothing(tuple_(ProviderClinician.provider_id, ProviderClinician.clinician_id), pairs)


@dataclass(frozen=True)
class Kind:
    """How one resource type is searched: its key columns, base statement and parameters."""

    name: str
    keys: tuple[Any, ...]
    updated: Any
    criteria: dict[str, tuple[str, Criterion, str]]
    """name -> (FHIR search parameter type, SQL condition, documentation)"""
    includes: dict[str, str]
    """_include value -> the resource type it adds"""

    def base(self) -> Select[Any]:
        statement = select(*self.keys)
        if self.name in ("Organization", "HealthcareService"):
            return statement.where(PUBLISHED)
        if self.name == "Location":
            return statement.join(Provider, Provider.id == Location.provider_id).where(PUBLISHED)
        if self.name == "PractitionerRole":
            return statement.join(Provider, Provider.id == ProviderClinician.provider_id).where(PUBLISHED)
        return statement.where(
            Clinician.id.in_(
                select(ProviderClinician.clinician_id)
                .join(Provider, Provider.id == ProviderClinician.provider_id)
                .where(PUBLISHED)
            )
        )


KINDS: dict[str, Kind] = {
    "Organization": Kind(
        "Organization",
        (Provider.id,),
        Provider.updated_at,
        {
            "_id": ("token", _id_uuid(Provider.id), "the listing's id"),
            "name": ("string", lambda p, s: params.string(Provider.name, p), "the clinic's name (starts with; :exact, :contains)"),
            "identifier": ("token", _npi(Provider.npi), f"the organization NPI ({resources.NPI_SYSTEM}|1234567893)"),
            "active": ("token", _active, "always true: only published listings are served"),
            "address-city": ("string", _location_field(Provider.id, Location.city), "a city of one of its locations"),
            "address-state": ("string", _location_field(Provider.id, Location.state), "a state of one of its locations (two letters)"),
            "address-postalcode": ("string", _location_field(Provider.id, Location.postal_code), "a ZIP code of one of its locations"),
        },
        {},
    ),
    "HealthcareService": Kind(
        "HealthcareService",
        (Provider.id,),
        Provider.updated_at,
        {
            "_id": ("token", _id_uuid(Provider.id), "the listing's id (the same as its Organization's)"),
            "name": ("string", lambda p, s: params.string(Provider.name, p), "the clinic's name"),
            "organization": ("reference", _reference_uuid(Provider.id, "Organization"), "Organization/<id>"),
            "service-type": ("token", _service_type(Provider.id), "a service code of GET /v1/services, e.g. ketamine-iv"),
            "specialty": ("token", _provider_specialty(Provider.id), f"a clinician specialty: a NUCC code ({resources.NUCC_SYSTEM}) or ours, e.g. psychiatry"),
            "characteristic": ("token", _characteristic(Provider.id), "a condition treated, a code of GET /v1/conditions, e.g. ptsd"),
            "location": (
                "reference",
                lambda p, s: Provider.id.in_(select(Location.provider_id).where(params.in_or_nothing(Location.id, _location_ids(p)))),
                "Location/<id>",
            ),
            "active": ("token", _active, "always true: only published listings are served"),
        },
        {"HealthcareService:organization": "Organization", "HealthcareService:location": "Location"},
    ),
    "Location": Kind(
        "Location",
        (Location.id, Location.provider_id),
        Provider.updated_at,
        {
            "_id": ("token", _id_location, "the location's id"),
            "name": ("string", lambda p, s: params.string(func.coalesce(Location.name, Provider.name), p), "the location's name"),
            "organization": ("reference", _reference_uuid(Location.provider_id, "Organization"), "Organization/<id>"),
            "address-city": ("string", lambda p, s: params.string(Location.city, p), "city"),
            "address-state": ("string", lambda p, s: params.string(Location.state, p), "state (two letters)"),
            "address-postalcode": ("string", lambda p, s: params.string(Location.postal_code, p), "ZIP code"),
            "near": (
                "special",
                lambda p, s: _unreachable(),
                f"{_NEAR}: within a distance (km unless units is [mi_i]; 40 km if left out, at most 800 km), with _sort=near nearest first; the distance of each hit is in the location-distance extension of its entry's search element",
            ),
        },
        {"Location:organization": "Organization"},
    ),
    "Practitioner": Kind(
        "Practitioner",
        (Clinician.id,),
        Clinician.updated_at,
        {
            "_id": ("token", _id_uuid(Clinician.id), "the clinician's id"),
            "identifier": ("token", _npi(Clinician.npi), f"the clinician's NPI ({resources.NPI_SYSTEM}|...)"),
            "name": (
                "string",
                lambda p, s: params.string(Clinician.first_name, p) | params.string(Clinician.last_name, p),
                "a given or family name",
            ),
            "family": ("string", lambda p, s: params.string(Clinician.last_name, p), "family name"),
            "given": ("string", lambda p, s: params.string(Clinician.first_name, p), "given name"),
            "active": ("token", lambda p, s: false() if params.boolean(p) is False else true(), "always true"),
        },
        {},
    ),
    "PractitionerRole": Kind(
        "PractitionerRole",
        (ProviderClinician.provider_id, ProviderClinician.clinician_id),
        Provider.updated_at,
        {
            "_id": ("token", _id_role, "the role's id"),
            "practitioner": ("reference", _reference_uuid(ProviderClinician.clinician_id, "Practitioner"), "Practitioner/<id>"),
            "organization": ("reference", _reference_uuid(ProviderClinician.provider_id, "Organization"), "Organization/<id>"),
            "service": ("reference", _reference_uuid(ProviderClinician.provider_id, "HealthcareService"), "HealthcareService/<id>"),
            "location": (
                "reference",
                lambda p, s: ProviderClinician.provider_id.in_(
                    select(Location.provider_id).where(params.in_or_nothing(Location.id, _location_ids(p)))
                ),
                "Location/<id>",
            ),
            "specialty": (
                "token",
                lambda p, s: ProviderClinician.clinician_id.in_(
                    select(Clinician.id).where(params.in_or_nothing(Clinician.specialty, _specialty_codes(p, s)))
                ),
                "the clinician's specialty: a NUCC code or ours",
            ),
            "active": ("token", _active, "always true"),
        },
        {
            "PractitionerRole:practitioner": "Practitioner",
            "PractitionerRole:organization": "Organization",
            "PractitionerRole:location": "Location",
            "PractitionerRole:service": "HealthcareService",
        },
    ),
}


def _unreachable() -> ColumnElement[bool]:
    raise AssertionError("near is handled by the search engine")


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
        where = spec.criteria["_id"][1](Parameter("_id", None, [id_]), systems)
        rows = (await session.execute(spec.base().where(where))).all()
        if not rows:
            raise NotFound(f"{kind}/{id_} is not known (only published listings are served)")
        loaded = Loaded()
        found = await self._resources(session, systems, kind, rows, loaded)
        return found[0]

    # --- search --------------------------------------------------------------------------------

    async def search(
        self, session: AsyncSession, systems: Systems, kind: str, request: SearchRequest, self_url: str
    ) -> dict[str, Any]:
        spec = KINDS[kind]
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
            next_url = _with_cursor(self_url, cursors.encode([kind, *last], self.secret_key))
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
            raise BadParameter("near", f"give one point: {_NEAR}")
        value = near[0].values[0]
        if not FHIR_NEAR.match(value):
            raise BadParameter("near", f"expected {_NEAR}, e.g. 40.75|-73.99|10|km")
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
        next_url = _with_cursor(self_url, page.next_cursor) if page.next_cursor else None
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


def _with_cursor(self_url: str, cursor: str) -> str:
    base, _, query = self_url.partition("?")
    pairs = [pair for pair in query.split("&") if pair and not pair.startswith("_cursor=")]
    pairs.append(urlencode({"_cursor": cursor}))
    return f"{base}?{'&'.join(pairs)}"


def bundle(
    systems: Systems,
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]],
    self_url: str,
    next_url: str | None,
    total: int | None,
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = []
    for resource in matches:
        distance = resource.pop("_distance", None)
        search: dict[str, Any] = {"mode": "match"}
        if distance is not None:
            search["extension"] = [{"url": resources.DISTANCE_URL, "valueDistance": distance}]
        entries.append(_entry(systems, resource, search))
    entries.extend(_entry(systems, resource, {"mode": "include"}) for resource in included)
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": resources.instant(datetime.now(timezone.utc)),
    }
    if total is not None:
        result["total"] = total
    result["link"] = links
    if entries:
        result["entry"] = entries
    return result


def _entry(systems: Systems, resource: dict[str, Any], search: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{systems.base}/{resource['resourceType']}/{resource['id']}", "resource": resource, "search": search}


def accepted_parameters(kind: str) -> set[str]:
    return {*KINDS[kind].criteria, "_lastUpdated"}


__all__ = ["KINDS", "FhirService", "accepted_parameters"]
