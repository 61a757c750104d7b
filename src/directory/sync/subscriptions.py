"""Managing webhook subscriptions: what the /v1/webhooks routes do (sending lives in ``webhooks``)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.settings import Settings
from directory.sync import webhooks
from directory.sync.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from directory.sync.schemas import DeliveryPublic, WebhookCreate, WebhookCreated, WebhookPublic, WebhookUpdate

RECENT_DELIVERIES = 20


class Subscriptions:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def create(self, session: AsyncSession, caller: Caller, data: WebhookCreate) -> WebhookCreated:
        """A new subscription of the calling key; its secret is shown in this answer only."""
        await webhooks.check_url(data.url, self.settings)
        subscription = WebhookSubscription(
            owner_key_id=caller.key_id, url=data.url, events=sorted(set(data.events)), secret=webhooks.new_secret()
        )
        async with session.begin():
            session.add(subscription)
        return WebhookCreated(**_public(subscription, 0).model_dump(), secret=subscription.secret)

    async def list(self, session: AsyncSession, caller: Caller) -> list[WebhookPublic]:
        rows = (await session.execute(select(WebhookSubscription).where(webhooks.owned(caller)).order_by(WebhookSubscription.created_at))).scalars().all()
        counts = await _pending(session, [subscription.id for subscription in rows])
        return [_public(subscription, counts.get(subscription.id, 0)) for subscription in rows]

    async def get(self, session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> WebhookPublic:
        """The subscription with its newest deliveries."""
        subscription = await webhooks.find(session, caller, subscription_id)
        deliveries = await session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(RECENT_DELIVERIES)
        )
        public = _public(subscription, (await _pending(session, [subscription.id])).get(subscription.id, 0))
        public.recent_deliveries = [DeliveryPublic.model_validate(d, from_attributes=True) for d in deliveries.scalars()]
        for delivery in public.recent_deliveries:
            delivery.next_attempt_at = subscription.next_attempt_at if delivery.status == "pending" else None
        return public

    async def update(self, session: AsyncSession, caller: Caller, subscription_id: uuid.UUID, data: WebhookUpdate) -> WebhookPublic:
        """Change the endpoint or events; pause, or resume (which clears the failure count)."""
        if data.url is not None:
            await webhooks.check_url(data.url, self.settings)
        async with session.begin():
            subscription = await webhooks.find(session, caller, subscription_id)
            if data.url is not None:
                subscription.url = data.url
            if data.events is not None:
                subscription.events = sorted(set(data.events))
            if data.status is not None:
                subscription.status = data.status
                if data.status == "active":
                    # Resumed: its queue is tried at once; a gap it reported has been read.
                    subscription.failures_in_row = 0
                    subscription.paused_reason = subscription.paused_by = None
                    subscription.next_attempt_at = subscription.missed_after = None
                else:
                    subscription.paused_reason = "paused by its owner: not sent to (its queue keeps filling) until resumed"
                    subscription.paused_by = "owner"
            subscription.updated_at = utcnow()
        return _public(subscription, (await _pending(session, [subscription.id])).get(subscription.id, 0))

    async def delete(self, session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> None:
        """The subscription and its pending deliveries."""
        async with session.begin():
            await session.delete(await webhooks.find(session, caller, subscription_id))


async def _pending(session: AsyncSession, subscription_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many deliveries wait in each of these subscriptions' queues."""
    if not subscription_ids:
        return {}
    rows = await session.execute(
        select(WebhookDelivery.subscription_id, func.count())
        .where(WebhookDelivery.subscription_id.in_(subscription_ids), WebhookDelivery.status == DeliveryStatus.pending.value)
        .group_by(WebhookDelivery.subscription_id)
    )
    return {subscription_id: count for subscription_id, count in rows}


def _public(subscription: WebhookSubscription, pending: int) -> WebhookPublic:
    public = WebhookPublic.model_validate(subscription, from_attributes=True)
    public.pending_deliveries = pending
    public.missed_after_cursor = None if subscription.missed_after is None else str(subscription.missed_after)
    return public
