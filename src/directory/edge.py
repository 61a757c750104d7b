"""What happens at the edge of every request: the rate limit, partner keys, and security headers on every answer.

Partners are limited per API key (each key has its own limit), everyone else per client address.
Counters live in the limit store: this process's memory, or Redis shared by every process.

A secret key comes in the X-API-Key header and never from a web page. A browser key (publishable)
comes in the ``key`` query parameter (a simple request: no CORS preflight) or X-API-Key, only for
reading, only from the pages of its allowed origins; its answers carry CORS headers for that origin.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from directory import i18n
from directory.errors import BadParameter, DirectoryError, PermissionDenied, TooManyRequests
from directory.logs import REQUEST_ID, request_id
from directory.ratelimit import Window
from directory.validation import NUL_REASON

#: One line per answer: method, the route's template (never the path or query as sent: a search's
#: place and condition, a link's token, stay out of the logs), status and milliseconds.
access_log = logging.getLogger("directory.access")

PERIOD_SECONDS = 60
_UNLIMITED_PREFIXES = ("/health", "/ready", "/schema", "/static/", "/embed.js", "/portal/static/")
#: The web pages set their own Content-Security-Policy (see ``directory.web``); /es/... are the Spanish ones.
_PAGE_PREFIXES = (
    "/providers/", "/claim", "/embed/", "/portal", "/how-we-check", "/consultations/",
    *(f"/{code}/" for code in i18n.LANGUAGES if code != i18n.DEFAULT),
)  # fmt: skip
_LANGUAGE_HOMES = ("/", *(f"/{code}" for code in i18n.LANGUAGES if code != i18n.DEFAULT))
_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# The documentation page runs Swagger UI's scripts and styles, all served by this app.
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'none'",
)


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class _HttpLayer:
    """An ASGI layer that acts on HTTP requests (``http``) and passes anything else (lifespan) through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send, scope["path"])
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        raise NotImplementedError


class Frame(_HttpLayer):
    """The outermost layer, around the framework's own (so unmatched paths, whose 404 the framework
    answers before any middleware runs, are framed too): the request id, the security headers and
    one access log line per answer."""

    async def http(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if path in _LANGUAGE_HOMES or path.startswith(_PAGE_PREFIXES):
            security = list(_API_HEADERS)
        else:
            security = [*_API_HEADERS, _DOCS_CSP if path.startswith("/schema") else _API_CSP]
        rid = request_id(_header(scope, b"x-request-id"))
        token = REQUEST_ID.set(rid)
        security.append((b"x-request-id", rid.encode()))
        started, status = time.perf_counter(), 0

        async def framed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *security]
            await send(message)

        try:
            await self.app(scope, receive, framed)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                # No route matched: the path as sent is not logged either (it may be anything typed).
                where = scope.get("path_template") or "(no route)"
                access_log.info("%s %s %d %.1f ms", scope["method"], where, status, (time.perf_counter() - started) * 1000)
            REQUEST_ID.reset(token)


