"""Errors as FHIR OperationOutcome, for FHIR clients: requests under /fhir that accept
application/fhir+json get their problem in that shape (the app passes this to the error handlers)."""

from __future__ import annotations

from litestar import Request, Response

from directory.errors import FieldError

_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 422: "invalid", 429: "throttled"}


def operation_outcome(
    request: Request, status: int, detail: str, errors: list[FieldError] | None, headers: dict[str, str] | None
) -> Response[dict[str, object]] | None:
    """The error as an OperationOutcome, if the request is a FHIR client's; else None."""
    if not (request.url.path.startswith("/fhir") and "application/fhir+json" in request.headers.get("accept", "")):
        return None
    code = _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues = [
        {"severity": "error", "code": code, "diagnostics": f"{e.field}: {e.reason}", "expression": [e.field]}
        for e in errors or []
    ] or [{"severity": "error" if status < 500 else "fatal", "code": code, "diagnostics": detail}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return Response(body, status_code=status, media_type="application/fhir+json", headers=headers)
