"""The domain's errors, and the one place that turns any error into RFC 9457 problem+json.

Services raise the classes below; they know nothing of HTTP. Every problem document carries
``type``, ``title``, ``status`` and ``detail``; validation problems add ``errors``, a list of
``{"field": ..., "reason": ...}`` naming each offending field or parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from directory import i18n
from directory.i18n import problems

logger = logging.getLogger("directory")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class DirectoryError(Exception):
    """Base of every error the service layer raises on purpose."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra: dict[str, Any] = {}
        """Extension members of the problem document (RFC 9457 section 3.2)."""


class BadParameter(DirectoryError):
    """A query or path parameter is malformed."""

    status = 400
    type = "/problems/bad-parameter"
    title = "Invalid parameter"

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}", [FieldError(field, reason)])


class InvalidInput(DirectoryError):
    """The request is well formed but its content breaks a rule (unknown code, unplaceable address...)."""

    status = 422
    type = "/problems/validation"
    title = "Invalid input"

    def __init__(self, field: str, reason: str, more: list[FieldError] | None = None):
        errors = [FieldError(field, reason), *(more or [])]
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors), errors)


class NotAuthenticated(DirectoryError):
    status = 401
    type = "/problems/not-authenticated"
    title = "Authentication required"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="directory"'})


class PermissionDenied(DirectoryError):
    status = 403
    type = "/problems/forbidden"
    title = "Not allowed"


class NotFound(DirectoryError):
    status = 404
    type = "/problems/not-found"
    title = "Not found"


class NotAcceptable(DirectoryError):
    status = 406
    type = "/problems/not-acceptable"
    title = "Not acceptable"


class Conflict(DirectoryError):
    status = 409
    type = "/problems/conflict"
    title = "Conflict"


class PreconditionFailed(DirectoryError):
    status = 412
    type = "/problems/precondition-failed"
    title = "Precondition failed"


class UnsupportedMediaType(DirectoryError):
    status = 415
    type = "/problems/unsupported-media-type"
    title = "Unsupported media type"


class ServiceUnavailable(DirectoryError):
    status = 503
    type = "/problems/unavailable"
    title = "Service unavailable"


def _dotted(loc: Any) -> str:
    """A validator's location as the field's dotted name (a refused mapping key is named by the key
    itself: ``translations.fr``, not ``translations.fr.[key]``)."""
    return ".".join(str(part) for part in loc if part != "[key]")


def invalid_input(error: Any, prefix: str = "") -> InvalidInput:
    """A pydantic ValidationError raised inside a service, as the 422 the client should get."""
    found = [
        FieldError(prefix + _dotted(item["loc"]) or "body", _reason_of(item["msg"]))
        for item in error.errors()
    ]
    first, *more = found or [FieldError(prefix.rstrip(".") or "body", "invalid")]
    return InvalidInput(first.field, first.reason, more)


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body["instance"] = request.url.path
    if errors:
        body["errors"] = [asdict(error) for error in errors]
    body.update(extra or {})
    # In the caller's language where the catalog has the words (English otherwise, and said so).
    language = i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
    whole = problems.localize(body, language)
    headers = {**(headers or {}), "Content-Language": language if whole else i18n.DEFAULT, "Vary": "Accept-Language"}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_PARAMETER_SOURCES = {"query", "path", "header", "cookie"}


def _field_of(item: dict[str, Any]) -> str:
    key = item.get("key") or ""
    if key.startswith("data."):
        key = key[len("data.") :]
    key = key.replace(".[key]", "")  # a refused mapping key is named by itself: translations.fr
    if str(getattr(item.get("source"), "value", item.get("source"))) == "header":
        return "-".join(part.capitalize() for part in key.split("_"))  # as the header is spelled: If-Match
    return key or "body"


def _is_parameter(item: dict[str, Any]) -> bool:
    # Litestar marks parameter errors with their source; body errors come without one.
    return str(getattr(item.get("source"), "value", item.get("source"))) in _PARAMETER_SOURCES


def _reason_of(message: str) -> str:
    # pydantic prefixes custom messages with "Value error, ".
    return message.removeprefix("Value error, ")


#: Another shape for some clients' errors (FHIR's OperationOutcome): a response, or None to keep problem+json.
Alternative = Callable[[Request, int, str, list[FieldError] | None, dict[str, str] | None], Response[Any] | None]