class EdgeMiddleware(_HttpLayer):
    """Around each route: NUL characters, keys, the rate limit, CORS for browser keys."""

    async def http(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if (where := _nul_in(scope)) is not None:
            await _problem(send, path, BadParameter(where, NUL_REASON))
            return
        window: Window | None = None
        cors: dict[str, str] = {}
        if scope["method"] == "OPTIONS" and _PAGE_WRITES.fullmatch(path) and _header(scope, b"origin") is not None:
            await self._preflight(scope, send)
            return
        if not path.startswith(_UNLIMITED_PREFIXES) and scope["method"] != "OPTIONS":
            try:
                window, cors = await self._count(scope)
            except DirectoryError as error:
                await _problem(send, path, error)
                return
            if not window.allowed:
                error = TooManyRequests(f"more than {window.limit} requests a minute; slow down", headers={**window.headers(), **cors})
                await _problem(send, path, error)
                return

        extra = [(k.lower().encode(), v.encode()) for k, v in {**(window.headers() if window else {}), **cors}.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *extra]
                if scope["method"] == "OPTIONS":
                    headers = _honest_allow(scope, headers)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        """The browser's question before a partner page sends a consultation request (a JSON POST from
        another origin): yes, for the origins of the browser key in the query (``key``), else no."""
        state: Any = scope["litestar_app"].state
        origin = _header(scope, b"origin") or ""
        key = _take_query_key(scope)
        try:
            known = await state.api_keys.recognise(key) if key else None
        except DirectoryError:
            known = None  # a wrong key: the browser is told no (the POST itself would say why)
        allowed = known is not None and known.browser and not known.revoked and origin.lower() in known.allowed_origins
        headers = [(b"vary", b"Origin")]
        if allowed:
            headers += [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-methods", b"POST"),
                (b"access-control-allow-headers", b"content-type, accept"),
                (b"access-control-max-age", b"600"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _count(self, scope: Scope) -> tuple[Window, dict[str, str]]:
        """The caller's window of the rate limit, and the CORS headers a browser key's answer carries."""
        state: Any = scope["litestar_app"].state
        in_query = _take_query_key(scope)
        header = _header(scope, b"x-api-key")
        key = header if header is not None else in_query
        if key is not None:  # an empty key is a wrong key, not no key
            known = await state.api_keys.recognise(key)
            cors = _key_may_be_used_here(scope, known, in_url=key == in_query, configured=state.settings.cors_origins)
            # Routes read the recognised key from the request's state instead of looking it up again.
            scope.setdefault("state", {})["api_key"] = known
            await state.api_keys.count_use(known.id)
            return await state.limits.hit(f"key:{known.id}", known.rate_limit, PERIOD_SECONDS), cors
        limit = state.settings.anonymous_rate_limit
        return await state.limits.hit(f"addr:{_client_address(scope)}", limit, PERIOD_SECONDS), {}


#: The writes a partner's page may make with its browser key: a patient's consultation request.
_PAGE_WRITES = re.compile(r"/v1/providers/[^/]+/consultation-requests")
_BROWSER_EXPOSED = "ETag, Location, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"


def _take_query_key(scope: Scope) -> str | None:
    """The ``key`` query parameter, taken out of the query so that no route sees it as its own."""
    query: bytes = scope.get("query_string", b"")
    if b"key=" not in query:
        return None
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    keys = [value for name, value in pairs if name == "key"]
    if not keys:
        return None
    scope["query_string"] = urlencode([(name, value) for name, value in pairs if name != "key"]).encode("latin-1")
    return keys[-1]


def _key_may_be_used_here(scope: Scope, known: Any, *, in_url: bool, configured: list[str]) -> dict[str, str]:
    """Whether this key may be used by this request; a browser key's CORS headers if it may."""
    origin = _header(scope, b"origin")
    if not known.browser:
        if in_url:
            raise BadParameter("key", "a secret API key must not travel in a URL (logs and browser history keep it): send it as X-API-Key")
        if origin is not None:
            raise PermissionDenied(
                f"a secret API key was sent from a web page (Origin: {origin}); secret keys are for servers only. "
                "Use a browser key on web pages, and replace this key: anyone who saw the page may have it"
            )
        return {}
    cors = {} if origin is None or origin in configured else {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": _BROWSER_EXPOSED}
    if scope["method"] not in ("GET", "HEAD") and not (scope["method"] == "POST" and _PAGE_WRITES.fullmatch(scope.get("path", ""))):
        raise PermissionDenied("a browser key can only read (GET) and send consultation requests; changes need a secret key or an account", headers=cors)
    if origin is None:
        raise PermissionDenied("a browser key works only from the web pages of its allowed origins, and this request sent no Origin header")
    if origin.lower() not in known.allowed_origins:
        raise PermissionDenied(f"this browser key is not allowed on pages of {origin}; ask the directory to add that origin to the key", headers=cors)
    return cors


def _honest_allow(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """OPTIONS answers ``Allow`` with every method of the path. (The framework's own answer can name
    only the methods of the first controller that declared the path.)"""
    template = scope.get("path_template")
    if not template or not any(name == b"allow" for name, _ in headers):
        return headers
    found = {
        method
        for path, handlers in scope["litestar_app"].route_handler_method_map.items()
        if re.sub(r":[^}]+}", "}", path) == template
        for method in handlers
    }
    if not found:
        return headers
    methods = ", ".join(sorted(found | {"OPTIONS"})).encode()
    return [(name, methods if name == b"allow" else value) for name, value in headers]


def _nul_in(scope: Scope) -> str | None:
    """The query parameter (or ``path``) holding a NUL character, which no database column can store."""
    if "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return "query"


async def _problem(send: Send, path: str, error: DirectoryError) -> None:
    problem: dict[str, Any] = {"type": error.type, "title": error.title, "status": error.status, "detail": error.detail, "instance": path}
    if error.errors:
        problem["errors"] = [{"field": e.field, "reason": e.reason} for e in error.errors]
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
