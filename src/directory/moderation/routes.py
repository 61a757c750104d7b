"""Moderation routes, and claiming a listing."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, writers_only
from directory.listings.schemas import ProviderPublic
from directory.moderation.schemas import ClaimIn, ClaimPublic, DecisionIn, ListingAction, ModerationQueue, PendingChangePublic
from directory.moderation.service import ModerationService

SECURITY = [{"bearer": []}]


class ModerationController(Controller):
    path = "/v1/moderation"
    tags = ["moderation"]
    guards = [writers_only]
    security = SECURITY

    @get("/queue", summary="What waits for a moderator")
    async def queue(
        self,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="at most this many of each kind")] = 50,
    ) -> ModerationQueue:
        """Listings pending review, pending claims and pending trust-field changes, oldest first.

        Who: moderators and administrators.
        """
        return await moderation.queue(reader, caller, limit)

    @post("/listings/{key:str}/actions", status_code=HTTP_200_OK, summary="Approve, reject, suspend or restore a listing")
    async def act_on_listing(
        self,
        key: FromPath[str],
        data: JSONBody[ListingAction],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
    ) -> ProviderPublic:
        """approve (pending_review to published), reject (back to draft, with a reason), suspend (with
        a reason) or restore (suspended to published). The decision and reason go into the history.

        Who: moderators and administrators."""
        return await moderation.act_on_listing(writer, caller, key, data)

    @post("/listings/{key:str}/verify", status_code=202, summary="Verify a listing now")
    async def verify_now(
        self,
        key: FromPath[str],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
    ) -> ProviderPublic:
        """Queue the listing's NPIs for checking against the registry at once (202); the outcome
        appears in its verification status and in GET /v1/providers/{id}/verifications.

        Who: moderators and administrators."""
        return await moderation.verify_now(writer, caller, key)

    @post("/claims/{claim_id:uuid}/decision", status_code=HTTP_200_OK, summary="Decide a claim")
    async def decide_claim(
        self,
        claim_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
    ) -> ClaimPublic:
        """Approving makes the claiming account an owner of the listing. Who: moderators and administrators."""
        return await moderation.decide_claim(writer, caller, claim_id, data)

    @post("/changes/{change_id:uuid}/decision", status_code=HTTP_200_OK, summary="Decide a trust-field change")
    async def decide_change(
        self,
        change_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
    ) -> PendingChangePublic:
        """Approving applies the NPI, credential or license change and sends the listing back to verification.

        Who: moderators and administrators."""
        return await moderation.decide_change(writer, caller, change_id, data)


class ClaimController(Controller):
    path = "/v1/providers"
    tags = ["listings"]

    @post("/{key:str}/claims", guards=[writers_only], security=SECURITY, summary="Claim a listing")
    async def claim(
        self,
        key: FromPath[str],
        data: JSONBody[ClaimIn],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        moderation: NamedDependency[ModerationService],
    ) -> Response[ClaimPublic]:
        """Ask to own a published listing that has no owner.

        Granted at once (201, status approved) when the listing's NPI is a verified NPI of your
        account; otherwise it waits (202, status pending): it is granted by itself as soon as that
        NPI, registered with POST /v1/me/npis, passes the registry check, else a moderator decides.
        The decision is mailed to the account.

        Who: provider accounts.
        """
        claim = await moderation.claim(writer, caller, key, data)
        return Response(claim, status_code=HTTP_201_CREATED if claim.status == "approved" else 202)
