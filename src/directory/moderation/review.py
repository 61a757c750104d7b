"""What a moderator reads before deciding, beside what waits (``ModerationService.queue``): a
listing's changes since it was last approved, shown before and after; a claim with the claiming
account's address (confirmed or not, and its domain against the listing's website) and its NPIs
as the registry found them beside the listing's NPI; a held trust change with the value it
replaces. And, for an account, its own claims with their progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts import callers
from directory.accounts.callers import Caller
from directory.accounts.models import Account, AccountNpi, ProviderOwner
from directory.listings.held import Decision, PendingChange
from directory.listings.models import Clinician, ListingChange, Provider, ProviderStatus
from directory.moderation.models import Claim

#: Actions after which a listing's later changes are what the next review is about.
_REVIEWED = ("approve", "restore", "created")


@dataclass
class ListingReview:
    provider: Provider
    owners: list[tuple[str, bool]]
    """Each owner's email, and whether it is confirmed."""
    changes: list[ListingChange] = field(default_factory=list)

    def net(self) -> list[tuple[str, Any, Any]]:
        """Each field changed since the last approval, once: its value then and now (fields that
        came back to where they were, or were empty and still are, are left out)."""
        first: dict[str, Any] = {}
        last: dict[str, Any] = {}
        for entry in self.changes:
            for name, change in (entry.changes or {}).items():
                if not isinstance(change, dict) or not {"before", "after"} <= change.keys():
                    continue
                first.setdefault(name, change["before"])
                last[name] = change["after"]
        empty = (None, "", [], {})
        return [(name, first[name], after) for name, after in last.items() if first[name] != after and not (first[name] in empty and after in empty)]


@dataclass
class ClaimReview:
    claim: Claim
    provider: Provider
    email: str
    email_confirmed: bool
    same_domain: bool
    """The account's email domain is the listing's website's."""
    npis: list[tuple[str, str]]
    """The account's NPIs and what the registry said of each."""


@dataclass
class ChangeReview:
    change: PendingChange
    provider: Provider
    before: Any
    who: str


async def listing_reviews(session: AsyncSession, caller: Caller, limit: int, status: str = ProviderStatus.pending_review.value) -> list[ListingReview]:
    callers.ensure_moderator(caller)
    providers = list((await session.execute(select(Provider).where(Provider.status == status).order_by(Provider.updated_at).limit(limit))).scalars())
    reviews = []
    for provider in providers:
        owners = await session.execute(
            select(Account.email, Account.email_verified_at).join(ProviderOwner, ProviderOwner.account_id == Account.id).where(ProviderOwner.provider_id == provider.id)
        )
        history = list((await session.execute(select(ListingChange).where(ListingChange.provider_id == provider.id).order_by(ListingChange.id.desc()).limit(200))).scalars())
        since: list[ListingChange] = []
        for entry in history:  # newest first, back to the last approval
            since.append(entry)
            if entry.action in _REVIEWED and entry.action != "created":
                since.pop()
                break
        reviews.append(ListingReview(provider, [(email, verified is not None) for email, verified in owners], list(reversed(since))))
    return reviews


def _domain(text: str | None) -> str:
    if not text:
        return ""
    host = urlsplit(text).hostname if "//" in text else text.rpartition("@")[2]
    host = (host or "").lower()
    return host.removeprefix("www.")


async def claim_reviews(session: AsyncSession, caller: Caller, limit: int) -> list[ClaimReview]:
    callers.ensure_moderator(caller)
    rows = await session.execute(
        select(Claim, Provider, Account)
        .join(Provider, Provider.id == Claim.provider_id)
        .join(Account, Account.id == Claim.account_id)
        .where(Claim.status == Decision.pending.value)
        .order_by(Claim.created_at)
        .limit(limit)
    )
    reviews = []
    for claim, provider, account in rows:
        npis = await session.execute(select(AccountNpi.npi, AccountNpi.status).where(AccountNpi.account_id == account.id).order_by(AccountNpi.npi))
        website = _domain(provider.website)
        reviews.append(
            ClaimReview(
                claim, provider, account.email, account.email_verified_at is not None,
                bool(website) and _domain(account.email) == website, [(npi, status) for npi, status in npis],
            )
        )  # fmt: skip
    return reviews


async def change_reviews(session: AsyncSession, caller: Caller, limit: int) -> list[ChangeReview]:
    callers.ensure_moderator(caller)
    rows = await session.execute(
        select(PendingChange, Provider).join(Provider, Provider.id == PendingChange.provider_id)
        .where(PendingChange.status == Decision.pending.value).order_by(PendingChange.requested_at).limit(limit)
    )  # fmt: skip
    reviews = []
    for change, provider in rows:
        target: Any = provider
        who = ""
        if change.clinician_id is not None:
            target = await session.get(Clinician, change.clinician_id)
            who = f"{target.first_name} {target.last_name}" if target else "a clinician no longer listed"
        reviews.append(ChangeReview(change, provider, getattr(target, change.field, None) if target is not None else None, who))
    return reviews


@dataclass(frozen=True)
class OwnClaim:
    id: uuid.UUID
    listing: str
    slug: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    reason: str | None


async def claims_of(session: AsyncSession, caller: Caller) -> list[OwnClaim]:
    """The claims an account made, newest first."""
    if caller.account_id is None:
        return []
    rows = await session.execute(
        select(Claim, Provider.name, Provider.slug).join(Provider, Provider.id == Claim.provider_id)
        .where(Claim.account_id == caller.account_id).order_by(Claim.created_at.desc()).limit(100)
    )  # fmt: skip
    return [OwnClaim(c.id, name, slug, c.status, c.created_at, c.decided_at, c.reason) for c, name, slug in rows]
