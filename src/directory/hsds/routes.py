"""Open Referral HSDS 3.0, read-only, under /hsds."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Example
from litestar.params import Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.errors import BadParameter, NotFound
from directory.hsds import ids, present
from directory.hsds.service import HsdsService, ListQuery, page_envelope
from directory.listings.queries import merged_survivor
from directory.taxonomy.routes import LANGUAGE_HEADERS, Lang
from directory.validation import moment

Page = Annotated[int, QueryParameter(ge=1, le=10_000, description="page number, from 1")]
PerPage = Annotated[int, QueryParameter(ge=1, le=100, description="records per page")]
Search = Annotated[str | None, QueryParameter(max_length=200, description="words in the name or description")]
Term = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,
        description="taxonomy term ids from GET /hsds/taxonomy_terms (or their codes, e.g. ptsd), comma-separated: any term of a taxonomy, and every taxonomy named",
        examples=[Example(value="ptsd,treatment-resistant-depression")],
    ),
]
Organization = Annotated[str | None, QueryParameter(max_length=36, description="only this organization's records")]
ModifiedAfter = Annotated[
    str | None,
    QueryParameter(
        description="only records changed after this time (ISO 8601; UTC without an offset); not with proximity or lat/lon (400: filter a nearest-first list yourself)", examples=[Example(value="2026-11-01T00:00:00Z")], format="date-time", max_length=40
    ),
]
Postcode = Annotated[
    str | None,
    QueryParameter(max_length=10, description="a US ZIP code: records there, or within `proximity` metres of it", examples=[Example(value="10001")]),
]
Proximity = Annotated[float | None, QueryParameter(
        description="metres from `postcode` (or from lat/lon), at least 1 and at most 800000; results nearest first. Needs postcode or lat/lon; not with modified_after or organization_id",
        examples=[Example(value=16000)],
    ),
]
Lat = Annotated[float | None, QueryParameter(ge=-90, le=90, description="latitude to measure from (with lon)")]
Lon = Annotated[float | None, QueryParameter(ge=-180, le=180, description="longitude to measure from (with lat)")]
Full = Annotated[bool, QueryParameter(description="include child records (an organization's services and locations, a service's organization and service_at_locations)")]
RecordId = Annotated[str, Parameter(description="the record's id (a UUID)", max_length=64)]


def located_query(
    page: Page = 1,
    per_page: PerPage = 50,
    search: Search = None,
    taxonomy_term_id: Term = None,
    organization_id: Organization = None,
    modified_after: ModifiedAfter = None,
    postcode: Postcode = None,
    proximity: Proximity = None,
    lat: Lat = None,
    lon: Lon = None,
) -> ListQuery:
    """The query parameters of the lists that can be searched by place (services, service_at_locations)."""
    return ListQuery(
        page=page, per_page=per_page, search=search, taxonomy_term_id=taxonomy_term_id, organization_id=organization_id,
        modified_after=moment("modified_after", modified_after, offset_required=False), postcode=postcode, proximity=proximity, lat=lat, lon=lon,
    )  # fmt: skip


LOCATED = {"located": Provide(located_query, sync_to_thread=False)}

def _refuse_unsupported(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """HSDS 3.0's `format` and `minimal` parameters: JSON is the one format; records are minimal
    (no children) unless `full=true`. (A guard, so that the app's own checks of every request still run.)"""
    fmt = connection.query_params.get("format")
    if fmt is not None and fmt.lower() != "json":
        raise BadParameter("format", "only json is served")
    if "minimal" in connection.query_params:
        raise BadParameter("minimal", "records come without their child records by default; full=true adds them")


async def _omit_nulls(response: Response) -> Response:
    """HSDS fields that have no value are left out: its schemas type them as strings, never null."""
    response.content = present.compact(response.content)
    return response


class HsdsController(Controller):
    path = "/hsds"
    tags = ["hsds"]
    guards = [_refuse_unsupported]
    after_request = _omit_nulls

    @get("/", summary="About this HSDS API")
    async def about(self, request: Request, state: State) -> dict[str, Any]:
        """The HSDS version served and where the OpenAPI document is.

        Who: anyone; no key needed.
        """
        root = state.settings.public_url or str(request.base_url).rstrip("/")
        return {"version": "3.0", "profile": "https://docs.openreferral.org/en/3.0/", "openapi_url": f"{root}/schema/openapi.json"}

    @get("/organizations", summary="HSDS organizations (one per published listing)", opt={"problems": (422,)})
    async def list_organizations(
        self,
        reader: NamedDependency[AsyncSession],
        hsds: NamedDependency[HsdsService],
        page: Page = 1,
        per_page: PerPage = 50,
        search: Search = None,
        taxonomy_term_id: Term = None,
        modified_after: ModifiedAfter = None,
        postcode: Postcode = None,
        full: Full = False,
    ) -> dict[str, Any]:
        """A page of organizations in name order, with HSDS's page envelope (total_items, total_pages, ...).

        Who: anyone; no key needed. Only published listings are served.
        """
        query = ListQuery(page=page, per_page=per_page, search=search, taxonomy_term_id=taxonomy_term_id, modified_after=moment("modified_after", modified_after, offset_required=False), postcode=postcode, full=full)
        return await hsds.organizations(reader, query)

    @get("/organizations/{organization_id:str}", summary="One HSDS organization, with its services and locations")
    async def get_organization(self, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], organization_id: RecordId) -> dict[str, Any]:
        """The organization's id is the listing's id in /v1.

        Who: anyone; no key needed. Only published listings are served. The id of a listing merged
        into another answers 301 with the other's address.
        """
        try:
            return await hsds.organization(reader, organization_id)
        except NotFound:
            survivor = await merged_survivor(reader, organization_id)
            if survivor is None:
                raise
            return Response(content=b"", status_code=301, headers={"Location": f"/hsds/organizations/{survivor[0]}"})  # type: ignore[return-value]

    @get("/services", summary="HSDS services (one per published listing)", dependencies=LOCATED, opt={"problems": (422,)})
    async def list_services(
        self, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], located: NamedDependency[ListQuery], full: Full = False
    ) -> dict[str, Any]:
        """A page of services in name order; with `proximity` (or lat/lon) nearest first, each with
        `distance` in metres (to its nearest location). Conditions treated and services offered are
        attributes linking taxonomy terms.

        Who: anyone; no key needed. Only published listings are served.
        """
        return await hsds.services(reader, replace(located, full=full))

    @get("/services/{service_id:str}", summary="One HSDS service, with its organization and locations")
    async def get_service(self, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], service_id: RecordId) -> dict[str, Any]:
        """Who: anyone; no key needed. Only published listings are served. The id of a listing merged
        into another answers 301 with the other's address."""
        try:
            return await hsds.service(reader, service_id)
        except NotFound:
            parsed = ids.parse(service_id)
            survivor = await merged_survivor(reader, ids.provider_of_service(parsed)) if parsed else None
            if survivor is None:
                raise
            return Response(content=b"", status_code=301, headers={"Location": f"/hsds/services/{ids.service_id(survivor[0])}"})  # type: ignore[return-value]

    @get("/service_at_locations", summary="HSDS service_at_locations (one per location of a published listing)", dependencies=LOCATED, opt={"problems": (422,)})
    async def list_service_at_locations(
        self, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], located: NamedDependency[ListQuery]
    ) -> dict[str, Any]:
        """Each with its location and service. `postcode` alone matches locations with that ZIP code;
        with `proximity` (metres) it is the centre of a circle, as is lat/lon, and results come
        nearest first with `distance` in metres (geodesic). Paging by distance reaches the first
        1,000 results.

        Who: anyone; no key needed. Only published listings are served.
        """
        return await hsds.service_at_locations(reader, located)

    @get("/service_at_locations/{service_at_location_id:str}", summary="One HSDS service_at_location")
    async def get_service_at_location(
        self, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], service_at_location_id: RecordId
    ) -> dict[str, Any]:
        """Who: anyone; no key needed. Only published listings are served."""
        return await hsds.service_at_location(reader, service_at_location_id)

    @get("/taxonomies", summary="The two taxonomies: conditions treated and services offered")
    async def list_taxonomies(self, hsds: NamedDependency[HsdsService], page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
        """Who: anyone; no key needed."""
        return _static_page(hsds.taxonomies(), page, per_page)

    @get("/taxonomy_terms", summary="Every taxonomy term: the condition and service codes", response_headers=LANGUAGE_HEADERS)
    async def list_taxonomy_terms(
        self, request: Request, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], page: Page = 1, per_page: PerPage = 100, lang: Lang = None
    ) -> Response[dict[str, Any]]:
        """Use a term's `id` (or its `code`) as `taxonomy_term_id`.

        Conditions and services are named and described in Spanish with `Accept-Language: es` or
        `lang=es` (each term's `language` says which language it is in; ids and codes do not change).
        Who: anyone; no key needed.
        """
        language = i18n.choose(lang, request.headers.get("accept-language"))
        return Response(_static_page(await hsds.terms(reader, language), page, per_page), headers=i18n.headers(language))

    @get("/taxonomies/{taxonomy_id:str}", summary="One taxonomy")
    async def get_taxonomy(self, hsds: NamedDependency[HsdsService], taxonomy_id: RecordId) -> dict[str, Any]:
        """Who: anyone; no key needed."""
        return _one(hsds.taxonomies(), taxonomy_id, "taxonomy")

    @get("/taxonomy_terms/{taxonomy_term_id:str}", summary="One taxonomy term", response_headers=LANGUAGE_HEADERS)
    async def get_taxonomy_term(
        self, request: Request, reader: NamedDependency[AsyncSession], hsds: NamedDependency[HsdsService], taxonomy_term_id: RecordId, lang: Lang = None
    ) -> Response[dict[str, Any]]:
        """By its id (or its code, e.g. ptsd); in Spanish with `Accept-Language: es` or `lang=es`. Who: anyone; no key needed."""
        language = i18n.choose(lang, request.headers.get("accept-language"))
        return Response(_one(await hsds.terms(reader, language), taxonomy_term_id, "taxonomy term"), headers=i18n.headers(language))


def _one(items: list[dict[str, Any]], record_id: str, kind: str) -> dict[str, Any]:
    found = next((item for item in items if item["id"] == record_id.lower() or item.get("code") == record_id.lower()), None)
    if found is None:
        raise NotFound(f"no {kind} {record_id}")
    return found


def _static_page(items: list[dict[str, Any]], page: int, per_page: int) -> dict[str, Any]:
    query = ListQuery(page=page, per_page=per_page)
    return page_envelope(items[(page - 1) * per_page : page * per_page], len(items), query)
