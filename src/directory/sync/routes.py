"""Partner sync: the change feed and the bulk export."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, sync_only
from directory.listings.service import ListingService
from directory.sync import service
from directory.sync.schemas import ChangePage, WebhookCreate, WebhookCreated, WebhookPublic, WebhookUpdate
from directory.sync.subscriptions import Subscriptions
from directory.validation import moment

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
    listings: NamedDependency[ListingService],
    changed_since: Annotated[
        str | None,
        QueryParameter(
            description="only listings changed at or after this time (ISO 8601 with offset; never a number of seconds)",
            examples=[Example(value="2026-11-01T00:00:00Z")],
            format="date-time",
            max_length=40,
        ),
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
    changed = moment("changed_since", changed_since)
    position = await service.feed_position(reader)
    # The stream outlives the handler and its request-scoped session: it reads with one of its own.
    lines = service.export_stream(state.database.reader, changed_since=changed, after=since or None, stale_after=listings.stale_after, unconfirmed_after=listings.unconfirmed_after)
    return Stream(lines, media_type=NDJSON, headers={"X-Feed-Cursor": str(position), "Cache-Control": "no-store"})


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["sync"]
    guards = [sync_only]
    security = SYNC_SECURITY

    @post("/", status_code=HTTP_201_CREATED, summary="Subscribe an endpoint to listing events")
    async def create_webhook(
        self, data: JSONBody[WebhookCreate], writer: NamedDependency[AsyncSession], caller: NamedDependency[Caller], subscriptions: NamedDependency[Subscriptions]
    ) -> WebhookCreated:
        """Deliveries are POSTed as JSON, signed (see the README's Webhooks section), retried with
        backoff when the endpoint fails, and the subscription is paused if it keeps failing. The
        `secret` is in this answer only. The endpoint must be public HTTPS.

        Who: partner keys with the sync scope, and administrators.
        """
        return await subscriptions.create(writer, caller, data)

    @get("/", summary="Your webhook subscriptions")
    async def list_webhooks(
        self, reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller], subscriptions: NamedDependency[Subscriptions]
    ) -> list[WebhookPublic]:
        """The subscriptions of the calling key (administrators: all of them).

        Who: partner keys with the sync scope, and administrators.
        """
        return await subscriptions.list(reader, caller)

    @get("/{subscription_id:uuid}", summary="A webhook subscription and its recent deliveries")
    async def get_webhook(
        self,
        subscription_id: FromPath[uuid.UUID],
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        subscriptions: NamedDependency[Subscriptions],
    ) -> WebhookPublic:
        """With its newest 20 deliveries: their status, attempts, last HTTP status and error.

        Who: the key that made it, and administrators.
        """
        return await subscriptions.get(reader, caller, subscription_id)

    @patch("/{subscription_id:uuid}", summary="Change, pause or resume a webhook subscription")
    async def update_webhook(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[WebhookUpdate],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        subscriptions: NamedDependency[Subscriptions],
    ) -> WebhookPublic:
        """`status: active` resumes a paused subscription; events that happened while it was paused
        were not queued for it: catch up from the change feed, starting at the `cursor` of the last
        delivery you received.

        Who: the key that made it, and administrators.
        """
        return await subscriptions.update(writer, caller, subscription_id, data)

    @delete("/{subscription_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a webhook subscription")
    async def delete_webhook(
        self,
        subscription_id: FromPath[uuid.UUID],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        subscriptions: NamedDependency[Subscriptions],
    ) -> None:
        """Its pending deliveries go with it.

        Who: the key that made it, and administrators.
        """
        await subscriptions.delete(writer, caller, subscription_id)
