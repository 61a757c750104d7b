"""Who manages a listing: its owners, and colleagues invited by mail to join them.

An owner (or a moderator) invites an address; the mail's link is single-use, lasts 14 days and
can be accepted only by an account with that address, which accepting confirms. Owners can remove
each other; the last owner cannot be removed (a listing without owners is claimed again instead).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Uuid, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from directory.accounts.callers import Caller, Role
from directory.accounts.models import Account, ProviderOwner
from directory.accounts.sessions import digest
from directory.columns import UTCDateTime, utcnow
from directory.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from directory.listings import policy
from directory.listings.changes import record_change
from directory.listings.models import Provider
from directory.mail import enqueue, notice

INVITATION_LASTS = timedelta(days=14)
MAX_OPEN_INVITATIONS = 20


class ListingInvitation(SQLModel, table=True):
    __tablename__ = "listing_invitation"

    token_hash: str = Field(primary_key=True, max_length=64)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True))
    email: str = Field(max_length=254)
    invited_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Member:
    account_id: uuid.UUID
    email: str
    display_name: str | None
    since: datetime


@dataclass(frozen=True)
class OpenInvitation:
    email: str
    invited_at: datetime
    expires_at: datetime


class Team:
    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock

    async def members(self, session: AsyncSession, caller: Caller, key: str | uuid.UUID) -> tuple[list[Member], list[OpenInvitation]]:
        """The owners of a listing the caller may change, and the invitations still open."""
        provider_id = await policy.owned_listing(session, caller, key)
        owners = await session.execute(
            select(Account.id, Account.email, Account.display_name, ProviderOwner.granted_at)
            .join(ProviderOwner, ProviderOwner.account_id == Account.id)
            .where(ProviderOwner.provider_id == provider_id)
            .order_by(ProviderOwner.granted_at)
        )
        invitations = await session.execute(
            select(ListingInvitation)
            .where(ListingInvitation.provider_id == provider_id, ListingInvitation.accepted_at.is_(None), ListingInvitation.expires_at > self.clock())
            .order_by(ListingInvitation.created_at)
        )
        return (
            [Member(*row) for row in owners],
            [OpenInvitation(i.email, i.created_at, i.expires_at) for i in invitations.scalars()],
        )

    async def invite(self, session: AsyncSession, caller: Caller, key: str | uuid.UUID, email: str, inviter: str, language: str = "en") -> None:
        """Mail an invitation to co-manage the listing (inside a transaction of its own)."""
        async with session.begin():
            provider_id = await policy.owned_listing(session, caller, key)
            provider = await session.get(Provider, provider_id)
            assert provider is not None
            already = await session.execute(
                select(Account.id).join(ProviderOwner, ProviderOwner.account_id == Account.id).where(ProviderOwner.provider_id == provider_id, Account.email == email)
            )
            if already.first() is not None:
                raise InvalidInput("email", "this person already manages the listing")
            open_count = await session.execute(
                select(func.count()).select_from(ListingInvitation).where(
                    ListingInvitation.provider_id == provider_id, ListingInvitation.accepted_at.is_(None), ListingInvitation.expires_at > self.clock()
                )
            )
            if open_count.scalar_one() >= MAX_OPEN_INVITATIONS:
                raise Conflict(f"a listing has at most {MAX_OPEN_INVITATIONS} open invitations; wait for some to be accepted or to expire")
            token = secrets.token_urlsafe(32)
            session.add(ListingInvitation(token_hash=digest(token), provider_id=provider_id, email=email, invited_by=caller.label, expires_at=self.clock() + INVITATION_LASTS))
            record_change(session, provider_id, caller, "owner_invited", {"invitations": {"before": None, "after": [email]}})
            enqueue(session, notice("invitation", email, language, token=token, listing=provider.name, inviter=inviter))

    async def invitation(self, session: AsyncSession, token: str) -> tuple[ListingInvitation, str]:
        """An open invitation by its link, with the listing's name."""
        row = await session.get(ListingInvitation, digest(token)) if token and len(token) < 200 else None
        if row is None:
            raise NotFound("this invitation link is not valid")
        if row.accepted_at is not None:
            raise Conflict("this invitation was already accepted")
        if row.expires_at <= self.clock():
            raise Conflict("this invitation has expired; ask for a new one")
        provider = await session.get(Provider, row.provider_id)
        assert provider is not None
        return row, provider.name

    async def accept(self, session: AsyncSession, caller: Caller, token: str) -> uuid.UUID:
        """The signed-in account becomes an owner, if the invitation was sent to its address."""
        if caller.account_id is None:
            raise PermissionDenied("sign in with the account of the invited address")
        async with session.begin():
            row, _ = await self.invitation(session, token)
            account = await session.get(Account, caller.account_id)
            assert account is not None
            if account.email.lower() != row.email.lower():
                raise PermissionDenied(f"this invitation was sent to another address; sign in with the account of {_masked(row.email)}")
            row.accepted_at = self.clock()
            account.email_verified_at = account.email_verified_at or self.clock()  # the link reached this address
            owned = await session.get(ProviderOwner, (row.provider_id, account.id))
            if owned is None:
                session.add(ProviderOwner(provider_id=row.provider_id, account_id=account.id))
                record_change(session, row.provider_id, caller, "owner_added", {"owners": {"before": None, "after": [str(account.id)]}}, "invitation accepted")
        return row.provider_id

    async def remove(self, session: AsyncSession, caller: Caller, key: str | uuid.UUID, account_id: uuid.UUID) -> None:
        async with session.begin():
            provider_id = await policy.owned_listing(session, caller, key)
            owners = list((await session.execute(select(ProviderOwner).where(ProviderOwner.provider_id == provider_id))).scalars())
            target = next((owner for owner in owners if owner.account_id == account_id), None)
            if target is None:
                raise NotFound("this account does not manage the listing")
            if len(owners) == 1 and caller.role is Role.provider:
                raise Conflict("a listing keeps at least one owner; invite someone else first")
            await session.execute(delete(ProviderOwner).where(ProviderOwner.provider_id == provider_id, ProviderOwner.account_id == account_id))
            record_change(session, provider_id, caller, "owner_removed", {"owners": {"before": [str(account_id)], "after": None}})


async def owner_recipients(session: AsyncSession, provider_id: uuid.UUID) -> list[tuple[str, str]]:
    """The addresses of the listing's owners whose accounts are not disabled, each with the language
    its account is written to in: who is told of the listing's news by mail."""
    rows = await session.execute(
        select(Account.email, Account.language)
        .join(ProviderOwner, ProviderOwner.account_id == Account.id)
        .where(ProviderOwner.provider_id == provider_id, Account.disabled.is_(False))
    )
    return [(email, language) for email, language in rows]


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}…@{domain}"
