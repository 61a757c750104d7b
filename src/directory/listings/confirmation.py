"""Clinics confirm their listings: reminders by mail when a listing goes unconfirmed.

A listing is confirmed when one of its owners saves it or says it is still correct (``confirmed_at``,
set in ``ListingService.changing`` and ``confirm``). After ``remind_after`` without a confirmation its
owners get one reminder (``confirm_reminded_at``; the next confirmation clears it); after
``unconfirmed_after`` the listing is shown as ``unconfirmed`` (decided when read, see ``readmodel``).
Listings nobody owns have nobody to remind: they are left alone until someone claims them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.accounts.models import ProviderOwner
from directory.columns import utcnow
from directory.listings.models import Provider, ProviderStatus
from directory.listings.team import owner_recipients
from directory.mail import enqueue, notice, set_base_url
from directory.workers import drain_forever

logger = logging.getLogger("directory.confirmation")

#: Listings reminded per pass (each pass is one short transaction).
BATCH = 50


class ConfirmationReminders:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, remind_after: timedelta, unconfirmed_after: timedelta, public_url: str | None = None
    ) -> None:
        self.sessions = sessions
        self.remind_after = remind_after
        self.unconfirmed_after = unconfirmed_after
        self.public_url = public_url

    async def run_due(self) -> int:
        """Remind the owners of the listings now due; how many listings were reminded."""
        now = utcnow()
        since = func.coalesce(Provider.confirmed_at, Provider.published_at, Provider.created_at)
        due = (
            select(Provider.id, Provider.name, Provider.confirmed_at)
            .where(
                Provider.status == ProviderStatus.published.value,
                Provider.confirm_reminded_at.is_(None),
                since < now - self.remind_after,
                Provider.id.in_(select(ProviderOwner.provider_id)),
            )
            .order_by(since)
            .limit(BATCH)
        )
        if self.public_url:
            set_base_url(self.public_url)
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(due)).all()
            for provider_id, name, confirmed_at in rows:
                last = confirmed_at.date().isoformat() if confirmed_at else None
                marked_on = (confirmed_at + self.unconfirmed_after).date().isoformat() if confirmed_at else None
                for email, language in await owner_recipients(session, provider_id):
                    enqueue(session, notice("confirm_reminder", email, language, listing=name, listing_id=str(provider_id), last=last, marked_on=marked_on))
                await session.execute(update(Provider).where(Provider.id == provider_id).values(confirm_reminded_at=now))
        if rows:
            logger.info("confirmation reminders sent for %d listings", len(rows))
        return len(rows)

    async def work(self, interval: float) -> None:
        await drain_forever(self.run_due, interval, logger, "confirmation reminders")
