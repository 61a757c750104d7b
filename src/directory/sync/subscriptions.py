"""Managing webhook subscriptions: what the /v1/webhooks routes do (sending lives in ``webhooks``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.settings import Settings
from directory.sync import webhooks
from directory.sync.models import WebhookDelivery, WebhookSubscription
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
        return WebhookCreated(**_public(subscription).model_dump(), secret=subscription.secret)

    async def list(self, session: AsyncSession, caller: Caller) -> list[WebhookPublic]:
        rows = await session.execute(
            select(WebhookSubscription).where(webhooks.owned(caller)).order_by(WebhookSubscription.created_at)
        )
        return [_public(subscription) for subscription in rows.scalars()]

    async def get(self, session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> WebhookPublic:
        """The subscription with its newest deliveries."""
        subscription = await webhooks.find(session, caller, subscription_id)
        deliveries = await session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(RECENT_DELIVERIES)
        )
        public = _public(subscription)
        public.recent_deliveries = [DeliveryPublic.model_validate(d, from_attributes=True) for d in deliveries.scalars()]
        for delivery in public.recent_deliveries:
            if delivery.status != "pending":
                delivery.next_attempt_at = None
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
                    subscription.failures_in_row = 0
                    subscription.paused_reason = None
                else:
                    subscription.paused_reason = "paused by its owner"
            subscription.updated_at = utcnow()
        return _public(subscription)

    async def delete(self, session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> None:
        """The subscription and its pending deliveries."""
        async with session.begin():
            await session.delete(await webhooks.find(session, caller, subscription_id))


def _public(subscription: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic.model_validate(subscription, from_attributes=True)
