"""Signed-in browsers of the portal: server-side sessions.

The browser's cookie holds a random id; the table holds its SHA-256, the account and when the
session ends. Each request reads the session with its account, so a demoted or disabled account
acts with what it is now. Signing in starts a new session (a new id); signing out ends it; changing
the password, disabling the account or lowering its role ends every session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, Role
from directory.accounts.models import Account, WebSession
from directory.columns import utcnow


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSessions:
    def __init__(self, lifetime: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.lifetime, self.clock = lifetime, clock

    async def start(self, session: AsyncSession, account_id: uuid.UUID) -> str:
        """A new session for the account, in the caller's transaction; the cookie's value."""
        token = secrets.token_urlsafe(32)
        session.add(WebSession(id_hash=digest(token), account_id=account_id, expires_at=self.clock() + self.lifetime))
        return token

    async def account(self, session: AsyncSession, token: str) -> Account | None:
        """The account of a live session, or None (unknown, expired, or the account disabled)."""
        if not token or len(token) > 200:
            return None
        row = (
            await session.execute(
                select(Account, WebSession.expires_at).join(WebSession, WebSession.account_id == Account.id).where(WebSession.id_hash == digest(token))
            )
        ).first()
        if row is None or row[1] <= self.clock() or row[0].disabled:
            return None
        return row[0]

    async def caller(self, session: AsyncSession, token: str) -> Caller | None:
        account = await self.account(session, token)
        return None if account is None else Caller(Role(account.role), account.id)

    async def end(self, session: AsyncSession, token: str) -> None:
        await session.execute(delete(WebSession).where(WebSession.id_hash == digest(token)))

    async def end_all(self, session: AsyncSession, account_id: uuid.UUID, keep: str | None = None) -> None:
        """End every session of the account (but ``keep``, the one making the change, if given)."""
        statement = delete(WebSession).where(WebSession.account_id == account_id)
        if keep:
            statement = statement.where(WebSession.id_hash != digest(keep))
        await session.execute(statement)

    async def sweep(self, session: AsyncSession) -> None:
        """Forget sessions that have ended by themselves."""
        await session.execute(delete(WebSession).where(WebSession.expires_at <= self.clock()))
