"""Delivering consultation requests by mail, off the request path, until each mail is sent.

The mails are built when they are sent, from the sealed request, and handed straight to the
directory's mailer (SMTP in production): their text is never stored in clear, not even in the mail
queue. A refused or unreachable server is retried after 30 s, doubling to an hour; a request whose
owners turned requests off meanwhile waits (in their inbox) for a day at a time. The same worker
deletes the requests past their retention.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.accounts.models import Account
from directory.columns import utcnow
from directory.consultations.models import ConsultationRequest
from directory.consultations.service import Consultations
from directory.listings.models import Provider
from directory.mail import Mailer, MailError, notice, set_base_url
from directory.workers import drain_forever

logger = logging.getLogger("directory.consultations")
BATCH = 10
MAX_WAIT = 3600.0


class Delivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], consultations: Consultations, mailer: Mailer, retry_base: float = 30.0) -> None:
        self.sessions = sessions
        self.consultations = consultations
        self.mailer = mailer
        self.retry_base = retry_base

    async def run_due(self, now: datetime | None = None) -> int:
        """Send the mails now due and delete what is past its retention; how many requests were handled."""
        now = now or utcnow()
        async with self.sessions() as session:
            await self.consultations.purge(session, now)
            rows = (
                await session.execute(
                    select(ConsultationRequest, Provider.name, Provider.consultation_email, Account.language)
                    .join(Provider, Provider.id == ConsultationRequest.provider_id)
                    .outerjoin(Account, Account.email == Provider.consultation_email)
                    .where(ConsultationRequest.delivery_due_at <= now)
                    .order_by(ConsultationRequest.delivery_due_at)
                    .limit(BATCH)
                )
            ).all()
        for request, listing, address, language in rows:
            await self._deliver(request, listing, address, language or "en", now)
        return len(rows)

    async def _deliver(self, request: ConsultationRequest, listing: str, address: str | None, staff_language: str, now: datetime) -> None:
        """The clinic's mail in the language of the account whose address takes the requests; the
        requester's in the language they asked in."""
        data = self.consultations.sealer.open(request.sealed)
        set_base_url(request.base_url)
        changes: dict[str, object] = {}
        try:
            if request.clinic_sent_at is None:
                if address is None:
                    changes |= {"delivery_due_at": now + timedelta(days=1), "last_error": "the owners turned requests off: shown in their inbox only"}
                    return
                await self.mailer.send(notice(
                    "consultation_clinic", address, staff_language, listing=listing, listing_id=str(request.provider_id), reference=str(request.id),
                    name=data["name"], phone=data.get("phone"), email=data.get("email"), preferred=data["preferred_contact"],
                    preferred_time=data.get("preferred_time"), message=data.get("message"),
                ))  # fmt: skip
                changes["clinic_sent_at"] = request.clinic_sent_at = utcnow()
            if request.has_email and request.requester_sent_at is None and data.get("email"):
                language = data.get("language", "en")  # the requester's, when the request was made
                prefix = "" if language == "en" else f"/{language}"
                await self.mailer.send(notice(
                    "consultation_received", data["email"], language=language, listing=listing, name=data["name"], reference=str(request.id),
                    withdraw=f"{prefix}/consultations/withdraw?request={request.id}&token={data['withdraw_token']}",
                    retention_days=self.consultations.retention.days,
                ))  # fmt: skip
                changes["requester_sent_at"] = utcnow()
            changes |= {"delivery_due_at": None, "last_error": None}
            logger.info("consultation request %s delivered", request.id)
        except MailError:
            attempts = request.delivery_attempts + 1
            wait = min(self.retry_base * 2 ** (attempts - 1), MAX_WAIT)
            changes |= {"delivery_attempts": attempts, "delivery_due_at": now + timedelta(seconds=wait), "last_error": "the mail server refused or could not be reached; retried"}
            logger.warning("consultation request %s not delivered (attempt %d); retried in %.0f s", request.id, attempts, wait)
        finally:
            if changes:
                async with self.sessions() as session, session.begin():
                    await session.execute(update(ConsultationRequest).where(ConsultationRequest.id == request.id).values(**changes))

    async def work(self, interval: float) -> None:
        await drain_forever(self.run_due, interval, logger, "consultation delivery")
