"""OpenTelemetry tracing, when DIRECTORY_OTEL_ENDPOINT names an OTLP/HTTP collector: a span for
each request (named by its route template, with method, status and the request id) and a child span
for each SQL statement, exported in batches to ``<endpoint>/v1/traces``.

The OpenTelemetry packages are an extra (``pip install 'directory[otel]'``); nothing is imported, and
nothing costs, when tracing is not configured.
"""

from __future__ import annotations

from typing import Any

from directory.database import Database
from directory.logs import REQUEST_ID
from directory.settings import Settings

#: Routes not traced: scraped or polled every few seconds, they would drown the real traffic.
UNTRACED = ["/metrics", "/health", "/ready"]


def provider(settings: Settings) -> Any | None:
    """The tracer provider exporting to the configured collector, or None when tracing is off."""
    if not settings.otel_endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ValueError("DIRECTORY_OTEL_ENDPOINT is set but OpenTelemetry is not installed: pip install 'directory[otel]'") from None
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint.rstrip("/") + "/v1/traces", timeout=5)
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    return tracer_provider


def plugins(tracer_provider: Any | None) -> list[Any]:
    """Litestar's OpenTelemetry plugin bound to our provider (none when tracing is off)."""
    if tracer_provider is None:
        return []
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    def request_id(span: Any, scope: Any) -> None:
        # The frame, outside this middleware, has taken the request's id (the one in the logs and
        # on the answer) before the span starts.
        if span is not None and span.is_recording():
            span.set_attribute("http.request_id", REQUEST_ID.get())

    config = OpenTelemetryConfig(tracer_provider=tracer_provider, exclude=UNTRACED, server_request_hook_handler=request_id)
    return [OpenTelemetryPlugin(config)]


def instrument(tracer_provider: Any | None, database: Database) -> None:
    """A span per SQL statement on both engines (writer and reader)."""
    if tracer_provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    engines = {id(engine): engine.sync_engine for engine in (database.write_engine, database.read_engine)}
    # skip_dep_check: the instrumentor's declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged.
    SQLAlchemyInstrumentor().instrument(engines=list(engines.values()), tracer_provider=tracer_provider, enable_commenter=False, skip_dep_check=True)


def close(tracer_provider: Any | None) -> None:
    """Send what is buffered and stop (blocking: call it off the event loop)."""
    if tracer_provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()  # the instrumentor is one per process: free it for the next app
    tracer_provider.shutdown()
