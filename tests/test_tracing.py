"""OpenTelemetry: with DIRECTORY_OTEL_ENDPOINT set, each request and its SQL reach an OTLP/HTTP
collector (here one of the test's own on 127.0.0.1, decoding what it receives with OpenTelemetry's
own protobuf definitions)."""

from __future__ import annotations

import pytest
from fake_http import LocalReceiver
from litestar.testing import AsyncTestClient

from directory.app import create_app


def spans(received: list[tuple[dict[str, str], bytes]]) -> list:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    found = []
    for headers, body in received:
        assert headers["content-type"] == "application/x-protobuf"
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            for scope in resource.scope_spans:
                found += [(service, span) for span in scope.spans]
    return found


def attributes(span) -> dict[str, object]:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


async def test_each_request_and_its_sql_are_traced_when_a_collector_is_configured(settings):
    pytest.importorskip("opentelemetry.sdk")
    collector = LocalReceiver()
    try:
        configured = settings.model_copy(update={"otel_endpoint": f"http://127.0.0.1:{collector.port}", "otel_service_name": "directory-test"})
        async with AsyncTestClient(app=create_app(configured)) as client:
            assert (await client.get("/v1/conditions", headers={"X-Request-Id": "trace-me-1"})).status_code == 200
            assert (await client.get("/health")).status_code == 200
        # Leaving the app flushed the batch to the collector.
        found = spans(collector.received)
        assert {service for service, _ in found} == {"directory-test"}
        [request] = [span for _, span in found if span.name == "GET /v1/conditions"]
        assert attributes(request)["http.request_id"] == "trace-me-1"
        assert attributes(request)["http.status_code"] == 200
        statements = [span for _, span in found if "db.statement" in attributes(span) and span.trace_id == request.trace_id]
        assert statements and all(attributes(s)["db.statement"].startswith("SELECT") for s in statements)  # without the values bound
        assert not [span for _, span in found if "/health" in span.name]  # polled routes are left out
    finally:
        collector.close()


def test_tracing_without_opentelemetry_installed_is_one_clear_error(settings, monkeypatch):
    import builtins

    from directory import tracing

    real = builtins.__import__

    def without_otel(name, *args, **kwargs):
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_otel)
    with pytest.raises(ValueError, match=r"DIRECTORY_OTEL_ENDPOINT is set but OpenTelemetry is not installed: pip install 'directory\[otel\]'"):
        tracing.provider(settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"}))
    assert tracing.provider(settings) is None  # off: nothing is imported
