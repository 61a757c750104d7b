"""The problem+json responses each route declares in the OpenAPI document.

Every route can answer 401 (an unknown API key or a bad bearer token), 403 and 400 (a partner key
used where it may not be: a browser key off its origins or for a write, a secret key from a web page
or in the URL) and 429 (the rate limit), except the health checks and the documentation; the rest follow from what the route takes: its
parameters (400), its guards (401, 403), a path parameter (404), a body (400, 413, 415, 422), If-Match
(412, 428), and writes (409). A route adds any other status it can answer in ``opt["problems"]``.
A test records every error the suite provokes and checks that its route declares it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Link, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, RequestBody, Schema
from litestar.params import KwargDefinition
from pydantic import BaseModel, Field

from directory.bodyrules import constrain
from directory.errors import PROBLEM_JSON

UNLIMITED_PREFIXES = ("/health", "/ready", "/schema")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    400: "a query, path or header parameter is invalid (the problem names it), or a secret API key was sent in the URL",
    401: "no credentials where they are needed, or an unknown API key or a bad or expired bearer token",
    403: "the caller may not do this; or an API key used where it may not be (a browser key off its origins or for a write, a secret key from a web page)",
    404: "no such resource, or not visible to this caller",
    406: "the media type asked for (Accept) is not one this operation answers",
    409: "the change conflicts with the current state (a value taken, a limit reached, a decision already made)",
    412: "If-Match names an older version: reload and apply the change again",
    413: "the body is too large",
    415: "the body is not of a supported media type",
    422: "the body is invalid (each offending field is named in `errors`)",
    428: "If-Match is required",
    429: "too many requests: wait for the time in Retry-After",
    503: "a service the answer needs is unavailable (see Retry-After), or a change met another at the same moment and was undone: send it again",
}


class FieldProblem(BaseModel):
    field: str = Field(description="the offending field or parameter, dotted for nested body fields", examples=["locations.0.postal_code"])
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/problems/validation"])
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the request's path")
    errors: list[FieldProblem] | None = Field(default=None, description="for 400 and 422: each offending field or parameter")


RESERVED = {"self", "request", "state", "data", "scope", "socket", "headers", "cookies", "query", "body"}


def _parameters(handler: HTTPRouteHandler) -> dict[str, Any]:
    """The request parameters a route reads (query, path, header), its own and its dependencies',
    each as its parameter declaration (a Litestar kwarg definition) or None."""
    dependencies = handler.resolve_dependencies()
    found: dict[str, Any] = {}
    pending = [{name: field.kwarg_definition for name, field in handler.parsed_fn_signature.parameters.items()}]
    seen: set[str] = set()
    while pending:
        for name, declaration in pending.pop().items():
            if name in RESERVED:
                continue
            if name in dependencies:
                if name not in seen:
                    seen.add(name)
                    pending.append(_declarations(dependencies[name].dependency))
                continue
            found[name] = declaration
    return found


def _declarations(function: Any) -> dict[str, Any]:
    """A dependency's parameters with their Litestar declarations (from ``Annotated``), if any."""
    hints = typing.get_type_hints(function, include_extras=True)
    declared: dict[str, Any] = {}
    for name in inspect.signature(function).parameters:
        extras = getattr(hints.get(name), "__metadata__", ())
        declared[name] = next((extra for extra in extras if isinstance(extra, KwargDefinition)), None)
    return declared


def _statuses(handler: HTTPRouteHandler, path: str) -> set[int]:
    statuses: set[int] = set()
    if not path.startswith(UNLIMITED_PREFIXES):
        statuses |= {400, 401, 403, 429, 503}  # 503: the database (or the rate-limit store) is unavailable
    for declaration in _parameters(handler).values():
        statuses.add(400)
        if getattr(declaration, "name", None) == "If-Match":
            statuses |= {412, 428}
    if "{" in path:
        statuses |= {400, 404}
    if handler.resolve_guards():
        statuses |= {401, 403}
    if "data" in handler.parsed_fn_signature.parameters:
        statuses |= {400, 413, 415, 422}  # 400: a body that is empty or not JSON at all; 415: not sent as JSON
    if set(handler.http_methods) & WRITES and 403 in statuses:
        statuses.add(409)
    if path.startswith("/fhir"):
        statuses.add(406)  # FHIR's content negotiation: XML is not served
    statuses |= set(handler.opt.get("problems", ()))
    return statuses


