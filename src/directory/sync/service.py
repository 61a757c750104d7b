"""Reading the change feed and streaming the bulk export."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import BadParameter
from directory.listings import presenters
from directory.listings.models import Provider, ProviderStatus
from directory.listings.queries import full_listing
from directory.sync.models import FeedEntry
from directory.sync.schemas import Change, ChangePage

EXPORT_BATCH = 200


def parse_cursor(value: str | None, field: str = "after") -> int:
    """Feed cursors are entry sequence numbers written as decimal text; empty means the start."""
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 18:
        raise BadParameter(field, "not a change feed cursor: use a `cursor` or `next_cursor` the feed gave you, or 0")
    return int(value)


async def changes(session: AsyncSession, after: int, limit: int) -> ChangePage:
    rows = (
        await session.execute(select(FeedEntry).where(FeedEntry.seq > after).order_by(FeedEntry.seq).limit(limit + 1))
    ).scalars().all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    items = [Change(cursor=str(row.seq), id=row.provider_id, version=row.version, kind=row.kind, at=row.at, merged_into=row.merged_into) for row in rows]
    return ChangePage(items=items, next_cursor=items[-1].cursor if items else str(after), has_more=has_more)


async def feed_position(session: AsyncSession) -> int:
    """The newest entry's cursor: where to follow the feed from after an export."""
    return (await session.execute(select(func.coalesce(func.max(FeedEntry.seq), 0)))).scalar_one()


async def export_lines(
    session: AsyncSession, *, changed_since: datetime | None, after: int | None, stale_after: timedelta, unconfirmed_after: timedelta = timedelta(days=180)
) -> AsyncIterator[bytes]:
    """Every published listing as one JSON line, read in keyset batches: memory stays flat."""
    last_id: uuid.UUID | None = None
    while True:
        query = full_listing().where(Provider.status == ProviderStatus.published.value)
        if changed_since is not None:
            query = query.where(Provider.updated_at >= changed_since)
        if after:
            query = query.where(Provider.id.in_(select(FeedEntry.provider_id).where(FeedEntry.seq > after)))
        if last_id is not None:
            query = query.where(Provider.id > last_id)
        batch = (await session.execute(query.order_by(Provider.id).limit(EXPORT_BATCH))).scalars().all()
        if not batch:
            return
        lines = [presenters.provider(provider, stale_after, unconfirmed_after).model_dump_json() for provider in batch]
        yield ("\n".join(lines) + "\n").encode()
        last_id = batch[-1].id
        session.expunge_all()  # let the batch go: the session would otherwise keep every row read
        if len(batch) < EXPORT_BATCH:
            return


async def export_stream(
    sessions: async_sessionmaker[AsyncSession], *, changed_since: datetime | None, after: int | None, stale_after: timedelta, unconfirmed_after: timedelta = timedelta(days=180)
) -> AsyncIterator[bytes]:
    """``export_lines`` in a session of its own, for a response that outlives its request."""
    async with sessions() as session:
        async for chunk in export_lines(session, changed_since=changed_since, after=after, stale_after=stale_after, unconfirmed_after=unconfirmed_after):
            yield chunk
