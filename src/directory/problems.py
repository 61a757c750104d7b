"""The problem+json responses each route declares in the OpenAPI document.

Every route can answer 401 (an unknown API key or a bad bearer token), 403 and 400 (a partner key
used where it may not be: a browser key off its origins or for a write, a secret key from a web page
or in the URL) and 429 (the rate limit), except the health checks and the documentation; the rest follow from what the route takes: its
parameters (400), its guards (401, 403), a path parameter (404), a body (400, 413, 422), If-Match
(412, 428), and writes (409). A route adds any other status it can answer in ``opt["problems"]``.
A test records every error the suite provokes and checks that its route declares it.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import KwargDefinition
from pydantic import BaseModel, Field

from directory.errors import PROBLEM_JSON

UNLIMITED_PREFIXES = ("/health", "/ready", "/schema")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    400: "a query, path or header parameter is invalid (the problem names it), or a secret API key was sent in the URL",
    401: "no credentials where they are needed, or an unknown API key or a bad or expired bearer token",
    403: "the caller may not do this; or an API key used where it may not be (a browser key off its origins or for a write, a secret key from a web page)",
    404: "no such resource, or not visible to this caller",
    409: "the change conflicts with the current state (a value taken, a limit reached, a decision already made)",
    412: "If-Match names an older version: reload and apply the change again",
    413: "the body is too large",
    415: "the body is not of a supported media type",
    422: "the body is invalid (each offending field is named in `errors`)",
    428: "If-Match is required",
    429: "too many requests: wait for the time in Retry-After",
    503: "a service the answer needs is unavailable",
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
        statuses |= {400, 401, 403, 429}
    for declaration in _parameters(handler).values():
        statuses.add(400)
        if getattr(declaration, "name", None) == "If-Match":
            statuses |= {412, 428}
    if "{" in path:
        statuses |= {400, 404}
    if handler.resolve_guards():
        statuses |= {401, 403}
    if "data" in handler.parsed_fn_signature.parameters:
        statuses |= {400, 413, 422}  # 400: a body that is not JSON at all
    if set(handler.http_methods) & WRITES and 403 in statuses:
        statuses.add(409)
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


def declared(app: Litestar) -> dict[tuple[str, str], set[int]]:
    """(method, path template) -> the statuses its OpenAPI entry declares."""
    document = app.openapi_schema.to_schema()
    found: dict[tuple[str, str], set[int]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                found[(method.upper(), path)] = {int(code) for code in operation["responses"]}
    return found