def declare(app: Litestar) -> None:
    """Give every route's OpenAPI entry the problem responses it can answer."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            declared: dict[int, Any] = dict(handler.responses or {})
            for status in sorted(_statuses(handler, route.path)):
                declared.setdefault(
                    status, ResponseSpec(data_container=Problem, description=DESCRIPTIONS[status], media_type=PROBLEM_JSON, generate_examples=False)
                )
            handler.responses = declared


def _models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def tighten(app: Litestar) -> None:
    """Say in the document what the generator leaves loose: If-Match is required by the changes
    that take it (without it they answer 428), and bodies that refuse unknown fields (422) are
    closed (``additionalProperties: false``)."""
    openapi = app.openapi_schema  # built once; the document served is this object
    for item in (openapi.paths or {}).values():
        for operation in (item.patch, item.delete):
            for parameter in (operation.parameters or []) if operation else []:
                if getattr(parameter, "name", None) == "If-Match" and getattr(parameter, "param_in", None) == "header":
                    parameter.required = True
    _media_types(openapi)
    _links(openapi)
    models = {model.__name__: model for model in _models(BaseModel)}
    for name, schema in ((openapi.components.schemas or {}) if openapi.components else {}).items():
        model = models.get(name) or models.get(getattr(schema, "title", None) or "")
        if model is None:
            continue
        if model.model_config.get("extra") == "forbid":
            schema.additional_properties = False
        constrain(schema, model)
        for field in getattr(model, "NOT_NULL", ()):
            if schema.properties and field in schema.properties:
                _not_nullable(schema.properties[field])


def _geojson() -> Schema:
    point = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "coordinates"],
        properties={"type": Schema(type=OpenAPIType.STRING, enum=["Point"]), "coordinates": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.NUMBER), min_items=2, max_items=2)},
    )
    feature = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "geometry", "properties"],
        properties={
            "type": Schema(type=OpenAPIType.STRING, enum=["Feature"]),
            "id": Schema(type=OpenAPIType.STRING),
            "geometry": point,
            "properties": Reference(ref="#/components/schemas/SearchHit", description="the hit: provider, location, distance, remote"),
        },
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        title="FeatureCollection",
        description="RFC 7946; the search's place, cursor, total and facets are in `properties`",
        required=["type", "features"],
        properties={
            "type": Schema(type=OpenAPIType.STRING, enum=["FeatureCollection"]),
            "features": Schema(type=OpenAPIType.ARRAY, items=feature),
            "properties": Schema(type=OpenAPIType.OBJECT),
        },
    )


def _media_types(openapi: Any) -> None:
    """The media types the generator cannot see: GeoJSON from search, NDJSON lines from the export,
    FHIR errors as OperationOutcome, and the CSV an import takes."""
    paths = openapi.paths or {}
    search = paths["/v1/search"].get.responses["200"]
    search.content["application/geo+json"] = OpenAPIMediaType(schema=_geojson())
    search.description = "the results: JSON, or GeoJSON with format=geojson or Accept: application/geo+json"
    geojson = paths["/v1/search.geojson"].get
    geojson.responses["200"] = OpenAPIResponse(description="the results as GeoJSON", content={"application/geo+json": OpenAPIMediaType(schema=_geojson())})
    geojson.parameters = [p for p in geojson.parameters or [] if getattr(p, "name", None) != "format"]
    geojson.summary = "Search providers near a place, as GeoJSON"
    export = paths["/v1/export/providers.ndjson"].get.responses["200"]
    export.content = {
        "application/x-ndjson": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.STRING,
                content_media_type="application/x-ndjson",
                description="one published listing per line, each the JSON of GET /v1/providers/{id} (the ProviderPublic schema)",
            )
        )
    }
    export.description = "every published listing, one JSON document per line"
    # One component, referred to by every FHIR error (an inline copy per response would be a model per response in generated clients).
    openapi.components.schemas["OperationOutcome"] = Schema(
        type=OpenAPIType.OBJECT,
        title="OperationOutcome",
        description="FHIR R4 OperationOutcome: every error under /fhir, each issue naming the parameter at fault in `expression`",
        required=["resourceType", "issue"],
        properties={
            "resourceType": Schema(type=OpenAPIType.STRING, enum=["OperationOutcome"]),
            "issue": Schema(
                type=OpenAPIType.ARRAY,
                min_items=1,
                items=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["severity", "code"],
                    properties={
                        "severity": Schema(type=OpenAPIType.STRING, enum=["fatal", "error", "warning", "information"]),
                        "code": Schema(type=OpenAPIType.STRING),
                        "diagnostics": Schema(type=OpenAPIType.STRING),
                        "expression": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
                    },
                ),
            ),
        },
    )
    outcome = Reference(ref="#/components/schemas/OperationOutcome")
    for path, item in paths.items():
        if path.startswith("/fhir/") and item.get:
            for code, response in item.get.responses.items():
                if code[0] in "45" and response.content is not None:
                    response.content = {"application/fhir+json": OpenAPIMediaType(schema=outcome)}
    text = Schema(type=OpenAPIType.STRING)
    openapi.components.schemas["ImportReport"] = Schema(
        type=OpenAPIType.OBJECT,
        title="ImportReport",
        description="what an import did (or would do, in a dry run) with each row",
        required=["atomic", "dry_run", "counts", "rows"],
        properties={
            "atomic": Schema(type=OpenAPIType.BOOLEAN),
            "dry_run": Schema(type=OpenAPIType.BOOLEAN),
            "counts": Schema(type=OpenAPIType.OBJECT, additional_properties=Schema(type=OpenAPIType.INTEGER), description="rows per result"),
            "rows": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["line", "external_id", "result", "id", "errors"],
                    properties={
                        "line": Schema(type=OpenAPIType.INTEGER, description="the row's line in the file (the header is line 1)"),
                        "external_id": Schema(one_of=[text, Schema(type=OpenAPIType.NULL)]),
                        "result": Schema(type=OpenAPIType.STRING, enum=["created", "updated", "unchanged", "invalid", "failed", "not_written", "valid"]),
                        "id": Schema(one_of=[Schema(type=OpenAPIType.STRING, format="uuid"), Schema(type=OpenAPIType.NULL)], description="the listing's id"),
                        "errors": Schema(
                            type=OpenAPIType.ARRAY,
                            items=Schema(type=OpenAPIType.OBJECT, required=["field", "reason"], properties={"field": text, "reason": text}),
                        ),
                    },
                ),
            ),
        },
    )
    imported = paths["/v1/imports"].post.responses["200"]
    imported.description = "the report of every row"
    imported.content = {"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ImportReport"))}
    paths["/v1/imports"].post.request_body = RequestBody(
        required=True,
        description="the CSV file itself (the layout of seed/import-template.csv), at most 10 MiB and 5,000 rows",
        content={"text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, content_media_type="text/csv", description="CSV with a header row"))},
    )


#: Where the id a creation answers with leads next (OpenAPI links: for clients and stateful testers).
#: (method, path, status) -> {link name: (method, path, {parameter: runtime expression})}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/v1/providers", "201"): {
        "GetListing": ("get", "/v1/providers/{key}", {"key": "$response.body#/id"}),
        "ChangeListing": ("patch", "/v1/providers/{key}", {"key": "$response.body#/id", "header.If-Match": "$response.header.ETag"}),
        "CloseListing": ("delete", "/v1/providers/{key}", {"key": "$response.body#/id", "header.If-Match": "$response.header.ETag"}),
        "AddLocation": ("post", "/v1/providers/{key}/locations", {"key": "$response.body#/id"}),
        "AddClinician": ("post", "/v1/providers/{key}/clinicians", {"key": "$response.body#/id"}),
        "ListingHistory": ("get", "/v1/providers/{key}/history", {"key": "$response.body#/id"}),
    },
    ("post", "/v1/providers/{key}/locations", "201"): {
        "ChangeLocation": ("patch", "/v1/providers/{key}/locations/{location_id}", {"key": "$request.path.key", "location_id": "$response.body#/id"}),
        "RemoveLocation": ("delete", "/v1/providers/{key}/locations/{location_id}", {"key": "$request.path.key", "location_id": "$response.body#/id"}),
    },
    ("post", "/v1/providers/{key}/clinicians", "201"): {
        "ChangeClinician": ("patch", "/v1/providers/{key}/clinicians/{clinician_id}", {"key": "$request.path.key", "clinician_id": "$response.body#/id"}),
        "RemoveClinician": ("delete", "/v1/providers/{key}/clinicians/{clinician_id}", {"key": "$request.path.key", "clinician_id": "$response.body#/id"}),
    },
    ("post", "/v1/webhooks", "201"): {
        "GetWebhook": ("get", "/v1/webhooks/{subscription_id}", {"subscription_id": "$response.body#/id"}),
        "ChangeWebhook": ("patch", "/v1/webhooks/{subscription_id}", {"subscription_id": "$response.body#/id"}),
        "DeleteWebhook": ("delete", "/v1/webhooks/{subscription_id}", {"subscription_id": "$response.body#/id"}),
    },
    ("post", "/v1/admin/api-keys", "201"): {"RevokeKey": ("delete", "/v1/admin/api-keys/{key_id}", {"key_id": "$response.body#/id"})},
    ("post", "/v1/accounts", "201"): {"SetRole": ("patch", "/v1/admin/accounts/{account_id}", {"account_id": "$response.body#/id"})},
}


def _links(openapi: Any) -> None:
    paths = openapi.paths or {}
    for (method, path, status), links in LINKS.items():
        response = getattr(paths[path], method).responses.get(status)
        if response is None:
            continue
        response.links = {
            name: Link(operation_id=getattr(paths[target], target_method).operation_id, parameters=dict(parameters))
            for name, (target_method, target, parameters) in links.items()
        }


def _not_nullable(schema: Any) -> None:
    """Take null out of a property's schema (a field a change may leave out but not clear)."""
    if getattr(schema, "one_of", None):
        schema.one_of = [one for one in schema.one_of if getattr(one, "type", None) != OpenAPIType.NULL]
    if isinstance(getattr(schema, "type", None), (list, tuple)):
        schema.type = [kind for kind in schema.type if kind != OpenAPIType.NULL]


def declared(app: Litestar) -> dict[tuple[str, str], set[int]]:
    """(method, path template) -> the statuses its OpenAPI entry declares."""
    document = app.openapi_schema.to_schema()
    found: dict[tuple[str, str], set[int]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                found[(method.upper(), path)] = {int(code) for code in operation["responses"]}
    return found