def exception_handlers(*alternatives: Alternative) -> dict[type[Exception], Callable[[Request, Any], Response[Any]]]:
    """The app's error handlers: every error as problem+json, unless an alternative renders it."""

    def render(
        request: Request, status: int, title: str, detail: str, *, type_: str = "about:blank",
        errors: list[FieldError] | None = None, headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
    ) -> Response[Any]:  # fmt: skip
        for alternative in alternatives:
            if (response := alternative(request, status, detail, errors, headers)) is not None:
                return response
        return problem(request, status, title, detail, type_=type_, errors=errors, headers=headers, extra=extra)

    def directory_error(request: Request, error: DirectoryError) -> Response[Any]:
        return render(
            request, error.status, error.title, error.detail, type_=error.type, errors=error.errors,
            headers=error.headers, extra=getattr(error, "extra", None),
        )  # fmt: skip

    def validation_error(request: Request, error: ValidationException) -> Response[Any]:
        items = error.extra if isinstance(error.extra, list) else []
        errors = [FieldError(_field_of(item), _reason_of(str(item.get("message", "")))) for item in items]
        in_body = not items or not all(_is_parameter(item) for item in items)
        if not errors:
            errors = [FieldError("body", _reason_of(error.detail))]
        if in_body:
            return render(request, 422, InvalidInput.title, "the request body is invalid", type_=InvalidInput.type, errors=errors)
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        return render(request, 400, BadParameter.title, detail, type_=BadParameter.type, errors=errors)

    def http_error(request: Request, error: HTTPException) -> Response[Any]:
        if (body_errors := _misread_body_errors(error)) is not None:
            return render(request, 422, InvalidInput.title, "the request body is invalid", type_=InvalidInput.type, errors=body_errors)
        if error.status_code >= 500:
            return unexpected(request, error)
        return render(request, error.status_code, _HTTP_TITLES.get(error.status_code, "Error"), error.detail, headers=error.headers or None)

    def unexpected(request: Request, error: Exception) -> Response[Any]:
        if database_unreachable(error):
            logger.error("the database is unreachable on %s %s: %s", request.method, request.url.path, _first_line(error))
            outage = ServiceUnavailable("the database is unavailable; try again shortly", headers={"Retry-After": str(DATABASE_RETRY_AFTER)})
            return directory_error(request, outage)
        if changes_collided(error):
            logger.warning("a change collided with another on %s %s and was undone: %s", request.method, request.url.path, _first_line(error))
            collision = ServiceUnavailable(COLLIDED, headers={"Retry-After": "1"})
            return directory_error(request, collision)
        logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        return render(request, 500, "Internal error", "the server failed to answer; the error was logged")

    return {DirectoryError: directory_error, ValidationException: validation_error, HTTPException: http_error, Exception: unexpected}


def _misread_body_errors(error: HTTPException) -> list[FieldError] | None:
    """The body's field errors, when Litestar took them for its own.

    Litestar reports a body field whose name is also a dependency's (a JSON key ``listings`` or
    ``caller``) as a 500, taking pydantic's error for one about the dependency. Our dependencies are
    never validated by pydantic, so such an error is always the client's body."""
    if error.status_code != 500:
        return None
    cause = error.__cause__
    items = getattr(cause, "errors", None)
    if type(cause).__name__ != "ExtendedMsgSpecValidationError" or not isinstance(items, list) or not items:
        return None
    return [
        FieldError(_dotted(item.get("loc", ())) or "body", _reason_of(str(item.get("msg", "invalid"))))
        for item in items
    ]


#: Seconds a client is asked to wait when the database does not answer (a restart takes a few).
DATABASE_RETRY_AFTER = 5

#: Errors of a database connection that is refused, lost or cannot be opened: the service is
#: unavailable for now (503), not broken (500). By class name, to need no driver here.
_UNREACHABLE = {
    "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError", "TimeoutError", "gaierror",
    "ConnectionDoesNotExistError", "ConnectionFailureError", "CannotConnectNowError", "AdminShutdownError",
    "CrashShutdownError", "InterfaceError", "TooManyConnectionsError", "ConnectionRejectionError",
}  # fmt: skip


def causes(error: BaseException) -> list[BaseException]:
    """The error and every error it came from (its cause, context and driver error), each once, with
    the errors inside an exception group and theirs (anyio's task groups wrap a failing lookup in one)."""
    found: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(reversed(current.exceptions))
        # SQLAlchemy keeps the driver's error as ``orig``: a re-raise ``from`` something else (as
        # Litestar's dependency resolution does with its task group) replaces the cause, not that.
        pending.extend(e for e in (current.__context__, current.__cause__, getattr(current, "orig", None)) if isinstance(e, BaseException))
    return found


#: SQLSTATEs of a transaction the database undid because it met another one: a deadlock, or a
#: serialization failure. Nothing of it was written, and the same request sent again succeeds.
_COLLISIONS = {"40P01", "40001"}
COLLIDED = "another change to the same listings was written at the same moment; nothing of this one was written: send it again"


def changes_collided(error: BaseException) -> bool:
    """Whether the database undid this transaction for meeting another one (PostgreSQL's deadlock
    detector, a serialization failure): the client should retry, as a 503 with Retry-After says."""
    return any(getattr(e, "sqlstate", None) in _COLLISIONS for e in causes(error))


def database_unreachable(error: BaseException) -> bool:
    """Whether the error, or one it came from, is the database connection failing."""
    return any(type(e).__name__ in _UNREACHABLE or getattr(e, "connection_invalidated", False) for e in causes(error))


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


_HTTP_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request too large", 415: "Unsupported media type"}


__all__ = [
    "exception_handlers",
    "BadParameter",
    "Conflict",
    "DirectoryError",
    "FieldError",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
    "PreconditionRequired",
    "ServiceUnavailable",
    "TooManyRequests",
    "UnsupportedMediaType",
]


class PreconditionRequired(DirectoryError):
    status = 428
    type = "/problems/precondition-required"
    title = "Precondition required"


class TooManyRequests(DirectoryError):
    status = 429
    type = "/problems/too-many-requests"
    title = "Too many requests"
