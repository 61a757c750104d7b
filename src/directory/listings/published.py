"""A public read of one listing: its stored document, by id or slug, in one indexed statement
written once and run on the driver where the database allows (``directory.lean``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import String, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.columns import utcnow
from directory.errors import NotFound
from directory.lean import Kept
from directory.listings.queries import as_uuid
from directory.listings.readmodel import decided, listing_document

_DOCUMENT = select(listing_document.c.document, listing_document.c.version, listing_document.c.stale_from, listing_document.c.confirmed_at)
_DOCUMENT_BY_ID = Kept(_DOCUMENT.where(listing_document.c.provider_id == bindparam("key", type_=Uuid())), "key")
_DOCUMENT_BY_SLUG = Kept(_DOCUMENT.where(listing_document.c.slug == bindparam("key", type_=String())), "key")


async def published_document(
    session: AsyncSession | AsyncConnection, key: str, stale_after: timedelta, unconfirmed_after: timedelta = timedelta(days=180)
) -> tuple[bytes, int]:
    """The stored public document of a published listing, by id or slug, and its version: one
    indexed row. What anonymous callers and partner keys read; its ``stale`` and ``unconfirmed``
    flags are decided now."""
    provider_id = as_uuid(key)
    rows = await (_DOCUMENT_BY_ID.rows(session, {"key": provider_id}) if provider_id else _DOCUMENT_BY_SLUG.rows(session, {"key": key}))
    if not rows:
        raise NotFound(f"no listing {key}")
    row = rows[0]
    now = utcnow()
    stale = row.stale_from is not None and row.stale_from < now - stale_after
    unconfirmed = row.confirmed_at is None or row.confirmed_at < now - unconfirmed_after
    return decided(row.document, stale, unconfirmed).encode(), row.version
