"""What an account's own listings look like to it: each with its status, the last word of a
moderator, and what is still missing before it can be published; and what changed in a listing
since a moment (to tell an editor what someone else saved meanwhile)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller
from directory.i18n import N_
from directory.listings import policy
from directory.listings.models import ListingChange, Provider
from directory.listings.queries import full_listing
from directory.listings.schemas import ProviderPublic

#: Moderators' actions whose reason the listing's owners should read.
DECISIONS = ("approve", "reject", "suspend", "restore")


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str | None
    at: datetime


async def owned(session: AsyncSession, caller: Caller) -> list[Provider]:
    """The listings the caller's account owns, most recently changed first."""
    if caller.account_id is None:
        return []
    query = full_listing().where(policy.owned_by(caller.account_id)).order_by(Provider.updated_at.desc())
    return list((await session.execute(query)).scalars())


async def last_decisions(session: AsyncSession, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decision]:
    """The latest moderator's decision on each listing, with its reason."""
    if not provider_ids:
        return {}
    rows = await session.execute(
        select(ListingChange.provider_id, ListingChange.action, ListingChange.reason, ListingChange.at)
        .where(ListingChange.provider_id.in_(provider_ids), ListingChange.action.in_(DECISIONS))
        .order_by(ListingChange.id)
    )
    return {row.provider_id: Decision(row.action, row.reason, row.at) for row in rows}


def missing_for_publication(listing: Provider | ProviderPublic, email_confirmed: bool) -> list[str]:
    """What a moderator will ask for before publishing, in words (of a stored listing or as presented)."""
    missing = []
    if not email_confirmed:
        missing.append(N_("confirm your email address (open the link we mailed you)"))
    if not listing.locations and not listing.telehealth:
        missing.append(N_("add a location, or offer telehealth"))
    if not listing.conditions:
        missing.append(N_("say which conditions the clinic treats"))
    if not listing.services:
        missing.append(N_("list at least one service"))
    if not (listing.phone or listing.website or any(location.phone for location in listing.locations)):
        missing.append(N_("give a phone number or a website, so patients can reach the clinic"))
    return missing


async def changes_since(session: AsyncSession, provider_id: uuid.UUID, since: datetime) -> list[ListingChange]:
    """The listing's recorded changes after ``since``, oldest first."""
    rows = await session.execute(
        select(ListingChange).where(ListingChange.provider_id == provider_id, ListingChange.at > since).order_by(ListingChange.id)
    )
    return list(rows.scalars())


def rems_missing(listing: ProviderPublic) -> bool:
    """It offers Spravato (esketamine) at a location, but no location says it is certified under the
    REMS program: esketamine may only be given in a certified setting (shown to its owners)."""
    offers = any(service.code == "esketamine-spravato" for service in listing.services)
    return offers and bool(listing.locations) and not any(location.rems_certified for location in listing.locations)
