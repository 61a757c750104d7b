"""What an operator watches: Prometheus metrics at /metrics, and a request id on every answer and log line.

Per route (its path template, not the raw path): request counts by status, latency histograms,
requests in progress, errors, from Litestar's Prometheus middleware. Read at each scrape: the
database pool, the webhook and mail queues (depth and oldest waiting age), the verification queue, and
whether the rate-limit store is shared or degraded. With several processes, set
PROMETHEUS_MULTIPROC_DIR to a folder the processes share (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest, multiprocess
from sqlalchemy import func, select

from directory.columns import utcnow
from directory.listings.models import Provider
from directory.mail import QueuedMail
from directory.ratelimit import DegradingLimitStore
from directory.sync.models import DeliveryStatus, WebhookDelivery

PROMETHEUS = PrometheusConfig(
    app_name="directory",
    prefix="directory",
    group_path=True,
    exclude=["^/metrics", "^/static/", "^/health"],
    buckets=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
)

POOL_IN_USE = Gauge("directory_db_pool_in_use", "database connections checked out of the write pool", multiprocess_mode="livesum")
POOL_SIZE = Gauge("directory_db_pool_size", "connections the write pool keeps", multiprocess_mode="livemax")
WEBHOOK_QUEUE = Gauge("directory_webhook_queue_depth", "webhook deliveries waiting to be delivered", multiprocess_mode="livemax")
WEBHOOK_OLDEST = Gauge("directory_webhook_oldest_pending_seconds", "age of the oldest undelivered webhook delivery", multiprocess_mode="livemax")
VERIFICATION_DUE = Gauge("directory_verification_due", "listings whose registry check is due now", multiprocess_mode="livemax")
MAIL_QUEUE = Gauge("directory_mail_queue_depth", "mails waiting to be handed to the SMTP server", multiprocess_mode="livemax")
MAIL_OLDEST = Gauge("directory_mail_oldest_pending_seconds", "age of the oldest mail not yet handed over", multiprocess_mode="livemax")
LIMITS_SHARED = Gauge("directory_rate_limit_store_up", "1 when rate limits are counted in the shared store (Redis), 0 when degraded; absent without Redis", multiprocess_mode="livemin")


async def _measure(state: State) -> None:
    state.collector.flush()  # this worker's collections up to now (the others flush every quarter second)
    database = state.database
    pool = getattr(database.write_engine.sync_engine, "pool", None)
    if pool is not None and hasattr(pool, "checkedout"):
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.size())
    async with database.reader() as session:
        pending = WebhookDelivery.status == DeliveryStatus.pending.value
        depth, oldest = (await session.execute(select(func.count(), func.min(WebhookDelivery.created_at)).where(pending))).one()
        due = (await session.execute(select(func.count()).where(Provider.verification_due_at <= utcnow()))).scalar_one()
        mails, oldest_mail = (await session.execute(select(func.count(), func.min(QueuedMail.created_at)).where(QueuedMail.status == "pending"))).one()
    MAIL_QUEUE.set(mails)
    MAIL_OLDEST.set(max(0.0, (utcnow() - oldest_mail).total_seconds()) if oldest_mail is not None else 0)
    WEBHOOK_QUEUE.set(depth)
    if oldest is not None:
        WEBHOOK_OLDEST.set(max(0.0, (utcnow() - oldest).total_seconds()))
    else:
        WEBHOOK_OLDEST.set(0)
    VERIFICATION_DUE.set(due)
    if isinstance(state.limits, DegradingLimitStore):
        LIMITS_SHARED.set(0 if state.limits.down_since is not None else 1)


@get("/metrics", include_in_schema=False, opt={"web": True})
async def metrics(state: State) -> Response[bytes]:
    """Prometheus text format. Who: anyone who can reach it, within the per-address rate limit (each
    scrape runs two counting queries): keep it off the public network."""
    await _measure(state)
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
