"""Errors as FHIR OperationOutcome: every error under /fhir is answered in that shape, whatever
the Accept header (the app passes this to the error handlers)."""

from __future__ import annotations

from litestar import Request, Response

from directory.errors import FieldError

_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 406: "not-supported", 422: "invalid", 429: "throttled"}

def only_xml(accept: str) -> bool:
    """Whether Accept asks for XML and nothing this server can answer (JSON, or anything)."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    return bool(kinds) and all("xml" in kind for kind in kinds)


def operation_outcome(
    request: Request, status: int, detail: str, errors: list[FieldError] | None, headers: dict[str, str] | None
) -> Response[dict[str, object]] | None:
    """The error as an OperationOutcome, for every request under /fhir; else None (problem+json)."""
    if not (request.url.path == "/fhir" or request.url.path.startswith("/fhir/")):
        return None
    code = _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues = [
        {"severity": "error", "code": code, "diagnostics": f"{e.field}: {e.reason}", "expression": [e.field]}
        for e in errors or []
    ] or [{"severity": "error" if status < 500 else "fatal", "code": code, "diagnostics": detail}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return Response(body, status_code=status, media_type="application/fhir+json", headers=headers)
