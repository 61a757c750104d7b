"""The webhook worker: each subscription's deliveries are one queue, sent in order from its head.

A queue is due when its subscription's ``next_attempt_at`` has passed. A worker (in the API process
unless turned off; several processes may run one) claims due queues with a conditional update of
``claimed_until`` (a lease, which another worker may take over once it has run out), sends the first deliveries of each in order until one fails, and records the
outcome. A failure holds the whole queue: nothing behind the head is sent before it, and the wait
before the next try (30 s, doubling, at most an hour) belongs to the queue, not to a delivery.
After ``webhook_pause_after`` failures in a row the subscription is paused; its queue keeps filling
(up to ``webhook_queue_limit``) and is probed at the same waits with its head delivery: the first
success resumes it and the queue drains in order. A subscription its owner paused is not probed.
No delivery is ever given up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.columns import utcnow
from directory.errors import InvalidInput
from directory.settings import Settings
from directory.sync.models import DeliveryStatus, WebhookDelivery, WebhookStatus, WebhookSubscription
from directory.sync.webhooks import check_url, pinned, sign
from directory.workers import drain_forever

log = logging.getLogger("directory.webhooks")

LONGEST_WAIT = timedelta(hours=1)
USER_AGENT = "directory-webhooks/1"
#: Queues taken per pass, and deliveries sent from each queue's head per pass.
QUEUES_PER_PASS = 20
DELIVERIES_PER_QUEUE = 20


@dataclass
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None


def wait_after(settings: Settings, failures: int) -> timedelta:
    """How long a queue waits after its ``failures``-th failed attempt in a row."""
    return min(timedelta(seconds=settings.webhook_retry_base_seconds * 2 ** min(failures - 1, 30)), LONGEST_WAIT)


class WebhookSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.client = httpx.AsyncClient(timeout=settings.webhook_timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        await self.client.aclose()

    async def run_due(self) -> int:
        """Send from the head of every due queue; how many deliveries were attempted."""
        claimed = await self._claim()
        if not claimed:
            return 0
        # Different endpoints are served side by side; one endpoint's deliveries one after another.
        results = await asyncio.gather(*(self._send_in_turn(subscription, queue) for subscription, queue in claimed))
        async with self.sessions() as session, session.begin():
            for (subscription, queue), outcomes in zip(claimed, results, strict=True):
                await self._record(session, subscription, queue, outcomes)
        return sum(len(outcomes) for outcomes in results)

    async def _claim(self) -> list[tuple[WebhookSubscription, list[WebhookDelivery]]]:
        now = self.clock()
        # Long enough for one endpoint to take a pass's deliveries in turn, each to its timeout;
        # after that another worker may take a queue whose worker died.
        lease = timedelta(seconds=DELIVERIES_PER_QUEUE * self.settings.webhook_timeout + 60)
        queued = exists().where(WebhookDelivery.subscription_id == WebhookSubscription.id, WebhookDelivery.status == DeliveryStatus.pending.value)
        sendable = or_(
            WebhookSubscription.status == WebhookStatus.active.value,
            and_(WebhookSubscription.status == WebhookStatus.paused.value, WebhookSubscription.paused_by == "failures"),
        )
        due = and_(
            or_(WebhookSubscription.next_attempt_at.is_(None), WebhookSubscription.next_attempt_at <= now),
            or_(WebhookSubscription.claimed_until.is_(None), WebhookSubscription.claimed_until <= now),
        )
        claimed = []
        async with self.sessions() as session, session.begin():
            subscriptions = (
                await session.execute(
                    select(WebhookSubscription).where(sendable, due, queued).order_by(WebhookSubscription.next_attempt_at).limit(QUEUES_PER_PASS)
                )
            ).scalars().all()  # fmt: skip
            for subscription in subscriptions:
                # Only one worker wins each queue: the update succeeds for the first.
                won = await session.execute(
                    update(WebhookSubscription)
                    .where(WebhookSubscription.id == subscription.id, WebhookSubscription.claimed_until.is_not_distinct_from(subscription.claimed_until))
                    .values(claimed_until=now + lease)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount != 1:
                    continue
                head = await session.execute(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.subscription_id == subscription.id, WebhookDelivery.status == DeliveryStatus.pending.value)
                    .order_by(WebhookDelivery.id)
                    .limit(DELIVERIES_PER_QUEUE)
                )
                claimed.append((subscription, list(head.scalars())))
        return claimed

    async def _send_in_turn(self, subscription: WebhookSubscription, queue: list[WebhookDelivery]) -> list[Outcome]:
        """In order, until one fails: nothing is sent past an undelivered one."""
        outcomes: list[Outcome] = []
        for delivery in queue:
            outcomes.append(await self._send(delivery, subscription))
            if not outcomes[-1].ok:
                break
        return outcomes

    async def _send(self, delivery: WebhookDelivery, subscription: WebhookSubscription) -> Outcome:
        body = json.dumps({"id": str(delivery.id), **delivery.payload}, separators=(",", ":")).encode()
        try:
            addresses = await check_url(subscription.url, self.settings)
        except InvalidInput as refused:
            return Outcome(False, None, f"refused: {refused.errors[0].reason}")
        target, host, extensions = pinned(subscription.url, addresses[0])
        message_id = f"msg_{delivery.id}"
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(subscription.secret, message_id, timestamp, body),
        }
        try:
            response = await self.client.post(target, content=body, headers={**headers, **host}, extensions=extensions)
        except httpx.TimeoutException:
            return Outcome(False, None, "timed out")
        except httpx.HTTPError as error:
            return Outcome(False, None, f"could not connect: {type(error).__name__}")
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code, None)
        return Outcome(False, response.status_code, f"answered HTTP {response.status_code}")

    async def _record(self, session: AsyncSession, subscription: WebhookSubscription, queue: list[WebhookDelivery], outcomes: list[Outcome]) -> None:
        now = self.clock()
        for delivery, outcome in zip(queue, outcomes, strict=False):
            values: dict[str, Any] = {"attempts": WebhookDelivery.attempts + 1, "last_status_code": outcome.status_code, "last_error": outcome.error}
            if outcome.ok:
                values.update(status=DeliveryStatus.delivered.value, delivered_at=now)
            await session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values).execution_options(synchronize_session=False)
            )
        this = update(WebhookSubscription).where(WebhookSubscription.id == subscription.id).execution_options(synchronize_session=False)
        failed = outcomes[-1] if outcomes and not outcomes[-1].ok else None
        if failed is None:
            await session.execute(this.values(failures_in_row=0, next_attempt_at=None, claimed_until=None))
            resumed = await session.execute(
                this.where(WebhookSubscription.paused_by == "failures").values(
                    status=WebhookStatus.active.value, paused_by=None, paused_reason=None, updated_at=now
                )
            )
            if resumed.rowcount:
                log.warning("webhook subscription %s resumed: its endpoint answered again", subscription.id)
            return
        failures = (
            await session.execute(this.values(failures_in_row=WebhookSubscription.failures_in_row + 1).returning(WebhookSubscription.failures_in_row))
        ).scalar_one_or_none()
        if failures is None:
            return  # deleted while its deliveries were on the way
        await session.execute(this.values(next_attempt_at=now + wait_after(self.settings, failures), claimed_until=None))
        if failures >= self.settings.webhook_pause_after:
            reason = f"paused after {failures} failed attempts in a row (probed, and resumed by itself when one succeeds); the last: {failed.error}"
            paused = await session.execute(
                this.where(or_(WebhookSubscription.status == WebhookStatus.active.value, WebhookSubscription.paused_by == "failures")).values(
                    status=WebhookStatus.paused.value, paused_by="failures", paused_reason=reason, updated_at=now
                )
            )
            if paused.rowcount and failures == self.settings.webhook_pause_after:
                log.warning("webhook subscription %s %s", subscription.id, reason)

    async def work(self, interval: float) -> None:
        """The background worker: forever, until cancelled."""
        await drain_forever(self.run_due, interval, log, "webhook")
