"""The one place where a change to what the public sees is recorded.

Every write that can change a published listing (API writes, moderation, verification, claims,
imports, taxonomy renames) runs inside ``Recorder.transaction`` and notes the listings it touched
with ``touch``. Just before the transaction commits, the recorder brings the read model of those
listings in step (``readmodel.refresh``) and hands them to its followers (the change feed and
webhook deliveries, registered by the app), all in the same transaction: a change is either
recorded everywhere or nowhere.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from directory.listings import readmodel

#: Called with the synchronous session and the touched listing ids, inside the transaction.
Follower = Callable[[Session, set[uuid.UUID]], object]

_TOUCHED = "listings_touched"
RECORD_BATCH = 500


def touch(session: AsyncSession | Session, provider_id: uuid.UUID) -> None:
    """Note that this listing changed in the current transaction."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_TOUCHED, set()).add(provider_id)


class Recorder:
    def __init__(self, followers: Iterable[Follower] = ()) -> None:
        self.followers = list(followers)

    @asynccontextmanager
    async def transaction(self, session: AsyncSession) -> AsyncIterator[AsyncSession]:
        """``session.begin()`` that records every touched listing before it commits."""
        session.sync_session.info.pop(_TOUCHED, None)
        try:
            async with session.begin():
                yield session
                touched: set[uuid.UUID] | None = session.sync_session.info.pop(_TOUCHED, None)
                if touched:
                    await session.run_sync(self._record, touched)
        finally:
            session.sync_session.info.pop(_TOUCHED, None)

    def _record(self, session: Session, touched: set[uuid.UUID]) -> None:
        session.flush()
        ordered = sorted(touched)
        # In slices: a change can touch very many listings (re-queueing old verifications), and
        # SQLite takes at most 32,766 parameters in a statement.
        for start in range(0, len(ordered), RECORD_BATCH):
            batch = set(ordered[start : start + RECORD_BATCH])
            readmodel.refresh(session, batch)
            for follower in self.followers:
                follower(session, batch)
        session.flush()

    async def refresh(self, session: AsyncSession, provider_ids: Iterable[uuid.UUID]) -> None:
        """Only the read model, for changes that are not the listing's own (a taxonomy entry renamed)."""
        ordered = sorted(set(provider_ids))
        for start in range(0, len(ordered), RECORD_BATCH):
            await session.run_sync(readmodel.refresh, ordered[start : start + RECORD_BATCH])
