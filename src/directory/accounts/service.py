"""Signing up, logging in (throttled), and who am I."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.accounts import callers, tokens
from directory.accounts.callers import Caller, Role
from directory.accounts.models import Account, AccountNpi, ProviderOwner
from directory.accounts.passwords import Passwords, policy_problem
from directory.accounts.recovery import Recovery
from directory.accounts.schemas import AccountCreate, AccountNpiPublic, AccountPublic, Credentials, NpiClaim, Token
from directory.accounts.sessions import WebSessions
from directory.accounts.standing import Standing
from directory.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from directory.ratelimit import LimitStore
from directory.settings import Settings

LOGIN_WINDOW_SECONDS = 15 * 60
MAX_LOGIN_DELAY = 8.0


class AccountService:
    def __init__(self, settings: Settings, limits: LimitStore, standing: Standing | None = None) -> None:
        self.settings = settings
        self.limits = limits
        self.standing = standing
        self.passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_concurrency)
        self.sessions = WebSessions(timedelta(hours=settings.session_lifetime_hours))
        self.recovery = Recovery(self.passwords, self.sessions, limits)
        self._dummy: str | None = None

    async def sign_up(self, session: AsyncSession, data: AccountCreate, role: Role = Role.provider, language: str | None = None) -> AccountPublic:
        """A new account; its mails in ``language`` (the portal's, when signing up there), else the one it asked for."""
        problem = policy_problem(data.password, data.email)
        if problem:
            raise InvalidInput("password", problem)
        # Hashing is deliberately slow: keep it off the event loop.
        password_hash = await self.passwords.hashed(data.password)
        account = Account(email=data.email, password_hash=password_hash, role=role.value, display_name=data.display_name, language=language or data.language)
        try:
            async with session.begin():
                session.add(account)
                await session.flush()
                # The address is confirmed by a mailed link before the account submits or claims a listing.
                await self.recovery.send_verification(session, account)
        except IntegrityError:
            raise Conflict("an account with this email exists; log in at POST /v1/auth/token") from None
        return _public(account, [])

    async def authenticate(self, session: AsyncSession, data: Credentials, client: str) -> Account:
        """The account of the right email and password, for a bearer token or a portal session.

        Every attempt is counted before the password is checked, atomically in the limit store, so
        parallel guesses cannot all be checked: per address and account (``login_attempts``), per
        address (four times that). Failures against one account from anywhere slow its next
        attempts down (a growing delay, at most ``MAX_LOGIN_DELAY`` seconds) but never lock the owner
        out. An unknown email costs the same password check as a known one.
        """
        limit = self.settings.login_attempts
        pair, address, account_key = f"login:pair:{data.email}:{client}", f"login:client:{client}", f"login:email:{data.email}"
        for key, most in ((pair, limit), (address, limit * 4)):
            window = await self.limits.hit(key, most, LOGIN_WINDOW_SECONDS)
            if not window.allowed:
                raise TooManyRequests("too many failed logins; wait before trying again", headers={"Retry-After": str(window.reset_seconds)})
        failures = (await self.limits.peek(account_key, limit, LOGIN_WINDOW_SECONDS)).count
        if failures >= limit:
            await anyio.sleep(min(MAX_LOGIN_DELAY, 0.25 * 2 ** (failures - limit)))
        account = (await session.execute(select(Account).where(Account.email == data.email))).scalar_one_or_none()
        stored = account.password_hash if account is not None else await self._dummy_hash()
        matches = await self.passwords.matches(stored, data.password)
        if not matches or account is None or account.disabled:
            await self.limits.hit(account_key, limit, LOGIN_WINDOW_SECONDS)
            raise NotAuthenticated("the email or password is wrong")
        await self.limits.clear(pair, LOGIN_WINDOW_SECONDS)
        await self.limits.clear(account_key, LOGIN_WINDOW_SECONDS)
        await self.limits.hit(address, limit * 4, LOGIN_WINDOW_SECONDS, cost=-1)  # a success does not count against the address
        return account

    async def log_in(self, session: AsyncSession, data: Credentials, client: str) -> Token:
        """A bearer token for the right email and password (see ``authenticate``)."""
        account = await self.authenticate(session, data, client)
        token, expires = tokens.issue(
            account.id, account.role, self.settings.secret_key, timedelta(minutes=self.settings.token_lifetime_minutes)
        )
        return Token(access_token=token, expires_at=expires)

    async def _dummy_hash(self) -> str:
        """A hash of no one's password, checked for unknown emails so that they answer as slowly as known ones."""
        if self._dummy is None:
            self._dummy = await self.passwords.hashed(secrets.token_urlsafe(24))
        return self._dummy

    async def me(self, session: AsyncSession, caller: Caller) -> AccountPublic:
        if caller.account_id is None:
            raise NotFound("this token belongs to no account (it is the bootstrap admin token)")
        account = await session.get(Account, caller.account_id)
        if account is None or account.disabled:
            raise NotAuthenticated("the account no longer exists or is disabled")
        owned = await session.execute(
            select(ProviderOwner.provider_id).where(ProviderOwner.account_id == account.id).order_by(ProviderOwner.granted_at)
        )
        return _public(account, list(owned.scalars()))

    async def set_language(self, session: AsyncSession, caller: Caller, language: str) -> AccountPublic:
        """The language the directory's mails to the account are written in from now on."""
        if language not in i18n.LANGUAGES:
            raise InvalidInput("language", f"one of {', '.join(i18n.LANGUAGES)}")
        account_id = _account_of(caller)
        async with session.begin():
            account = await session.get(Account, account_id)
            if account is None or account.disabled:
                raise NotAuthenticated("the account no longer exists or is disabled")
            account.language = language
        return await self.me(session, caller)

    async def add_npi(self, session: AsyncSession, caller: Caller, data: NpiClaim) -> AccountNpiPublic:
        """Register an NPI as the account's own; the verification worker checks it with the registry."""
        account_id = _account_of(caller)
        async with session.begin():
            row = await session.get(AccountNpi, (account_id, data.npi))
            if row is None:
                row = AccountNpi(account_id=account_id, npi=data.npi)
                session.add(row)
        return AccountNpiPublic.model_validate(row, from_attributes=True)

    async def npis(self, session: AsyncSession, caller: Caller) -> list[AccountNpiPublic]:
        rows = await session.execute(select(AccountNpi).where(AccountNpi.account_id == _account_of(caller)).order_by(AccountNpi.npi))
        return [AccountNpiPublic.model_validate(row, from_attributes=True) for row in rows.scalars()]

    async def set_role(self, session: AsyncSession, caller: Caller, account_id: uuid.UUID, role: Role) -> AccountPublic:
        callers.ensure_admin(caller)
        async with session.begin():
            account = await session.get(Account, account_id)
            if account is None:
                raise NotFound(f"no account {account_id}")
            if _RANK[role] < _RANK[Role(account.role)]:
                await self.sessions.end_all(session, account.id)  # a demoted account signs in again
            account.role = role.value
        if self.standing is not None:
            self.standing.forget(account_id)
        return _public(account, [])

    async def count_admins(self, session: AsyncSession) -> int:
        return (await session.execute(select(func.count()).select_from(Account).where(Account.role == Role.admin.value))).scalar_one()


_RANK = {Role.provider: 0, Role.moderator: 1, Role.admin: 2}


def _account_of(caller: Caller) -> uuid.UUID:
    if caller.account_id is None:
        raise NotFound("this token belongs to no account (it is the bootstrap admin token)")
    return caller.account_id


def _public(account: Account, listings: list[uuid.UUID]) -> AccountPublic:
    return AccountPublic(
        id=account.id,
        email=account.email,
        role=account.role,
        display_name=account.display_name,
        language=account.language,
        created_at=account.created_at,
        listings=listings,
    )
