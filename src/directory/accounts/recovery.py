"""What an account's holder does by mail: confirm the address, reset a forgotten password, change
the password or the address. Each link is a single-use token of which only the SHA-256 is stored;
a confirmation link lasts a day, a reset link an hour.

Changing the password (by reset or knowing the old one) ends every other session of the account;
an address changes only once the new address is confirmed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.models import Account, AccountToken
from directory.accounts.passwords import Passwords, policy_problem
from directory.accounts.sessions import WebSessions, digest
from directory.columns import utcnow
from directory.errors import Conflict, InvalidInput, TooManyRequests
from directory.mail import enqueue, notice
from directory.ratelimit import LimitStore

VERIFY_FOR = timedelta(days=1)
RESET_FOR = timedelta(hours=1)
#: Mails of one kind to one account per hour: a form cannot be used to flood someone's inbox.
MAILS_PER_HOUR = 5


class Recovery:
    def __init__(self, passwords: Passwords, sessions: WebSessions, limits: LimitStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.passwords, self.sessions, self.limits, self.clock = passwords, sessions, limits, clock

    async def _token(self, session: AsyncSession, account: Account, purpose: str, lasts: timedelta, email: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        # One live link per purpose: a new one replaces those mailed before.
        await session.execute(
            update(AccountToken)
            .where(AccountToken.account_id == account.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
            .values(used_at=self.clock())
        )
        session.add(AccountToken(token_hash=digest(token), account_id=account.id, purpose=purpose, email=email, expires_at=self.clock() + lasts))
        return token

    async def _allowed(self, kind: str, account_id: uuid.UUID) -> None:
        window = await self.limits.hit(f"mail:{kind}:{account_id}", MAILS_PER_HOUR, 3600)
        if not window.allowed:
            raise TooManyRequests("too many mails were sent for this account in the last hour; try again later", headers={"Retry-After": str(window.reset_seconds)})

    async def send_verification(self, session: AsyncSession, account: Account) -> None:
        """Mail a link confirming the account's address (inside the caller's transaction)."""
        await self._allowed("verify", account.id)
        token = await self._token(session, account, "verify_email", VERIFY_FOR, account.email)
        enqueue(session, notice("verify_email", account.email, account.language, token=token))

    async def verify(self, session: AsyncSession, token: str) -> Account:
        """Confirm an address by its link: the account's own, or the new one it asked for."""
        async with session.begin():
            row = await self._use(session, token, "verify_email")
            account = await session.get(Account, row.account_id)
            assert account is not None  # the token goes with its account (ON DELETE CASCADE)
            if row.email and row.email != account.email:
                taken = await session.execute(select(Account.id).where(Account.email == row.email))
                if taken.first() is not None:
                    raise Conflict("another account uses this address now")
                old = account.email
                account.email = row.email
                await self.sessions.end_all(session, account.id)
                enqueue(session, notice("email_changed", old, account.language))
            account.email_verified_at = self.clock()
        return account

    async def _use(self, session: AsyncSession, token: str, purpose: str) -> AccountToken:
        row = await session.get(AccountToken, digest(token)) if token and len(token) < 200 else None
        if row is None or row.purpose != purpose:
            raise InvalidInput("token", "this link is not valid; ask for a new one")
        if row.used_at is not None:
            raise InvalidInput("token", "this link was already used or replaced by a newer one; ask for a new one")
        if row.expires_at <= self.clock():
            raise InvalidInput("token", "this link has expired; ask for a new one")
        row.used_at = self.clock()
        return row

    async def request_reset(self, session: AsyncSession, email: str) -> None:
        """Mail a reset link if an account has this address. The answer is the same either way, so
        the form does not tell who has an account."""
        async with session.begin():
            account = (await session.execute(select(Account).where(Account.email == email))).scalar_one_or_none()
            if account is None or account.disabled:
                return
            await self._allowed("reset", account.id)
            token = await self._token(session, account, "reset_password", RESET_FOR)
            enqueue(session, notice("reset_password", account.email, account.language, token=token))

    async def check_reset(self, session: AsyncSession, token: str) -> None:
        """Whether a reset link can still be used (for showing the form), without using it."""
        row = await session.get(AccountToken, digest(token)) if token and len(token) < 200 else None
        if row is None or row.purpose != "reset_password" or row.used_at is not None or row.expires_at <= self.clock():
            raise InvalidInput("token", "this link is not valid any more (it lasts an hour and works once); ask for a new one")

    async def reset(self, session: AsyncSession, token: str, password: str) -> Account:
        """Set a new password with a reset link; every session of the account ends."""
        async with session.begin():
            row = await self._use(session, token, "reset_password")
            account = await session.get(Account, row.account_id)
            assert account is not None
            await self._set_password(session, account, password, keep=None)
            # Following the link proves the address too.
            account.email_verified_at = account.email_verified_at or self.clock()
        return account

    async def change_password(self, session: AsyncSession, account_id: uuid.UUID, current: str, new: str, keep: str | None) -> None:
        async with session.begin():
            account = await session.get(Account, account_id)
            assert account is not None
            if not await self.passwords.matches(account.password_hash, current):
                raise InvalidInput("current_password", "this is not your current password")
            await self._set_password(session, account, new, keep=keep)

    async def _set_password(self, session: AsyncSession, account: Account, password: str, keep: str | None) -> None:
        problem = policy_problem(password, account.email)
        if problem:
            raise InvalidInput("password", problem)
        account.password_hash = await self.passwords.hashed(password)
        await self.sessions.end_all(session, account.id, keep=keep)
        enqueue(session, notice("password_changed", account.email, account.language))

    async def change_email(self, session: AsyncSession, account_id: uuid.UUID, password: str, new_email: str) -> None:
        """Mail a confirmation link to the new address; the account keeps its address until then."""
        async with session.begin():
            account = await session.get(Account, account_id)
            assert account is not None
            if not await self.passwords.matches(account.password_hash, password):
                raise InvalidInput("password", "this is not your password")
            if new_email == account.email:
                raise InvalidInput("email", "this is already your address")
            taken = await session.execute(select(Account.id).where(Account.email == new_email))
            if taken.first() is not None:
                raise InvalidInput("email", "another account uses this address")
            await self._allowed("verify", account.id)
            token = await self._token(session, account, "verify_email", VERIFY_FOR, new_email)
            enqueue(session, notice("change_email", new_email, account.language, token=token))
