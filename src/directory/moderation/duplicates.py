"""Moderators' duplicates queue: pairs of listings that may be one clinic, dismissed or merged.

A merge keeps one listing (the survivor) and retires the other (status ``merged``, ``merged_into``):

- the other's owners become owners of the survivor; its pending claims and open reports move there;
- its history and verification records stay under its own id, which its owners and moderators
  still read (GET /v1/providers/{id}/history and /verifications);
- its id and slug lead to the survivor: 301 from the API read, the web page, FHIR and HSDS;
  listings merged into it earlier now lead to the survivor too;
- partners see one ``merged`` entry in the change feed (``listing.merged`` webhook) naming both ids,
  and the export no longer has it.

Finding the pairs is ``directory.listings.duplicates``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts import callers
from directory.accounts.callers import Caller
from directory.accounts.models import ProviderOwner
from directory.columns import utcnow
from directory.errors import Conflict, InvalidInput, NotFound
from directory.listings.changes import Recorder, bump_version, record_change
from directory.listings.duplicates import DuplicateCandidate
from directory.listings.held import Decision
from directory.listings.models import Location, Provider, ProviderStatus
from directory.moderation.models import Claim, ListingReport
from directory.moderation.schemas import DuplicateDecision, DuplicateListing, DuplicatePublic

C = DuplicateCandidate


class Duplicates:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def queue(self, session: AsyncSession, caller: Caller, status: str, limit: int) -> list[DuplicatePublic]:
        """Pairs in this status, the likeliest first."""
        callers.ensure_moderator(caller)
        rows = (await session.execute(select(C).where(C.status == status).order_by(C.score.desc(), C.found_at, C.id).limit(limit))).scalars().all()
        return await self._present(session, list(rows))

    async def decide(self, session: AsyncSession, caller: Caller, candidate_id: uuid.UUID, data: DuplicateDecision) -> DuplicatePublic:
        callers.ensure_moderator(caller)
        async with self.recorder.transaction(session):
            candidate = await session.get(C, candidate_id, with_for_update=True)
            if candidate is None:
                raise NotFound(f"no duplicate candidate {candidate_id}")
            if candidate.status != "open":
                raise Conflict(f"the pair was already {candidate.status}")
            if data.decision == "merge":
                if data.keep not in (candidate.first_id, candidate.second_id):
                    raise InvalidInput("keep", f"give the id of one of the pair: {candidate.first_id} or {candidate.second_id}")
                other = candidate.second_id if data.keep == candidate.first_id else candidate.first_id
                await self._merge(session, caller, data.keep, other)
            candidate.status = "merged" if data.decision == "merge" else "dismissed"
            candidate.decided_by, candidate.decided_at, candidate.note = caller.label, utcnow(), data.note
            await session.flush()
        return (await self._present(session, [candidate]))[0]

    async def _merge(self, session: AsyncSession, caller: Caller, keep: uuid.UUID, gone: uuid.UUID) -> None:
        rows = {p.id: p for p in (await session.execute(select(Provider).where(Provider.id.in_([keep, gone])).order_by(Provider.id).with_for_update(key_share=True))).scalars()}
        survivor, retired = rows.get(keep), rows.get(gone)
        if survivor is None or retired is None:
            raise NotFound("one of the pair no longer exists")
        for provider in (survivor, retired):
            if provider.status in (ProviderStatus.merged.value, ProviderStatus.closed.value):
                raise Conflict(f"{provider.name} is {provider.status}: it cannot take part in a merge")
        # Owners: the retired listing's owners own the survivor too.
        owners = set((await session.execute(select(ProviderOwner.account_id).where(ProviderOwner.provider_id == keep))).scalars())
        for account_id in (await session.execute(select(ProviderOwner.account_id).where(ProviderOwner.provider_id == gone))).scalars():
            if account_id not in owners:
                session.add(ProviderOwner(provider_id=keep, account_id=account_id))
        # Pending claims and open reports now concern the survivor.
        await session.execute(
            update(Claim).where(Claim.provider_id == gone, Claim.status == Decision.pending.value).values(provider_id=keep).execution_options(synchronize_session=False)
        )
        await session.execute(
            update(ListingReport).where(ListingReport.provider_id == gone, ListingReport.status == "open").values(provider_id=keep).execution_options(synchronize_session=False)
        )
        # What led to the retired listing leads to the survivor.
        await session.execute(update(Provider).where(Provider.merged_into == gone).values(merged_into=keep).execution_options(synchronize_session=False))
        before = retired.status
        retired.status, retired.merged_into = ProviderStatus.merged.value, keep
        await bump_version(session, retired)
        record_change(session, gone, caller, "merged", {"status": {"before": before, "after": "merged"}, "merged_into": {"before": None, "after": str(keep)}})
        record_change(session, keep, caller, "merged_in", {"merged": {"before": None, "after": str(gone)}})
        # The survivor's public picture does not change: it is not touched (no feed entry of its own).

    async def _present(self, session: AsyncSession, candidates: list[DuplicateCandidate]) -> list[DuplicatePublic]:
        ids = {c.first_id for c in candidates} | {c.second_id for c in candidates}
        if not ids:
            return []
        owners = dict(
            (await session.execute(select(ProviderOwner.provider_id, func.count()).where(ProviderOwner.provider_id.in_(ids)).group_by(ProviderOwner.provider_id))).all()
        )
        first_location = select(Location.provider_id, func.min(Location.id).label("id")).where(Location.provider_id.in_(ids)).group_by(Location.provider_id).subquery()
        cities = dict(
            (await session.execute(select(Location.provider_id, Location.city).join(first_location, first_location.c.id == Location.id))).all()
        )
        listings = {
            p.id: DuplicateListing(
                id=p.id, slug=p.slug, name=p.name, status=getattr(p.status, "value", p.status), npi=p.npi, phone=p.phone, website=p.website,
                city=cities.get(p.id), owners=owners.get(p.id, 0), updated_at=p.updated_at,
            )  # fmt: skip
            for p in (await session.execute(select(Provider).where(Provider.id.in_(ids)))).scalars()
        }
        return [
            DuplicatePublic(
                id=c.id, first=listings[c.first_id], second=listings[c.second_id], reasons=c.reasons, score=c.score, status=c.status,  # type: ignore[arg-type]
                found_at=c.found_at, decided_by=c.decided_by, decided_at=c.decided_at, note=c.note,
            )  # fmt: skip
            for c in candidates
        ]
