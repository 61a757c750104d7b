"""FHIR R4, read-only, under /fhir: the capability statement, reads and searches."""

from __future__ import annotations

import enum
from datetime import date
from importlib import metadata
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import Parameter as PathParameter
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import NotAcceptable, NotFound
from directory.fhir.codesystems import code_system
from directory.fhir.kinds import KINDS
from directory.fhir.outcomes import only_xml
from directory.fhir.resources import Systems
from directory.fhir.service import FhirService
from directory.listings.queries import merged_survivor

FHIR_JSON = "application/fhir+json"


class ResourceType(str, enum.Enum):
    Organization = "Organization"
    Location = "Location"
    HealthcareService = "HealthcareService"
    Practitioner = "Practitioner"
    PractitionerRole = "PractitionerRole"


def fhir_base(request: Request, state: State) -> str:
    root = state.settings.public_url or str(request.base_url).rstrip("/")
    return f"{root}/fhir"


def _answer(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    return Response(body, media_type=FHIR_JSON, headers=headers)


def _acceptable(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """FHIR's content negotiation: _format overrides Accept; an Accept of XML alone is 406 (this
    server speaks JSON only)."""
    if connection.query_params.get("_format") is None and only_xml(connection.headers.get("accept", "")):
        raise NotAcceptable("this FHIR server answers in JSON only: accept application/fhir+json, or send _format=json")


class FhirController(Controller):
    path = "/fhir"
    tags = ["fhir"]
    guards = [_acceptable]

    @get("/metadata", summary="CapabilityStatement: what this FHIR server supports", media_type=FHIR_JSON)
    async def capabilities(self, request: Request, state: State) -> Response[dict[str, Any]]:
        """The resources, interactions, search parameters and includes this server supports, and nothing more.

        Who: anyone; no key needed.
        """
        return _answer(capability_statement(fhir_base(request, state)))

    @get("/CodeSystem/{name:str}", summary="Our condition or service codes as a CodeSystem, with their hierarchy", media_type=FHIR_JSON)
    async def read_code_system(
        self,
        request: Request,
        state: State,
        reader: NamedDependency[AsyncSession],
        name: Annotated[str, PathParameter(description="condition or service", max_length=64)],
    ) -> Response[dict[str, Any]]:
        """The codes used in `HealthcareService.characteristic` (conditions) and `.type` (services),
        at the address their `system` names: broader concepts hold the narrower ones (`hierarchyMeaning`
        is-a; each narrower one also has a `parent` property), synonyms are designations, and the
        ICD-10-CM and SNOMED CT codes of a concept are properties. A search for a broader code finds
        listings of every code below it.

        Who: anyone; no key needed.
        """
        return _answer(await code_system(reader, Systems(fhir_base(request, state)), name))

    @get("/{resource_type:str}", summary="Search a FHIR resource type", media_type=FHIR_JSON)
    async def search_resources(
        self,
        request: Request,
        state: State,
        reader: NamedDependency[AsyncSession],
        fhir: NamedDependency[FhirService],
        resource_type: Annotated[ResourceType, PathParameter(description="Organization, Location, HealthcareService, Practitioner or PractitionerRole")],
    ) -> Response[dict[str, Any]]:
        """A searchset Bundle, in id order (nearest first with `near` and `_sort=near` on Location).

        Parameters follow FHIR R4 search: `name=hud` (starts with; `name:contains`, `name:exact`),
        `identifier=http://hl7.org/fhir/sid/us-npi|1234567893`, `_lastUpdated=ge2026-11-01`,
        `Location?near=40.75|-73.99|10|km&_sort=near`, `HealthcareService?service-type=ketamine-iv`,
        `HealthcareService?characteristic=ptsd` (a condition treated), `HealthcareService?specialty=2084P0800X`,
        `_include=PractitionerRole:practitioner`, `_count` (1-100, 20 by default), `_total=accurate`.
        GET /fhir/metadata lists every parameter of every type. The `next` link carries an opaque
        `_cursor`. An unsupported parameter is an error unless the request sends
        `Prefer: handling=lenient`, when it is ignored and left out of the `self` link.
        Errors are problem+json, or an OperationOutcome when the request accepts application/fhir+json.

        Who: anyone; no key needed. Only published listings are served.
        """
        lenient = "handling=lenient" in request.headers.get("prefer", "").replace(" ", "").lower()
        query = list(request.query_params.multi_items())
        return _answer(await fhir.search_query(reader, fhir_base(request, state), resource_type.value, query, lenient=lenient))

    @get("/{resource_type:str}/{resource_id:str}", summary="Read one FHIR resource", media_type=FHIR_JSON)
    async def read_resource(
        self,
        request: Request,
        state: State,
        reader: NamedDependency[AsyncSession],
        fhir: NamedDependency[FhirService],
        resource_type: Annotated[ResourceType, PathParameter(description="the resource type")],
        resource_id: Annotated[str, PathParameter(description="the resource's id", max_length=64)],
    ) -> Response[dict[str, Any]]:
        """One resource; 404 when it does not exist or its listing is not published; 301 to the
        surviving listing's resource for an Organization or HealthcareService merged into another.

        Who: anyone; no key needed. Only published listings are served.
        """
        base = fhir_base(request, state)
        try:
            resource = await fhir.read(reader, Systems(base), resource_type.value, resource_id)
        except NotFound:
            # An Organization or HealthcareService whose listing was merged into another: that one's address.
            survivor = await merged_survivor(reader, resource_id) if resource_type.value in ("Organization", "HealthcareService") else None
            if survivor is None:
                raise
            return Response(content=b"", status_code=301, headers={"Location": f"{base.rstrip('/')}/{resource_type.value}/{survivor[0]}"})
        headers = {}
        if "versionId" in resource.get("meta", {}):
            headers["ETag"] = f'W/"{resource["meta"]["versionId"]}"'
        return _answer(resource, headers)


def _version() -> str:
    try:
        return metadata.version("directory")
    except metadata.PackageNotFoundError:
        return "unknown"


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for name, kind in KINDS.items():
        search_params = [{"name": param, "type": type_, "documentation": doc} for param, (type_, _, doc) in kind.criteria.items()]
        search_params.append({"name": "_lastUpdated", "type": "date", "documentation": "when the resource last changed (eq, ne, gt, ge, lt, le, sa, eb)"})
        entry: dict[str, Any] = {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "versioned" if name != "Practitioner" else "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": search_params,
        }
        if kind.includes:
            entry["searchInclude"] = list(kind.includes)
        resources.append(entry)
    resources.append({"type": "CodeSystem", "interaction": [{"code": "read"}], "documentation": "CodeSystem/condition and CodeSystem/service"})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.today().isoformat(),
        "publisher": "Infusion provider directory",
        "kind": "instance",
        "software": {"name": "directory", "version": _version()},
        "implementation": {
            "description": "Read-only FHIR R4 view of the published listings of the infusion provider directory",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read and search only (GET; no POST _search, no writes, no history). Searches page in id order "
                    "with an opaque _cursor in the next link; _count 1-100 (20 by default); _total=accurate counts. "
                    "Unsupported parameters are refused unless Prefer: handling=lenient. Location near searches are "
                    "nearest first, with the location-distance extension on each entry."
                ),
                "security": {"cors": True, "description": "Public data; no authentication."},
                "resource": resources,
            }
        ],
    }
