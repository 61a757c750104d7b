"""Partner sync: the change feed and the bulk export."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, sync_only
from directory.columns import utcnow
from directory.sync import service, webhooks
from directory.sync.models import WebhookDelivery, WebhookSubscription
from directory.sync.schemas import (
    ChangePage,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookUpdate,
)

SYNC_SECURITY = [{"apiKey": []}, {"bearer": []}]
NDJSON = "application/x-ndjson"

After = Annotated[
    str | None,
    QueryParameter(
        description="a cursor from the feed (an entry's `cursor` or a page's `next_cursor`); leave out to start at the beginning",
        examples=[Example(value="1042")],
        max_length=20,
    ),
]


@get("/v1/changes", tags=["sync"], guards=[sync_only], security=SYNC_SECURITY, summary="The change feed")
async def list_changes(
    reader: NamedDependency[AsyncSession],
    after: After = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000, description="entries per page")] = 100,
) -> ChangePage:
    """Every change to the set of published listings, oldest first, in commit order.

    Apply each entry in turn: `created` and `updated` mean fetch `GET /v1/providers/{id}` (or wait
    for a later entry of the same listing) and store it; `removed` means delete it. A partner that
    starts without `after` and applies every entry ends with exactly the published listings.
    Keep `next_cursor` and poll with it; entries are never reordered, so nothing is skipped.
    To start from a bulk export instead, follow the feed from the export's `X-Feed-Cursor`.

    Who: partner keys with the sync scope (X-API-Key), and administrators.
    """
    return await service.changes(reader, service.parse_cursor(after), limit)


@get(
    "/v1/export/providers.ndjson",
    tags=["sync"],
    guards=[sync_only],
    security=SYNC_SECURITY,
    summary="Export every published listing as NDJSON",
    media_type=NDJSON,
)
async def export_providers(
    state: State,
    reader: NamedDependency[AsyncSession],
    changed_since: Annotated[
        datetime | None,
        QueryParameter(description="only listings changed at or after this time (ISO 8601 with offset)", examples=[Example(value="2026-11-01T00:00:00Z")]),
    ] = None,
    after: After = None,
) -> Stream:
    """One published listing per line, each shaped as `GET /v1/providers/{id}` answers it, streamed.

    `after` (a change feed cursor) exports only the listings changed since that feed entry. The
    `X-Feed-Cursor` header is the feed's position when the export began: follow `GET /v1/changes`
    from it to stay in step. Listings changed while the export runs may appear in both; apply by
    version.

    Who: partner keys with the sync scope (X-API-Key), and administrators.
    """
    since = service.parse_cursor(after)
    position = await service.feed_position(reader)
    listings = state.listings

    async def lines() -> AsyncIterator[bytes]:
        # A session of its own: the stream outlives the handler and its request-scoped session.
        async with state.database.reader() as session:
            async for chunk in service.export_lines(
                session, changed_since=changed_since, after=since or None, stale_after=listings.stale_after
            ):
                yield chunk

    return Stream(lines(), media_type=NDJSON, headers={"X-Feed-Cursor": str(position), "Cache-Control": "no-store"})


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["sync"]
    guards = [sync_only]
    security = SYNC_SECURITY

    @post("/", status_code=HTTP_201_CREATED, summary="Subscribe an endpoint to listing events")
    async def create_webhook(
        self, data: JSONBody[WebhookCreate], state: State, writer: NamedDependency[AsyncSession], caller: NamedDependency[Caller]
    ) -> WebhookCreated:
        """Deliveries are POSTed as JSON, signed (see the README's Webhooks section), retried with
        backoff when the endpoint fails, and the subscription is paused if it keeps failing. The
        `secret` is in this answer only. The endpoint must be public HTTPS.

        Who: partner keys with the sync scope, and administrators.
        """
        await webhooks.check_url(data.url, state.settings)
        subscription = WebhookSubscription(
            owner_key_id=caller.key_id, url=data.url, events=sorted(set(data.events)), secret=webhooks.new_secret()
        )
        async with writer.begin():
            writer.add(subscription)
        return WebhookCreated(**_public(subscription).model_dump(), secret=subscription.secret)

    @get("/", summary="Your webhook subscriptions")
    async def list_webhooks(self, reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller]) -> list[WebhookPublic]:
        """The subscriptions of the calling key (administrators: all of them).

        Who: partner keys with the sync scope, and administrators.
        """
        rows = await reader.execute(select(WebhookSubscription).where(webhooks.owned(caller)).order_by(WebhookSubscription.created_at))
        return [_public(subscription) for subscription in rows.scalars()]

    @get("/{subscription_id:uuid}", summary="A webhook subscription and its recent deliveries")
    async def get_webhook(
        self, subscription_id: FromPath[uuid.UUID], reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller]
    ) -> WebhookPublic:
        """With its newest 20 deliveries: their status, attempts, last HTTP status and error.

        Who: the key that made it, and administrators.
        """
        subscription = await webhooks.find(reader, caller, subscription_id)
        deliveries = await reader.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(20)
        )
        public = _public(subscription)
        public.recent_deliveries = [
            DeliveryPublic.model_validate(delivery, from_attributes=True) for delivery in deliveries.scalars()
        ]
        for delivery in public.recent_deliveries:
            if delivery.status != "pending":
                delivery.next_attempt_at = None
        return public

    @patch("/{subscription_id:uuid}", summary="Change, pause or resume a webhook subscription")
    async def update_webhook(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[WebhookUpdate],
        state: State,
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
    ) -> WebhookPublic:
        """`status: active` resumes a paused subscription; events that happened while it was paused
        were not queued for it: catch up from the change feed, starting at the `cursor` of the last
        delivery you received.

        Who: the key that made it, and administrators.
        """
        if data.url is not None:
            await webhooks.check_url(data.url, state.settings)
        async with writer.begin():
            subscription = await webhooks.find(writer, caller, subscription_id)
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

    @delete("/{subscription_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a webhook subscription")
    async def delete_webhook(
        self, subscription_id: FromPath[uuid.UUID], writer: NamedDependency[AsyncSession], caller: NamedDependency[Caller]
    ) -> None:
        """Its pending deliveries go with it.

        Who: the key that made it, and administrators.
        """
        async with writer.begin():
            await writer.delete(await webhooks.find(writer, caller, subscription_id))


def _public(subscription: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic(
        id=subscription.id,
        url=subscription.url,
        events=list(subscription.events),
        status=subscription.status,
        paused_reason=subscription.paused_reason,
        failures_in_row=subscription.failures_in_row,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )
