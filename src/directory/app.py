"""The Litestar application: routes, dependencies, error handling and the API documentation."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from directory import problems, tracing
from directory.accounts.routes import AccountController
from directory.accounts.service import AccountService
from directory.accounts.standing import Standing
from directory.collector import CollectorWatch, freeze_start_up_heap, thaw, young_threshold
from directory.consultations.delivery import Delivery
from directory.consultations.routes import ConsultationController, ConsultationModerationController, WithdrawalController
from directory.consultations.sealing import Sealer
from directory.consultations.service import Consultations
from directory.database import Database
from directory.dependencies import DEPENDENCIES
from directory.edge import EdgeMiddleware, Frame
from directory.errors import exception_handlers
from directory.fhir.outcomes import operation_outcome
from directory.fhir.routes import FhirController
from directory.fhir.service import FhirService
from directory.geocoding import Geocoder, warm_up
from directory.health import health, ready
from directory.hsds.routes import HsdsController
from directory.hsds.service import HsdsService
from directory.imports.routes import import_listings
from directory.imports.service import ImportService
from directory.intake import check_request
from directory.listings.confirmation import ConfirmationReminders
from directory.listings.queries import published_counts
from directory.listings.routes import ProviderController
from directory.listings.service import ListingService
from directory.listings.team import Team
from directory.logs import configure_logging
from directory.mail import MailQueue, mailer_for
from directory.metrics import PROMETHEUS, metrics
from directory.moderation.duplicates import Duplicates
from directory.moderation.reports import Reports
from directory.moderation.routes import ClaimController, ModerationController
from directory.moderation.service import ModerationService
from directory.partners.routes import ApiKeyController
from directory.partners.service import ApiKeyService
from directory.ratelimit import limit_store
from directory.recording import standard_recorder
from directory.search.backends import backend_for
from directory.search.routes import search
from directory.search.service import SearchService
from directory.settings import Settings, get_settings, with_secret
from directory.sync.routes import WebhookController, export_providers, list_changes
from directory.sync.sender import WebhookSender
from directory.sync.subscriptions import Subscriptions
from directory.taxonomy.routes import TaxonomyController
from directory.taxonomy.service import TaxonomyIndex, TaxonomyService
from directory.verification.registry import RegistryClient
from directory.verification.routes import VerificationController
from directory.verification.service import VerificationService
from directory.web import portal
from directory.web import routes as web
from directory.workers import stop as stop_workers

log = logging.getLogger(__name__)

DESCRIPTION = """\
The API behind a "find services near you" directory of ketamine and other infusion-therapy providers.

* Reads of published listings are open to everyone.
* Writes need `Authorization: Bearer <token>`.
* Every error is an RFC 9457 `application/problem+json` document; validation problems list each
  offending field in `errors` as `{"field", "reason"}`.
