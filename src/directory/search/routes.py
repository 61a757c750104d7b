"""GET /v1/search: "find services near you"."""

from __future__ import annotations

import hashlib
import inspect
import json
from functools import cache
from typing import Annotated, Literal
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.listings.models import AccessibilityFeature, Credential, PaymentOption, Route, Specialty
from directory.search.geojson import GEOJSON, feature_collection
from directory.search.query import RawSearch
from directory.search.schemas import SearchPage
from directory.search.service import SearchService
from directory.validation import moment

CACHE_CONTROL = "public, max-age=60"


def _q(description: str, *examples: object, **constraints: object) -> QueryParameter:
    return QueryParameter(description=description, examples=[Example(value=v) for v in examples], **constraints)  # type: ignore[arg-type]


@get(["/v1/search", "/v1/search.geojson"], tags=["search"], summary="Search providers near a place", opt={"problems": (422,)})
async def search(
    request: Request,
    state: State,
    read_connection: NamedDependency[AsyncConnection],
    lat: Annotated[float | None, _q("latitude of the place (WGS84), with lon; one place only: not with near or bbox (400 naming the other)", 40.7506, ge=-90, le=90)] = None,
    lon: Annotated[float | None, _q("longitude of the place (WGS84), with lat; not with near or bbox", -73.9972, ge=-180, le=180)] = None,
    near: Annotated[
        str | None,
        _q(
            "a place in words: US ZIP code, 'City, ST' or a street address; or FHIR's lat|lon|distance|units. "
            "One place only: not with lat/lon or bbox (400 naming the other); a place nobody knows is a 422 naming near",
            "10001",
            "Austin, TX",
            "40.75|-73.99|10|km",
            max_length=200,
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        _q("a map viewport min_lon,min_lat,max_lon,max_lat (may cross the antimeridian); not with lat/lon or near, and without radius", "-74.05,40.68,-73.90,40.82"),
    ] = None,
    radius: Annotated[float | None, _q("search radius around lat/lon or near; default 25 mi (40 km), at least 1 metre, at most 500 mi (800 km)", 25)] = None,
    unit: Annotated[Literal["mi", "km"], _q("unit of radius and distances", "mi")] = "mi",
    condition: Annotated[
        list[str] | None, _q("condition code or synonym (repeat or comma-separate for any of them)", "ptsd", "TRD")
    ] = None,
    condition_match: Annotated[Literal["any", "all"], _q("any (default) or all of the conditions", "all")] = "any",
    service: Annotated[list[str] | None, _q("service code or synonym (repeatable)", "ketamine-iv", "Spravato")] = None,
    route: Annotated[list[Route] | None, _q("route of administration offered (repeatable)", "iv")] = None,
    credential: Annotated[
        list[Credential] | None,
        _q("credential of a clinician at the provider (repeatable, any case); with specialty: one clinician with both", "CRNA", "md"),
    ] = None,
    specialty: Annotated[
        list[Specialty] | None,
        _q("specialty of a clinician (repeatable, any case); with credential: one clinician with both", "psychiatry", "anesthesiology"),
    ] = None,
    accessibility: Annotated[
        list[AccessibilityFeature] | None,
        _q("what one location offers people with disabilities: every term given (repeatable, any case)", "step_free_entrance"),
    ] = None,
    rems_certified: Annotated[
        bool | None, _q("true: only locations certified under the Spravato (esketamine) REMS program; false: the others", True)
    ] = None,
    telehealth: Annotated[
        bool | None,
        _q(
            "true: telehealth providers only, including those licensed for the searcher's state beyond the radius (remote). "
            "Without it, telehealth-only providers (no location) serving the searcher's state come as remote hits too",
            True,
        ),
    ] = None,
    accepting_new_patients: Annotated[bool | None, _q("only providers accepting (or not) new patients", True)] = None,
    insurance: Annotated[list[str] | None, _q("insurance carrier accepted (repeatable, any case)", "Aetna")] = None,
    payment: Annotated[list[PaymentOption] | None, _q("payment option (repeatable)", "sliding_scale")] = None,
    language: Annotated[list[str] | None, _q("language spoken, ISO 639 code (repeatable)", "es")] = None,
    max_price: Annotated[int | None, _q("cheapest infusion at most this price (whole USD, at most 1,000,000)", 500)] = None,
    verified: Annotated[
        bool | None,
        _q("true: only listings whose registry check passed and is current (not stale); false: every other listing", True),
    ] = None,
    confirmed_within_days: Annotated[
        int | None, _q("only listings whose clinic confirmed their details within this many days (1-3,650)", 180)
    ] = None,
    open_now: Annotated[bool | None, _q("only locations open now (or at `at`), from their hours in their time zone", True)] = None,
    at: Annotated[str | None, _q("the moment for open_now and open_now flags, ISO 8601 with offset", "2026-11-23T10:00:00-05:00", format="date-time", max_length=40)] = None,
    q: Annotated[str | None, _q("free text over names, descriptions, and condition and service names and synonyms", "spravato", max_length=200)] = None,
    group: Annotated[Literal["provider", "location"], _q("one hit per provider (its nearest matching location) or per location", "provider")] = "provider",
    sort: Annotated[
        Literal["distance", "name", "updated", "relevance"] | None,
        _q("distance (default with a place), name (default without), updated (newest first), relevance (default with q and no place)", "distance"),
    ] = None,
    limit: Annotated[int, _q("hits per page", 20, ge=1, le=100)] = 20,
    cursor: Annotated[str | None, _q("next_cursor of the previous page", max_length=1000)] = None,
    total: Annotated[bool, _q("also count every match (slower)", True)] = False,
    facets: Annotated[bool, _q("also count matches per filter value, for a filter sidebar (slower)", True)] = False,
    beyond_radius: Annotated[
        bool,
        _q(
            "with a place and a radius, in distance order: when fewer than `limit` providers match within the radius, "
            "also answer the nearest matches beyond it in `beyond_radius` (at most 5, within 1,500 km; first page only)",
            True,
        ),
    ] = False,
    format: Annotated[Literal["json", "geojson"] | None, _q("geojson for an RFC 7946 FeatureCollection (or send Accept: application/geo+json)", "geojson")] = None,  # noqa: A002
) -> Response[SearchPage]:
    """Find published providers by place, radius or map viewport, with any mix of filters.

    Hits come in exact distance order (WGS84 geodesic, ties by id) and each carries its distance
    in `unit`. Without a place the search is nationwide, sorted by name (or relevance with `q`).
    Follow `next_cursor` to page: in distance order every match comes exactly once while listings
    change; in the other orders, every listing not changed during the walk does (a renamed or
    updated one takes its new place). `total` and `facets` are
    opt-in. Responses carry an ETag; send it back in If-None-Match to get 304 when nothing changed.

    Who: anyone. Anonymous clients share a per-address rate limit; partners send X-API-Key for their own.

    `/v1/search.geojson` takes the same parameters and always answers GeoJSON (for generated clients:
    one operation, one media type).

    Example: depression care within 25 miles of ZIP 10001:
    `GET /v1/search?near=10001&radius=25&condition=major-depression`
    """
    raw = RawSearch(
        lat=lat, lon=lon, near=near, bbox=bbox, radius=radius, unit=unit,
        condition=condition or [], condition_match=condition_match, service=service or [],
        route=[r.value for r in route or []], credential=[c.value for c in credential or []],
        specialty=[s.value for s in specialty or []], telehealth=telehealth,
        accessibility=[a.value for a in accessibility or []], rems_certified=rems_certified,
        accepting_new_patients=accepting_new_patients, insurance=insurance or [],
        payment=[p.value for p in payment or []], language=language or [], max_price=max_price, verified=verified,
        confirmed_within_days=confirmed_within_days,
        open_now=open_now, at=moment("at", at), q=q, group=group, sort=sort, limit=limit, cursor=cursor, total=total, facets=facets,
        beyond_radius=beyond_radius,
    )  # fmt: skip
    searcher: SearchService = state.search
    result = await searcher.find(read_connection, raw)
    result.ignored = sorted({name for name in request.query_params if name not in _known_parameters()})
    wants_geojson = (
        request.url.path.endswith(".geojson") or format == "geojson" or (format is None and GEOJSON in request.headers.get("accept", ""))
    )
    if wants_geojson:
        body, media_type = json.dumps(feature_collection(result.model()), separators=(",", ":")).encode(), GEOJSON
    else:
        body, media_type = result.json(), "application/json"
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    if result.ignored:  # accepted (partners may send extras), but named, so that a typo is seen
        headers["X-Ignored-Parameters"] = ", ".join(quote(name, safe="") for name in result.ignored)
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


@cache
def _known_parameters() -> frozenset[str]:
    """The query parameters search reads (``key`` is the edge's, taken out before the route sees it)."""
    return frozenset(inspect.signature(search.fn).parameters) - {"request", "state", "read_connection"}
