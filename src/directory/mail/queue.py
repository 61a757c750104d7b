"""Mail is sent off the request path: a change that causes a mail adds it to the queue in its own
transaction (so a failed change sends nothing, and a sent mail is never lost with a crash), and a
worker hands queued mail to the mailer, retrying a refused or unreachable server with a growing wait.

A failing SMTP server therefore never fails the request that caused the mail. Once handed over, a
mail's text is cleared from the table (it may hold a single-use link); the row stays, with its id
and subject, as the record of what was sent. Log lines carry the mail's id, never its recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from directory.columns import UTCDateTime, utcnow
from directory.mail.message import Message
from directory.mail.transports import Mailer, MailError

log = logging.getLogger("directory.mail")

LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(minutes=2)
PER_PASS = 20


class QueuedMail(SQLModel, table=True):
    __tablename__ = "mail_queue"

    id: str = Field(primary_key=True, max_length=32)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    text: str | None = None
    html: str | None = None
    status: str = Field(default="pending", max_length=10, index=True)
    """pending until handed to the mailer, then sent."""
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def enqueue(session: AsyncSession, message: Message) -> None:
    """Queue a mail inside the caller's transaction: it is sent only if that transaction commits."""
    session.add(QueuedMail(id=message.id, recipient=message.to, subject=message.subject, text=message.text, html=message.html))


class MailQueue:
    """Sends what is queued: ``send_due`` once (tests, the command line), ``work`` forever (the API process)."""

    def __init__(
        self, mailer: Mailer, sessions: async_sessionmaker[AsyncSession], retry_base_seconds: float = 30.0,
        clock: Callable[[], datetime] = utcnow, readers: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:  # fmt: skip
        self.mailer, self.sessions, self.clock = mailer, sessions, clock
        self.readers = readers or sessions
        self.retry_base = timedelta(seconds=retry_base_seconds)
        self._wake = asyncio.Event()

    def wait_after(self, attempts: int) -> timedelta:
        return min(self.retry_base * 2 ** min(attempts - 1, 30), LONGEST_WAIT)

    def nudge(self) -> None:
        """A mail was queued in this process: send it now rather than at the next interval."""
        self._wake.set()

    async def send_due(self) -> int:
        """Hand every due mail to the mailer; the number handed over."""
        now = self.clock()
        due_now = (QueuedMail.status == "pending", QueuedMail.next_attempt_at <= now, or_(QueuedMail.claimed_until.is_(None), QueuedMail.claimed_until < now))
        # Looking takes no write lock (SQLite has one for the whole file): most looks find nothing.
        async with self.readers() as session:
            due = list((await session.execute(select(QueuedMail.id).where(*due_now).order_by(QueuedMail.created_at).limit(PER_PASS))).scalars())
        claimed = []
        for mail_id in due:  # a lease per mail, so two workers never send the same one
            async with self.sessions() as session, session.begin():
                taken = await session.execute(update(QueuedMail).where(QueuedMail.id == mail_id, *due_now).values(claimed_until=now + LEASE))
            if taken.rowcount:
                claimed.append(mail_id)
        sent = 0
        for mail_id in claimed:
            sent += await self._send_one(mail_id)
        return sent

    async def _send_one(self, mail_id: str) -> int:
        async with self.sessions() as session:
            mail = await session.get(QueuedMail, mail_id)
            if mail is None or mail.status != "pending":
                return 0
            message = Message(to=mail.recipient, subject=mail.subject, text=mail.text or "", html=mail.html, id=mail.id)
        try:
            await self.mailer.send(message)
        except MailError as error:
            async with self.sessions() as session, session.begin():
                mail = await session.get(QueuedMail, mail_id)
                assert mail is not None
                mail.attempts += 1
                mail.next_attempt_at = self.clock() + self.wait_after(mail.attempts)
                mail.claimed_until = None
                mail.last_error = str(error)[:300]
            log.warning("mail %s not sent (attempt %d), next try at %s: %s", mail_id, mail.attempts, mail.next_attempt_at, error)
            return 0
        async with self.sessions() as session, session.begin():
            mail = await session.get(QueuedMail, mail_id)
            assert mail is not None
            mail.status, mail.sent_at, mail.claimed_until = "sent", self.clock(), None
            mail.text = mail.html = None  # it may hold a single-use link: kept no longer than needed
            mail.attempts += 1
        return 1

    async def work(self, interval: float) -> None:
        """Send due mail until cancelled: at each interval, or at once when nudged."""
        while True:
            try:
                while await self.send_due():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the worker alive; the error is logged
                log.exception("mail worker failed; retrying")
            self._wake.clear()
            # Not ``wait_for``: under Python 3.11 it drops a cancellation that lands as the nudge comes.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
