"""Claiming a listing from its public page ("Is this your clinic?"), with the NPI step, and
accepting an invitation to co-manage one. Signing up or in on the way leads back here."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.models import ProviderOwner
from directory.accounts.schemas import NpiClaim
from directory.accounts.service import AccountService
from directory.errors import Conflict, DirectoryError, NotFound, invalid_input
from directory.listings.service import ListingService
from directory.listings.team import Team
from directory.moderation.schemas import ClaimIn
from directory.moderation.service import ModerationService
from directory.web.portal.pages import field_errors, page
from directory.web.portal.visits import ThisVisit, redirect

Reader = NamedDependency[AsyncSession]
Writer = NamedDependency[AsyncSession]


async def _claim_page(visit: ThisVisit, reader: AsyncSession, listings: ListingService, slug: str, status: int = 200, **context: Any) -> Response[str]:
    listing = await listings.load_readable(reader, visit.caller, slug)
    owned = (await reader.execute(select(ProviderOwner.account_id).where(ProviderOwner.provider_id == listing.id))).scalars().all()
    return page(visit, "claim.html", status, listing=listing, has_owner=bool(owned), mine=visit.account is not None and visit.account.id in owned, **context)


@get("/claim/{slug:str}")
async def claim_form(visit: ThisVisit, slug: FromPath[str], reader: Reader, listings: NamedDependency[ListingService]) -> Response[str]:
    """Is this your clinic? Claim its listing: your NPI speeds the review up."""
    visit.signed_in()
    return await _claim_page(visit, reader, listings, slug, values={})


@post("/claim/{slug:str}")
async def claim(
    visit: ThisVisit, slug: FromPath[str], reader: Reader, writer: Writer, listings: NamedDependency[ListingService],
    accounts: NamedDependency[AccountService], moderation: NamedDependency[ModerationService],
) -> Response[Any]:  # fmt: skip
    account = visit.signed_in()
    form = await visit.form()
    values = {"npi": str(form.get("npi", "")).strip(), "message": str(form.get("message", "")).strip()}
    if account.email_verified_at is None:
        errors = {"form": visit.t("confirm your email address first: open the link we mailed you, or send it again from your account page")}
        return await _claim_page(visit, reader, listings, slug, 403, values=values, errors=errors)
    try:
        if values["npi"]:
            await accounts.add_npi(writer, visit.caller, NpiClaim(npi=values["npi"]))
        result = await moderation.claim(writer, visit.caller, slug, ClaimIn(message=values["message"] or None))
    except ValidationError as error:
        return await _claim_page(visit, reader, listings, slug, 422, values=values, errors=field_errors(invalid_input(error)))
    except Conflict as error:
        return await _claim_page(visit, reader, listings, slug, 409, values=values, errors={"form": error.detail})
    if result.status == "approved":
        return redirect(visit, f"/portal/listings/{result.provider_id}", visit.t("Your claim is granted: the listing's NPI is one the registry confirmed for you."))
    return redirect(visit, "/portal/listings", visit.t("Your claim was sent. A moderator checks it, usually within two working days; we will mail you the result."))


@get("/invitations/{token:str}")
async def invitation(visit: ThisVisit, token: FromPath[str], reader: Reader, team: NamedDependency[Team]) -> Response[str]:
    """An invitation to co-manage a listing: accept it while signed in with the invited address."""
    visit.signed_in()
    try:
        row, listing = await team.invitation(reader, token)
    except (NotFound, Conflict) as error:
        return page(visit, "problem.html", error.status, title=visit.t("This invitation cannot be used"), detail=error.detail)
    return page(visit, "invitation.html", token=token, listing=listing, email=row.email)


@post("/invitations/{token:str}")
async def accept_invitation(visit: ThisVisit, token: FromPath[str], writer: Writer, team: NamedDependency[Team]) -> Response[Any]:
    visit.signed_in()
    await visit.form()
    try:
        provider_id = await team.accept(writer, visit.caller, token)
    except DirectoryError as error:
        return page(visit, "problem.html", error.status, title=visit.t("This invitation cannot be used"), detail=error.detail)
    return redirect(visit, f"/portal/listings/{provider_id}", visit.t("You now manage this listing."))


ROUTES = [claim_form, claim, invitation, accept_invitation]
