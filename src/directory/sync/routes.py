"""Partner sync: the change feed and the bulk export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from directory.access import sync_only
from directory.sync import service
from directory.sync.schemas import ChangePage

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
