"""What a request must be before its handler reads it: one value for a single-valued parameter, a
JSON body sent as JSON, not empty, not nested beyond reason. Each refusal is a problem naming the
parameter or the body (checked here once, for every route, instead of in each handler)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.handlers import HTTPRouteHandler

from directory.accounts.callers import identify
from directory.errors import BadParameter, UnsupportedMediaType
from directory.mail import set_base_url

#: How deeply a JSON body may nest: far beyond any body the API takes, well before the decoder's own limit.
MAX_JSON_DEPTH = 32
WRITES = ("POST", "PUT", "PATCH")

#: Where a route handler keeps what ``query_names`` found (in its own opt: it lives and goes with the handler).
_QUERY_NAMES = "_query_names"


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text opens more than ``limit`` arrays or objects inside one another."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case, at the speed of bytes.count
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def query_names(handler: HTTPRouteHandler) -> dict[str, bool]:
    """The query parameters a route reads, its own and its dependencies', each with whether it
    takes several values (a list) or one."""
    known = handler.opt.get(_QUERY_NAMES)
    if known is not None:
        return known
    dependencies = handler.resolve_dependencies()
    found: dict[str, bool] = {}
    pending, seen = [handler.parsed_fn_signature], set()
    while pending:
        for name, field in pending.pop().parameters.items():
            if name in dependencies:
                if name not in seen:
                    seen.add(name)
                    pending.append(dependencies[name].parsed_fn_signature)
                continue
            declared: Any = field.kwarg_definition
            if getattr(declared, "header", None) or getattr(declared, "cookie", None):
                continue
            found[getattr(declared, "query", None) or name] = field.is_non_string_sequence
    handler.opt[_QUERY_NAMES] = found
    return found


def _takes_json(handler: HTTPRouteHandler) -> bool:
    return "data" in handler.parsed_fn_signature.parameters


async def check_request(request: Request) -> None:
    """Litestar's before_request hook for every route."""
    handler = request.route_handler
    settings = request.app.state.settings
    set_base_url(settings.public_url or str(request.base_url))  # where the links of mails this request causes point
    if "authorization" in request.headers:
        # A token that is sent is checked on every route, public ones too: a wrong one is a 401, never ignored.
        identify(request, request.app.state.settings)
    if isinstance(handler, HTTPRouteHandler):
        names = query_names(handler)
        query = request.scope.get("query_string", b"")
        if query:
            counts = Counter(name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True))
            for name, count in counts.items():
                if count > 1 and names.get(name) is False:
                    raise BadParameter(name, f"takes one value, and was given {count}")
        if request.method in WRITES and _takes_json(handler):
            await _check_json_body(request)


async def _check_json_body(request: Request) -> None:
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body.strip():
        if media_type and not _is_json(media_type):
            raise UnsupportedMediaType(f"send the body as JSON with Content-Type: application/json, not {media_type}")
        raise BadParameter("body", "the request has no body: send a JSON object with Content-Type: application/json")
    if not _is_json(media_type):
        given = f"Content-Type: {media_type}" if media_type else "no Content-Type"
        raise UnsupportedMediaType(f"send the body as JSON with Content-Type: application/json ({given} was sent)")
    if json_too_deep(body):
        raise BadParameter("body", f"the JSON nests more than {MAX_JSON_DEPTH} arrays or objects inside one another")


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))
