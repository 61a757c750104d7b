"""The domain's errors, and the one place that turns any error into RFC 9457 problem+json.

Services raise the classes below; they know nothing of HTTP. Every problem document carries
``type``, ``title``, ``status`` and ``detail``; validation problems add ``errors``, a list of
``{"field": ..., "reason": ...}`` naming each offending field or parameter.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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


class Conflict(DirectoryError):
    status = 409
    type = "/problems/conflict"
    title = "Conflict"


class PreconditionFailed(DirectoryError):
    status = 412
    type = "/problems/precondition-failed"
    title = "Precondition failed"


class ServiceUnavailable(DirectoryError):
    status = 503
    type = "/problems/unavailable"
    title = "Service unavailable"


def invalid_input(error: Any, prefix: str = "") -> InvalidInput:
    """A pydantic ValidationError raised inside a service, as the 422 the client should get."""
    found = [
        FieldError(prefix + ".".join(str(part) for part in item["loc"]) or "body", _reason_of(item["msg"]))
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
    if _wants_operation_outcome(request):
        return _operation_outcome(status, detail, errors, headers)
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body["instance"] = request.url.path
    if errors:
        body["errors"] = [asdict(error) for error in errors]
    body.update(extra or {})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 422: "invalid", 429: "throttled"}


def _wants_operation_outcome(request: Request) -> bool:
    """FHIR clients (under /fhir, accepting application/fhir+json) get errors as an OperationOutcome."""
    return request.url.path.startswith("/fhir") and "application/fhir+json" in request.headers.get("accept", "")


def _operation_outcome(
    status: int, detail: str, errors: list[FieldError] | None, headers: dict[str, str] | None
) -> Response[dict[str, Any]]:
    code = _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues = [
        {"severity": "error", "code": code, "diagnostics": f"{e.field}: {e.reason}", "expression": [e.field]}
        for e in errors or []
    ] or [{"severity": "error" if status < 500 else "fatal", "code": code, "diagnostics": detail}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return Response(body, status_code=status, media_type="application/fhir+json", headers=headers)


_PARAMETER_SOURCES = {"query", "path", "header", "cookie"}


def _field_of(item: dict[str, Any]) -> str:
    key = item.get("key") or ""
    if key.startswith("data."):
        key = key[len("data.") :]
    return key or "body"


def _is_parameter(item: dict[str, Any]) -> bool:
    # Litestar marks parameter errors with their source; body errors come without one.
    return str(getattr(item.get("source"), "value", item.get("source"))) in _PARAMETER_SOURCES


def _reason_of(message: str) -> str:
    # pydantic prefixes custom messages with "Value error, ".
    return message.removeprefix("Value error, ")


def handle_directory_error(request: Request, error: DirectoryError) -> Response[dict[str, Any]]:
    return problem(
        request,
        error.status,
        error.title,
        error.detail,
        type_=error.type,
        errors=error.errors,
        headers=error.headers,
        extra=getattr(error, "extra", None),
    )


def handle_validation_exception(request: Request, error: ValidationException) -> Response[dict[str, Any]]:
    items = error.extra if isinstance(error.extra, list) else []
    errors = [FieldError(_field_of(item), _reason_of(str(item.get("message", "")))) for item in items]
    in_body = not items or not all(_is_parameter(item) for item in items)
    if not errors:
        errors = [FieldError("body", _reason_of(error.detail))]
    if in_body:
        return problem(
            request, 422, InvalidInput.title, "the request body is invalid", type_=InvalidInput.type, errors=errors
        )
    return problem(
        request,
        400,
        BadParameter.title,
        "; ".join(f"{e.field}: {e.reason}" for e in errors),
        type_=BadParameter.type,
        errors=errors,
    )


def handle_http_exception(request: Request, error: HTTPException) -> Response[dict[str, Any]]:
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request too large", 415: "Unsupported media type"}
    return problem(
        request,
        error.status_code,
        title.get(error.status_code, "Error"),
        error.detail,
        headers=error.headers or None,
    )


def handle_unexpected(request: Request, error: Exception) -> Response[dict[str, Any]]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(request, 500, "Internal error", "the server failed to answer; the error was logged")


EXCEPTION_HANDLERS = {
    DirectoryError: handle_directory_error,
    ValidationException: handle_validation_exception,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
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
]


class PreconditionRequired(DirectoryError):
    status = 428
    type = "/problems/precondition-required"
    title = "Precondition required"


class TooManyRequests(DirectoryError):
    status = 429
    type = "/problems/too-many-requests"
    title = "Too many requests"