* Listing responses carry an `ETag` (the listing's version); send it as `If-Match` when changing
  the listing, and a stale one gets 412.
"""


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Infusion provider directory",
        version="1.0.0",
        description=DESCRIPTION,
        path="/schema",
        use_handler_docstrings=True,
        tags=[
            Tag(name="search", description="Find providers near a place"),
            Tag(name="sync", description="Mirror the directory: change feed, bulk export, webhooks; import listings from CSV"),
            Tag(name="listings", description="Providers (clinics) with their locations and clinicians"),
            Tag(name="accounts", description="Provider accounts and bearer tokens"),
            Tag(name="consultations", description="Patients ask a clinic to contact them; the clinic's inbox; withdrawal (personal data: sealed, owners only)"),
            Tag(name="moderation", description="Reviewing listings, claims, trust changes, reports and duplicates (moderators)"),
            Tag(name="partners", description="API keys for partner sites (administrators)"),
            Tag(name="taxonomy", description="Conditions treated and services offered"),
            Tag(name="fhir", description="FHIR R4, read-only: Organization, Location, HealthcareService, Practitioner, PractitionerRole"),
            Tag(name="hsds", description="Open Referral HSDS 3.0, read-only: organizations, services, service_at_locations, taxonomies"),
            Tag(name="operations", description="Health and readiness probes"),
        ],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="apiKey",
                    name="X-API-Key",
                    security_scheme_in="header",
                    description="a partner's secret key, for servers: its own rate limit and usage figures (read and sync scopes). "
                    "Sent from a web page (with an Origin header) it is refused with 403",
                ),
                "browserKey": SecurityScheme(
                    type="apiKey",
                    name="key",
                    security_scheme_in="query",
                    description="a partner's browser key (pk_...), safe to publish in HTML: read only, accepted only from "
                    "the pages of its allowed origins, answered with CORS headers for that origin; its own rate limit",
                ),
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="a token from POST /v1/auth/token (or the bootstrap DIRECTORY_ADMIN_TOKEN)",
                )
            }
        ),
        # The documentation page must work without internet: its assets are served by the app.
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url="/schema/assets/swagger-ui-bundle.js",
                css_url="/schema/assets/swagger-ui.css",
                standalone_preset_js_url="/schema/assets/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' type='image/png' href='/schema/assets/favicon-32x32.png'>",
            )
        ],
    )


async def _nudge_mail(request: Request) -> None:
    """Mail queued by a change is sent at once, not at the mail worker's next look."""
    if request.method == "POST" and hasattr(request.app.state, "mail_queue"):
        request.app.state.mail_queue.nudge()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = with_secret(settings or get_settings())
    configure_logging(settings.log_level, settings.log_format)
    tracer_provider = tracing.provider(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = Database.from_settings(settings)
        tracing.instrument(tracer_provider, database)
        geocoder = Geocoder(settings, database.writer)
        # Load the offline place index now, off the event loop, rather than on the first request.
        await anyio.to_thread.run_sync(warm_up)
        app.state.settings = settings
        app.state.database = database
        app.state.geocoder = geocoder
        recorder = standard_recorder(settings.webhook_queue_limit)
        app.state.listings = listings = ListingService(
            geocoder, settings.secret_key, recorder, settings.verification_max_age_days, settings.confirmation_max_age_days
        )
        app.state.moderation = ModerationService(listings)
        app.state.taxonomy = TaxonomyService(published_counts)
        app.state.limits = limits = limit_store(settings.redis_url, settings.redis_when_down)
        app.state.standing = standing = Standing(database.reader)
        app.state.accounts = AccountService(settings, limits, standing)
        app.state.api_keys = api_keys = ApiKeyService(database.reader, limits)
        app.state.search = SearchService(
            backend_for(database.dialect), geocoder, TaxonomyIndex(), settings.secret_key, settings.exact_count_limit,
            stale_after=listings.stale_after, unconfirmed_after=listings.unconfirmed_after,
        )
        app.state.fhir = FhirService(app.state.search, settings.secret_key)
        app.state.hsds = HsdsService(app.state.search, geocoder)
        app.state.imports = ImportService(listings)
        registry = RegistryClient(settings.npi_registry_url, timeout=settings.npi_timeout, retries=settings.npi_retries)
        app.state.verification = verification = VerificationService(
            database.writer, registry, recorder, on_account_npi_verified=app.state.moderation.grant_matching_claims,
            recheck_after=timedelta(days=settings.verification_max_age_days),
        )
        app.state.webhooks = sender = WebhookSender(database.writer, settings)
        app.state.subscriptions = Subscriptions(settings)
        app.state.mailer = mailer = mailer_for(settings)
        app.state.mail_queue = mail_queue = MailQueue(mailer, database.writer, settings.mail_retry_base_seconds, readers=database.reader)
        app.state.team = Team()
        app.state.reports = Reports(limits)
        app.state.duplicates = Duplicates(recorder)
        app.state.consultations = consultations = Consultations(
            Sealer.from_settings(settings), limits, settings.secret_key, timedelta(days=settings.consultation_retention_days), recorder
        )
        api_keys.sent_through = consultations.sent_through  # a key's usage counts the requests sent through it
        # Verification and webhook deliveries run off the request path, in this process unless turned off.
        workers = []
        if settings.verification_worker:
            workers.append(asyncio.create_task(verification.work(settings.verification_interval_seconds), name="verification worker"))
            reminders = ConfirmationReminders(
                database.writer,
                remind_after=timedelta(days=settings.confirmation_reminder_days),
                unconfirmed_after=listings.unconfirmed_after,
                public_url=settings.public_url,
            )
            workers.append(asyncio.create_task(reminders.work(settings.confirmation_interval_seconds), name="confirmation reminders"))
        if settings.webhook_worker:
            workers.append(asyncio.create_task(sender.work(settings.webhook_interval_seconds), name="webhook worker"))
        if settings.consultation_worker:
            delivery = Delivery(database.writer, consultations, mailer, settings.mail_retry_base_seconds)
            workers.append(asyncio.create_task(delivery.work(settings.consultation_interval_seconds), name="consultation delivery"))
        if settings.mail_worker:
            workers.append(asyncio.create_task(mail_queue.work(settings.mail_interval_seconds), name="mail worker"))
        # Everything start-up built lives as long as the worker: frozen, no collection walks it again.
        app.state.collector = watch = CollectorWatch()
        watch.install()
        workers.append(asyncio.create_task(watch.work(), name="collection metrics"))
        if settings.gc_freeze:
            freeze_start_up_heap()
        usual_thresholds = young_threshold(settings.gc_young_threshold)
        try:
            yield
        finally:
            watch.remove()
            gc.set_threshold(*usual_thresholds)
            if settings.gc_freeze:
                thaw()
            await stop_workers(workers, log)
            await sender.close()
            await registry.close()
            await geocoder.close()
            await limits.close()
            await database.dispose()
            await anyio.to_thread.run_sync(tracing.close, tracer_provider)

    app = Litestar(
        route_handlers=[
            *web.ROUTES,
            *portal.ROUTES,
            metrics,
            health,
            ready,
            search,
            list_changes,
            export_providers,
            import_listings,
            WebhookController,
            ProviderController,
            VerificationController,
            AccountController,
            ModerationController,
            ClaimController,
            ConsultationController,
            WithdrawalController,
            ConsultationModerationController,
            ApiKeyController,
            TaxonomyController,
            FhirController,
            HsdsController,
            create_static_files_router(
                path="/schema/assets", directories=[swagger_ui_path], include_in_schema=False
            ),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=exception_handlers(operation_outcome, portal.unmatched_page),
        lifespan=[lifespan],
        openapi_config=_openapi(),
        logging_config=None,  # configure_logging: Litestar's default would start a thread per app, never stopped
        cors_config=CORSConfig(
            allow_origins=settings.cors_origins,
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-API-Key"],
            expose_headers=["ETag", "Location", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"],
        )
        if settings.cors_origins
        else None,
        middleware=[EdgeMiddleware, PROMETHEUS.middleware],
        plugins=tracing.plugins(tracer_provider),
        before_request=check_request,
        after_response=_nudge_mail,
        request_max_body_size=settings.max_body_bytes,
    )
    problems.declare(app)
    problems.tighten(app)
    app.asgi_handler = Frame(app.asgi_handler)
    return app
