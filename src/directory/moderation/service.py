"""The moderators' work: reviewing listings, claims and trust-field changes; suspending and restoring."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts import callers
from directory.accounts.callers import Caller, Role
from directory.accounts.models import Account, AccountNpi, ProviderOwner
from directory.columns import utcnow
from directory.errors import Conflict, NotFound
from directory.listings.changes import bump_version, due_now, record_change
from directory.listings.held import Decision, PendingChange, PendingChangePublic
from directory.listings.models import Clinician, Provider, ProviderStatus, VerificationStatus
from directory.listings.schemas import ProviderPublic
from directory.listings.service import ListingService
from directory.listings.team import owner_recipients
from directory.mail import enqueue, notice
from directory.moderation.models import Claim
from directory.moderation.schemas import ClaimIn, ClaimPublic, DecisionIn, ListingAction, ModerationQueue, QueuedListing

Item = TypeVar("Item", Claim, PendingChange)

#: (statuses an action applies to, status it leads to)
_ACTIONS = {
    "approve": ({ProviderStatus.pending_review.value}, ProviderStatus.published.value),
    "reject": ({ProviderStatus.pending_review.value}, ProviderStatus.draft.value),
    "suspend": ({ProviderStatus.draft.value, ProviderStatus.pending_review.value, ProviderStatus.published.value}, ProviderStatus.suspended.value),
    "restore": ({ProviderStatus.suspended.value}, ProviderStatus.published.value),
}


class ModerationService:
    def __init__(self, listings: ListingService) -> None:
        self.listings = listings

    async def queue(self, session: AsyncSession, caller: Caller, limit: int) -> ModerationQueue:
        """Everything waiting for a decision, oldest first."""
        callers.ensure_moderator(caller)
        listings = await session.execute(
            select(Provider.id, Provider.slug, Provider.name, Provider.status, Provider.updated_at)
            .where(Provider.status == ProviderStatus.pending_review.value)
            .order_by(Provider.updated_at)
            .limit(limit)
        )
        claims = await session.execute(
            select(Claim).where(Claim.status == Decision.pending.value).order_by(Claim.created_at).limit(limit)
        )
        changes = await session.execute(
            select(PendingChange)
            .where(PendingChange.status == Decision.pending.value)
            .order_by(PendingChange.requested_at)
            .limit(limit)
        )
        return ModerationQueue(
            listings=[QueuedListing(**row._mapping) for row in listings],
            claims=[ClaimPublic.model_validate(c, from_attributes=True) for c in claims.scalars()],
            changes=[PendingChangePublic.model_validate(c, from_attributes=True) for c in changes.scalars()],
        )

    async def act_on_listing(self, session: AsyncSession, caller: Caller, key: str, data: ListingAction) -> ProviderPublic:
        callers.ensure_moderator(caller)
        allowed_from, target = _ACTIONS[data.action]
        async with self.listings.changing(session, caller, key, None, required=False) as provider:
            if provider.status not in allowed_from:
                raise Conflict(f"cannot {data.action} a listing that is {provider.status}")
            before = provider.status
            provider.status = target
            if target == ProviderStatus.published.value and provider.published_at is None:
                provider.published_at = utcnow()
            record_change(
                session, provider.id, caller, data.action, {"status": {"before": before, "after": target}}, data.reason
            )
            for email, language in await owner_recipients(session, provider.id):
                enqueue(session, notice("listing_decision", email, language, listing=provider.name, action=data.action, reason=data.reason))
        return await self.listings.present(session, provider)

    async def verify_now(self, session: AsyncSession, caller: Caller, key: str) -> ProviderPublic:
        """Queue the listing for verification at once; the worker answers within seconds."""
        callers.ensure_moderator(caller)
        # The version moves on: the public listing shows its verification status.
        async with self.listings.changing(session, caller, key, None, required=False) as provider:
            due_now(provider)
            record_change(session, provider.id, caller, "verification_requested", {})
        return await self.listings.present(session, provider)

    async def claim(self, session: AsyncSession, caller: Caller, key: str, data: ClaimIn) -> ClaimPublic:
        """Ask to own a listing nobody owns. Granted at once when its NPI is one the account verified."""
        callers.ensure_can_write(caller)
        if caller.role is not Role.provider or caller.account_id is None:
            raise Conflict("claims are made by provider accounts")
        async with self.listings.recorder.transaction(session):
            provider = await self.listings.load_readable(session, caller, key)
            owners = await session.execute(select(ProviderOwner.account_id).where(ProviderOwner.provider_id == provider.id))
            if owners.first() is not None:
                raise Conflict("this listing already has an owner; contact the moderators if it is yours")
            pending = await session.execute(
                select(Claim.id).where(
                    Claim.provider_id == provider.id,
                    Claim.account_id == caller.account_id,
                    Claim.status == Decision.pending.value,
                )
            )
            if pending.first() is not None:
                raise Conflict("you already have a pending claim on this listing")
            claim = Claim(provider_id=provider.id, account_id=caller.account_id, message=data.message)
            if provider.npi and await _has_verified_npi(session, caller.account_id, provider.npi):
                claim.status, claim.decided_by, claim.decided_at = Decision.approved.value, "npi-match", utcnow()
                claim.reason = "the listing's NPI is a verified NPI of the claiming account"
                session.add(ProviderOwner(provider_id=provider.id, account_id=caller.account_id))
                record_change(session, provider.id, caller, "claimed", {"owners": {"before": [], "after": [str(caller.account_id)]}}, claim.reason)
                await _mail_claimant(session, claim, provider.name)
            session.add(claim)
        return ClaimPublic.model_validate(claim, from_attributes=True)

    async def grant_matching_claims(self, session: AsyncSession, account_id: uuid.UUID, npi: str) -> int:
        """An account's NPI was just verified: its pending claims on listings with that NPI are
        granted without a moderator (as a claim made after the check would have been)."""
        granted = 0
        async with self.listings.recorder.transaction(session):
            rows = await session.execute(
                select(Claim, Provider.name)
                .join(Provider, Provider.id == Claim.provider_id)
                .where(Claim.account_id == account_id, Claim.status == Decision.pending.value, Provider.npi == npi)
            )
            for claim, listing in rows.all():
                owners = await session.execute(select(ProviderOwner.account_id).where(ProviderOwner.provider_id == claim.provider_id))
                if owners.first() is not None:
                    continue  # someone owns it meanwhile: a moderator decides
                claim.status, claim.decided_by, claim.decided_at = Decision.approved.value, "npi-match", utcnow()
                claim.reason = "the listing's NPI is a verified NPI of the claiming account"
                session.add(ProviderOwner(provider_id=claim.provider_id, account_id=account_id))
                record_change(session, claim.provider_id, Caller(Role.provider, account_id), "claimed", {"owners": {"before": [], "after": [str(account_id)]}}, claim.reason)
                await _mail_claimant(session, claim, listing)
                granted += 1
        return granted

    async def decide_claim(self, session: AsyncSession, caller: Caller, claim_id: uuid.UUID, data: DecisionIn) -> ClaimPublic:
        callers.ensure_moderator(caller)
        async with self.listings.recorder.transaction(session):
            claim = await _undecided(session, Claim, claim_id, "claim")
            _decide(claim, caller, data)
            if claim.status == Decision.approved.value:
                session.add(ProviderOwner(provider_id=claim.provider_id, account_id=claim.account_id))
                record_change(
                    session, claim.provider_id, caller, "claim_approved",
                    {"owners": {"before": None, "after": [str(claim.account_id)]}}, data.reason,
                )  # fmt: skip
            provider = await session.get(Provider, claim.provider_id)
            await _mail_claimant(session, claim, provider.name if provider else "the listing")
        return ClaimPublic.model_validate(claim, from_attributes=True)

    async def decide_change(
        self, session: AsyncSession, caller: Caller, change_id: uuid.UUID, data: DecisionIn
    ) -> PendingChangePublic:
        """Approving applies the change and sends the listing back to verification."""
        callers.ensure_moderator(caller)
        async with self.listings.recorder.transaction(session):
            change = await _undecided(session, PendingChange, change_id, "change")
            _decide(change, caller, data)
            if change.status == Decision.approved.value:
                provider = await session.get(Provider, change.provider_id)
                assert provider is not None
                target: Provider | Clinician | None = provider
                name = change.field
                if change.clinician_id is not None:
                    target = await session.get(Clinician, change.clinician_id)
                    if target is None:
                        raise Conflict("the clinician is no longer listed")
                    name = f"clinicians.{change.clinician_id}.{change.field}"
                before = getattr(target, change.field)
                setattr(target, change.field, change.value)
                target.verification_status = VerificationStatus.pending.value
                due_now(provider)
                await bump_version(session, provider)
                record_change(
                    session, provider.id, caller, "trust_change_approved",
                    {name: {"before": before, "after": change.value}}, data.reason,
                )  # fmt: skip
        return PendingChangePublic.model_validate(change, from_attributes=True)


async def _undecided(session: AsyncSession, model: type[Item], item_id: uuid.UUID, kind: str) -> Item:
    item = await session.get(model, item_id)
    if item is None:
        raise NotFound(f"no {kind} {item_id}")
    if item.status != Decision.pending.value:
        raise Conflict(f"the {kind} was already {item.status}")
    return item


def _decide(item: Claim | PendingChange, caller: Caller, data: DecisionIn) -> None:
    item.status = Decision.approved.value if data.decision == "approve" else Decision.rejected.value
    item.decided_by = caller.label
    item.decided_at = utcnow()
    item.reason = data.reason


async def _mail_claimant(session: AsyncSession, claim: Claim, listing: str) -> None:
    account = await session.get(Account, claim.account_id)
    if account is not None:
        enqueue(session, notice("claim_decision", account.email, account.language, listing=listing, approved=claim.status == Decision.approved.value, reason=claim.reason))


async def _has_verified_npi(session: AsyncSession, account_id: uuid.UUID, npi: str) -> bool:
    found = await session.execute(
        select(AccountNpi.npi).where(
            AccountNpi.account_id == account_id, AccountNpi.npi == npi, AccountNpi.status == "verified"
        )
    )
    return found.first() is not None
