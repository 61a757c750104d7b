"""Who a token's account is now. A token says who logged in and with which role; the account may
have been demoted, disabled or deleted since. Each request with an account's token is checked
against the stored account, remembered for a few seconds per process, so such changes take effect
within ``SECONDS`` everywhere (at once in the process that made them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.accounts.callers import Caller, Role
from directory.accounts.models import Account
from directory.errors import NotAuthenticated

SECONDS = 5.0
_MOST = 50_000


class Standing:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.clock = clock
        self._known: dict[uuid.UUID, tuple[float, tuple[str, bool] | None]] = {}

    async def current(self, caller: Caller) -> Caller:
        """The caller with its account's role as stored now; 401 if the account is gone or disabled."""
        if caller.account_id is None:
            return caller
        now = self.clock()
        known = self._known.get(caller.account_id)
        if known is None or known[0] < now:
            async with self.sessions() as session:
                row = (await session.execute(select(Account.role, Account.disabled).where(Account.id == caller.account_id))).first()
            if len(self._known) >= _MOST:
                self._known.clear()
            known = (now + SECONDS, None if row is None else (row.role, bool(row.disabled)))
            self._known[caller.account_id] = known
        if known[1] is None:
            raise NotAuthenticated("the account behind this token no longer exists")
        role, disabled = known[1]
        if disabled:
            raise NotAuthenticated("this account is disabled; ask the directory's administrators")
        return caller if role == caller.role.value else Caller(Role(role), caller.account_id)

    def forget(self, account_id: uuid.UUID) -> None:
        """After a change to the account in this process: the next request reads it again."""
        self._known.pop(account_id, None)
