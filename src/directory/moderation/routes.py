"""Moderation routes, and claiming a listing."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, writers_only
from directory.listings.schemas import ProviderPublic
from directory.moderation.duplicates import Duplicates
from directory.moderation.reports import Reports
from directory.moderation.schemas import (
    ClaimIn,
    ClaimPublic,
    DecisionIn,
    DuplicateDecision,
    DuplicatePublic,
    ListingAction,
    ModerationQueue,
    PendingChangePublic,
    ReportDecision,
    ReportIn,
    ReportPublic,
)
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


    @get("/reports", summary="Open reports of problems with listings")
    async def open_reports(
        self,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        reports: NamedDependency[Reports],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="at most this many")] = 50,
    ) -> list[ReportPublic]:
        """Reports visitors made that no moderator has decided yet: those of the listings with the most
        open reports first (three or more: the listing needs review), then oldest first.

        Who: moderators and administrators."""
        return [ReportPublic.model_validate(report, from_attributes=True) for report, *_ in await reports.open_reports(reader, caller, limit)]

    @post("/reports/{report_id:uuid}/decision", status_code=HTTP_200_OK, summary="Resolve or dismiss a report")
    async def decide_report(
        self,
        report_id: FromPath[uuid.UUID],
        data: JSONBody[ReportDecision],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        reports: NamedDependency[Reports],
    ) -> ReportPublic:
        """resolve (the listing was wrong; correct it too) or dismiss (it was right). Who: moderators and administrators."""
        return await reports.decide(writer, caller, report_id, data)


    @get("/duplicates", summary="Pairs of listings that may be one clinic")
    async def duplicates(
        self,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        duplicates: NamedDependency[Duplicates],
        status: Annotated[Literal["open", "dismissed", "merged"], QueryParameter(description="open (to decide), dismissed or merged")] = "open",
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="at most this many")] = 50,
    ) -> list[DuplicatePublic]:
        """Possible duplicates, the likeliest first: two listings sharing an NPI, a phone number, a
        website's domain, or a location within 50 m under a similar name, with each reason and a
        score. Pairs are found as listings are created, imported and changed; `directory duplicates`
        checks the whole directory again.

        Who: moderators and administrators."""
        return await duplicates.queue(reader, caller, status, limit)

    @post("/duplicates/{candidate_id:uuid}/decision", status_code=HTTP_200_OK, summary="Dismiss or merge a pair")
    async def decide_duplicate(
        self,
        candidate_id: FromPath[uuid.UUID],
        data: JSONBody[DuplicateDecision],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        duplicates: NamedDependency[Duplicates],
    ) -> DuplicatePublic:
        """dismiss (two different clinics: the pair is not shown again) or merge into `keep`.

        A merge retires the other listing (status `merged`): its owners own `keep` too, its pending
        claims and open reports move there, its history and verification records stay under its id;
        its id and slug answer 301 to `keep` (API, web page, FHIR, HSDS); the change feed has one
        `merged` entry naming both (webhook `listing.merged`), and the export drops it.

        Who: moderators and administrators."""
        return await duplicates.decide(writer, caller, candidate_id, data)


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

    @post("/{key:str}/reports", status_code=202, summary="Report a problem with a listing", opt={"problems": (404, 429)})
    async def report(
        self,
        key: FromPath[str],
        request: Request,
        data: JSONBody[ReportIn],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        reports: NamedDependency[Reports],
    ) -> ReportPublic:
        """Tell the directory that a published listing is wrong: closed for good, a wrong phone or
        address, a service it does not offer, or something else (say what in `details`).

        Anonymous: nothing about the reporter is asked or kept. At most 5 reports an hour from one
        address (429 with Retry-After). The report goes to the moderators and, by mail, to the
        listing's owners (202). Who: anyone.
        """
        client = request.client.host if request.client else "unknown"
        return await reports.report(writer, caller, key, data, client)
