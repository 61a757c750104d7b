"""Errors as FHIR OperationOutcome, for FHIR clients: requests under /fhir that accept
application/fhir+json get their problem in that shape (the app passes this to the error handlers)."""

from __future__ import annotations

from litestar import Request, Response

from directory.errors import FieldError

_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 406: "not-supported", 422: "invalid", 429: "throttled"}

#: What FHIR's _format may say for JSON (its mime types and short forms).
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}


def wants_fhir_json(accept: str, fmt: str | None) -> bool:
    """A FHIR client's request: _format names JSON (it overrides Accept, as FHIR's REST rules say), or Accept asks for FHIR JSON."""
    if fmt is not None:
        return fmt.strip().lower() in JSON_FORMATS
    return "application/fhir+json" in accept or "application/json+fhir" in accept


def only_xml(accept: str) -> bool:
    """Whether Accept asks for XML and nothing this server can answer (JSON, or anything)."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    return bool(kinds) and all("xml" in kind for kind in kinds)


def operation_outcome(
    request: Request, status: int, detail: str, errors: list[FieldError] | None, headers: dict[str, str] | None
) -> Response[dict[str, object]] | None:
    """The error as an OperationOutcome, if the request is a FHIR client's; else None."""
    if not (request.url.path.startswith("/fhir") and wants_fhir_json(request.headers.get("accept", ""), request.query_params.get("_format"))):
        return None
    code = _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues = [
        {"severity": "error", "code": code, "diagnostics": f"{e.field}: {e.reason}", "expression": [e.field]}
        for e in errors or []
    ] or [{"severity": "error" if status < 500 else "fatal", "code": code, "diagnostics": detail}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return Response(body, status_code=status, media_type="application/fhir+json", headers=headers)
