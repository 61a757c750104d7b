"""Which listings a caller may read and change, and which status they may give one.

Asked once per request: ``changeable`` loads the listing a caller may change in one statement
(the ownership test is part of it) and locks it for the change; services work on what it returns.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, Role, ensure_can_write
from directory.accounts.models import ProviderOwner
from directory.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from directory.listings.models import Provider, ProviderStatus
from directory.listings.queries import by_key, full_listing

#: Statuses only a moderator may give a listing.
MODERATED_STATUSES = {ProviderStatus.published.value, ProviderStatus.suspended.value}
CLAIM_IT = "this listing belongs to another account; claim it with POST /v1/providers/{id}/claims"


def owned_by(account_id: uuid.UUID) -> ColumnElement[bool]:
    return Provider.id.in_(select(ProviderOwner.provider_id).where(ProviderOwner.account_id == account_id))


def readable(caller: Caller) -> ColumnElement[bool]:
    """The condition a provider row must meet for this caller to see it."""
    if caller.moderates:
        return true()
    published = Provider.status == ProviderStatus.published.value
    if caller.role is Role.provider and caller.account_id is not None:
        return or_(published, owned_by(caller.account_id))
    return published


def may_change(caller: Caller) -> ColumnElement[bool]:
    """The condition a provider row must meet for this caller to change it: moderators change any
    listing, a provider account those it owns, nobody else any."""
    if caller.moderates:
        return true()
    if caller.role is Role.provider and caller.account_id is not None:
        return owned_by(caller.account_id)
    return false()


async def changeable(session: AsyncSession, caller: Caller, key: str | uuid.UUID) -> Provider:
    """The listing (by id or slug) with everything it shows, if this caller may change it.

    One statement decides, and locks the row for the change (PostgreSQL; SQLite serialises writers
    anyway): a concurrent change waits, and If-Match is checked against the version this change
    moves from. The lock is ``FOR NO KEY UPDATE``: a change of another listing may still add rows
    that refer to this one (a duplicate pair, a merge), where ``FOR UPDATE`` made the two wait on
    each other. A listing the caller may read but not change is a 403 (claim it); else a 404.
    """
    ensure_can_write(caller)
    query = (
        full_listing(for_change=True)
        .add_columns(may_change(caller).label("may_change"))
        .where(readable(caller), by_key(key))
        .with_for_update(of=Provider, key_share=True)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"no listing {key}")
    provider, allowed = row
    if not allowed:
        raise PermissionDenied(CLAIM_IT)
    if provider.status == ProviderStatus.merged.value:
        raise Conflict(f"this listing was merged into {provider.merged_into}; change that one")
    return provider


async def owned_listing(session: AsyncSession, caller: Caller, key: str | uuid.UUID) -> uuid.UUID:
    """The id of a listing this caller may change, for reads meant for its owners and moderators
    (its history, its verifications): one statement, nothing loaded but the id."""
    ensure_can_write(caller)
    row = (await session.execute(select(Provider.id, may_change(caller)).where(readable(caller), by_key(key)))).first()
    if row is None:
        raise NotFound(f"no listing {key}")
    if not row[1]:
        raise PermissionDenied(CLAIM_IT)
    return row[0]


async def can_change(session: AsyncSession, caller: Caller, provider_id: uuid.UUID) -> bool:
    """Whether this caller may change the listing (for reads that show owners more)."""
    if caller.moderates:
        return True
    if caller.role is not Role.provider or caller.account_id is None:
        return False
    owner = await session.execute(
        select(ProviderOwner.account_id).where(
            ProviderOwner.provider_id == provider_id, ProviderOwner.account_id == caller.account_id
        )
    )
    return owner.first() is not None


def imported_status(caller: Caller, wanted: str | None, current: str | None) -> str | None:
    """The status an imported row may give its listing. Moderators, administrators and keys with
    the ``publish`` scope (trusted publishers) set any; other keys follow the providers' rule:
    a row asking for ``published`` is held for review (``pending_review``) unless a moderator has
    already published the listing, and only a moderator suspends or restores one."""
    if wanted == ProviderStatus.merged.value and current != wanted:
        raise InvalidInput("status", "a listing is merged into another by a moderator's decision on a duplicate pair")
    if wanted is None or caller.moderates or "publish" in caller.scopes:
        return wanted
    if current == ProviderStatus.suspended.value:
        return current
    if wanted not in MODERATED_STATUSES or wanted == current:
        return wanted
    if wanted == ProviderStatus.published.value:
        return ProviderStatus.pending_review.value
    return current or ProviderStatus.pending_review.value


def ensure_status_allowed(caller: Caller, status: str | None, current: str | None = None) -> None:
    """Owners move their listing between draft, pending_review and closed; publishing is moderated."""
    if status is None or status == current:
        return
    if status == ProviderStatus.merged.value:
        raise InvalidInput("status", "a listing is merged into another by a moderator's decision on a duplicate pair (POST /v1/moderation/duplicates/{id}/merge)")
    if caller.moderates:
        return
    if status in MODERATED_STATUSES:
        raise InvalidInput("status", f"only a moderator may set status {status!r}; submit with status 'pending_review'")
    if current == ProviderStatus.suspended.value:
        raise InvalidInput("status", "a suspended listing can only be restored by a moderator")
