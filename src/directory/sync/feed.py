"""Writing the change feed, in the same transaction as the change it describes.

``write_entries`` follows the listings' recorder (``directory.listings.changes``): just before a
transaction that touched listings commits, each of them is compared with its last feed entry and,
if the public picture changed, a new entry (and its webhook deliveries) is added. On PostgreSQL the entries are written under a transaction-level advisory lock, so their
sequence numbers are handed out in commit order: a partner that has read entry N can never later
find a new entry below N. (SQLite runs one write transaction at a time anyway.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from directory.columns import utcnow
from directory.listings.models import Provider, ProviderStatus
from directory.sync import webhooks
from directory.sync.models import ChangeKind, FeedEntry

#: Any constant: the lock that orders feed entries by commit.
FEED_LOCK = 7_204_311


def next_kind(published: bool, last_kind: str | None) -> ChangeKind | None:
    """What a partner must do now, given whether the listing is public and what it was last told."""
    shown = last_kind is not None and last_kind not in (ChangeKind.removed.value, ChangeKind.merged.value)
    if published:
        return ChangeKind.updated if shown else ChangeKind.created
    return ChangeKind.removed if shown else None


def write_entries(
    session: Session, provider_ids: Iterable[uuid.UUID], loaded: Mapping[uuid.UUID, Provider] | None = None, *, queue_limit: int = webhooks.QUEUE_LIMIT
) -> int:
    """Add the feed entries these listings need; synchronous, inside the committing transaction.

    ``loaded``: listings in hand, whose status and version are taken as they are; the rest are read.
    ``queue_limit``: the most deliveries one webhook subscription's queue holds.
    """
    ids = sorted(set(provider_ids))
    loaded = loaded or {}
    if not ids:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    last = (
        select(FeedEntry.provider_id, func.max(FeedEntry.seq).label("seq"))
        .where(FeedEntry.provider_id.in_(ids))
        .group_by(FeedEntry.provider_id)
        .subquery()
    )
    last_kinds = dict(session.execute(select(FeedEntry.provider_id, FeedEntry.kind).join(last, last.c.seq == FeedEntry.seq)).all())
    unread = [key for key in ids if key not in loaded]
    rows = session.execute(select(Provider.id, Provider.status, Provider.version, Provider.merged_into).where(Provider.id.in_(unread))).all() if unread else []
    present: dict[uuid.UUID, Any] = {row.id: row for row in rows} | dict(loaded)
    now = utcnow()
    entries = []
    for provider_id in ids:
        row = present.get(provider_id)
        published = row is not None and row.status == ProviderStatus.published.value
        kind = next_kind(published, last_kinds.get(provider_id))
        if kind is None:
            continue
        merged_into = None
        if kind is ChangeKind.removed and row is not None and row.status == ProviderStatus.merged.value:
            kind, merged_into = ChangeKind.merged, row.merged_into
        entries.append(FeedEntry(provider_id=provider_id, version=row.version if row is not None else 0, kind=kind.value, at=now, merged_into=merged_into))
    session.add_all(entries)
    session.flush()
    webhooks.enqueue(session, entries, queue_limit)
    session.flush()
    return len(entries)


#: Seeds the feed with every published listing that has no entry yet, for loads that bypass the API.
BACKFILL_SQL = (
    "INSERT INTO feed_entry (provider_id, version, kind, at) "
    "SELECT p.id, p.version, 'created', p.updated_at FROM provider p "
    "WHERE p.status = 'published' AND NOT EXISTS (SELECT 1 FROM feed_entry f WHERE f.provider_id = p.id) "
    "ORDER BY p.updated_at, p.id"
)


def backfill_statement() -> Any:
    return text(BACKFILL_SQL)
