"""My listings, a new listing, and one listing's page in the portal: its details, status, review,
verification, preview and history. Every change goes through the listing service the API uses,
with the listing's version as If-Match: when someone else saved first, the page says what they
changed and keeps what this person typed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import Conflict, InvalidInput, PermissionDenied, PreconditionFailed
from directory.listings import mine
from directory.listings.schemas import ProviderCreate, ProviderUpdate
from directory.listings.service import ListingService
from directory.listings.team import Team
from directory.moderation import review
from directory.moderation.reports import KIND_WORDS, Reports
from directory.taxonomy.models import Condition, Service
from directory.taxonomy.service import TaxonomyService
from directory.verification.service import VerificationService
from directory.web.portal import forms
from directory.web.portal.pages import field_errors, page
from directory.web.portal.visits import N_, ThisVisit, redirect
from directory.web.routes import render_listing_shell

Listings = NamedDependency[ListingService]
Reader = NamedDependency[AsyncSession]
Writer = NamedDependency[AsyncSession]
Taxonomy = NamedDependency[TaxonomyService]


@get("/")
async def portal_home(visit: ThisVisit) -> Response[Any]:
    """The portal's front door: your listings when signed in, else the sign-in page."""
    return redirect(visit, "/portal/listings" if visit.account else "/portal/sign-in")


@get("/listings")
async def my_listings(visit: ThisVisit, reader: Reader) -> Response[str]:
    """Every listing the account owns, with its status in words, the moderator's last word, the
    verification and what is missing; and the account's claims with their progress."""
    account = visit.signed_in()
    owned = await mine.owned(reader, visit.caller)
    decisions = await mine.last_decisions(reader, [listing.id for listing in owned])
    claims = await review.claims_of(reader, visit.caller)
    rows = [
        {"listing": listing, "decision": decisions.get(listing.id), "missing": mine.missing_for_publication(listing, account.email_verified_at is not None)}
        for listing in owned
    ]
    return page(visit, "listings.html", rows=rows, claims=claims)


async def _catalog(reader: AsyncSession, taxonomy: TaxonomyService, language: str = "en") -> dict[str, Any]:
    """The conditions and services to choose from, named in the page's language."""
    conditions = await taxonomy.entries(reader, Condition, language)
    services = await taxonomy.entries(reader, Service, language)
    return {
        "conditions": [(entry.code, entry.name) for entry in conditions.items],
        "services": [(entry.code, entry.name) for entry in services.items],
    }


@get("/listings/new")
async def new_listing_form(visit: ThisVisit, reader: Reader) -> Response[str]:
    """Add a clinic: its name and first location; everything else on the listing's page."""
    visit.signed_in()
    return page(visit, "new_listing.html", values={}, forms=forms)


@post("/listings/new")
async def create_listing(visit: ThisVisit, writer: Writer, listings: Listings) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    values = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    try:
        location = forms.location_input(form, moved=False)
        name = str(form.get("listing_name", "")).strip()
        if not name:
            raise forms.FormInvalid({"listing_name": visit.t("give the clinic's name")})
        created = await listings.create(writer, visit.caller, ProviderCreate(name=name, locations=[location]))
    except forms.FormInvalid as invalid:
        return page(visit, "new_listing.html", 422, forms=forms, values=values, errors={("listing_name" if k == "name" else k): v for k, v in invalid.errors.items()})
    except InvalidInput as error:
        errors = {field.split(".")[-1]: reason for field, reason in field_errors(error).items()}
        return page(visit, "new_listing.html", 422, forms=forms, values=values, errors=errors)
    return redirect(visit, f"/portal/listings/{created.id}", visit.t("The listing is saved as a draft. Add its details, then submit it for review."))


async def edit_page(
    visit: ThisVisit, reader: AsyncSession, key: str | uuid.UUID, listings: ListingService, taxonomy: TaxonomyService,
    team: Team, verification: VerificationService, status: int = 200, **context: Any,
) -> Response[str]:  # fmt: skip
    """The listing's page in the portal, with the forms of its parts."""
    account = visit.signed_in()
    listing = await listings.get(reader, visit.caller, str(key))
    members, invitations = await team.members(reader, visit.caller, listing.id)
    records = await verification.records(reader, visit.caller, str(listing.id), 5)
    decision = (await mine.last_decisions(reader, [listing.id])).get(listing.id)
    # Visitors' open reports, for those who may change the listing (they see what waits for review too).
    reports: Reports = visit.state.reports
    open_reports = await reports.open_for(reader, listing.id) if listing.pending_changes is not None else []
    values = context.pop("values", None) or forms.details_values(listing)
    return page(
        visit, "edit.html", status, listing=listing, values=values, members=members, invitations=invitations, records=records,
        decision=decision, open_reports=open_reports, report_words=KIND_WORDS, missing=mine.missing_for_publication(listing, account.email_verified_at is not None),
        rems_missing=mine.rems_missing(listing),
        location_values={location.id: forms.location_values(location) for location in listing.locations},
        clinician_values={clinician.id: forms.clinician_values(clinician) for clinician in listing.clinicians},
        forms=forms, **(await _catalog(reader, taxonomy, visit.language)), **context,
    )  # fmt: skip


@get("/listings/{listing_id:uuid}")
async def edit_listing(
    visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, listings: Listings, taxonomy: Taxonomy,
    team: NamedDependency[Team], verification: NamedDependency[VerificationService],
) -> Response[str]:  # fmt: skip
    """A listing of the account's (or any, for a moderator): every part of it, editable."""
    return await edit_page(visit, reader, listing_id, listings, taxonomy, team, verification)


async def conflict_context(reader: AsyncSession, listing_id: uuid.UUID, form: dict[str, Any]) -> dict[str, Any]:
    """What someone else saved since this person's page was loaded."""
    try:
        since = datetime.fromisoformat(str(form.get("loaded_at", "")))
    except ValueError:
        return {"conflict": True}  # what changed is unknown: the page says only that it did
    changes = await mine.changes_since(reader, listing_id, since) if since.tzinfo else []
    return {"conflict": changes or True}


@post("/listings/{listing_id:uuid}/details")
async def save_details(
    visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, writer: Writer, listings: Listings, taxonomy: Taxonomy,
    team: NamedDependency[Team], verification: NamedDependency[VerificationService],
) -> Response[Any]:  # fmt: skip
    visit.signed_in()
    form = await visit.form()
    services = [code for code, _ in (await _catalog(reader, taxonomy))["services"]]
    try:
        update = forms.details_update(form, services)
        await listings.update(writer, visit.caller, str(listing_id), update, if_match_of(form))
    except forms.FormInvalid as invalid:
        return await edit_page(visit, reader, listing_id, listings, taxonomy, team, verification, 422, values=form, errors=invalid.errors)
    except PreconditionFailed:
        conflict = await conflict_context(reader, listing_id, form)
        return await edit_page(visit, reader, listing_id, listings, taxonomy, team, verification, 409, values=form, **conflict)
    except InvalidInput as error:
        errors = {field.split(".")[0]: reason for field, reason in field_errors(error).items()}
        return await edit_page(visit, reader, listing_id, listings, taxonomy, team, verification, 422, values=form, errors=errors)
    return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Saved."))


def if_match_of(form: dict[str, Any]) -> str:
    version = str(form.get("version", "")).strip()
    return f'"{version}"' if version.isdigit() else '"0"'


@post("/listings/{listing_id:uuid}/status")
async def change_status(visit: ThisVisit, listing_id: FromPath[uuid.UUID], writer: Writer, listings: Listings) -> Response[Any]:
    """Submit for review, go back to draft, or close the listing."""
    account = visit.signed_in()
    form = await visit.form()
    wanted = str(form.get("status", ""))
    if wanted == "pending_review" and account.email_verified_at is None:
        return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Confirm your email address first: open the link we mailed you (or send it again from your account page)."))
    try:
        if wanted == "closed":
            await listings.close(writer, visit.caller, str(listing_id), if_match_of(form))
        else:
            await listings.update(writer, visit.caller, str(listing_id), ProviderUpdate.model_validate({"status": wanted}), if_match_of(form))
    except PreconditionFailed:
        return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Someone else saved the listing meanwhile; check it and try again."))
    except (InvalidInput, Conflict, ValueError) as error:
        return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Not changed: {reason}.", reason=visit.said(getattr(error, "detail", None) or N_("that status cannot be chosen here"))))
    words = {
        "pending_review": N_("Submitted: a moderator will review the listing, usually within two working days. We will mail you the decision."),
        "draft": N_("The listing is a draft again."),
        "closed": N_("The listing is closed."),
    }
    return redirect(visit, f"/portal/listings/{listing_id}", visit.t(words.get(wanted, "Saved.")))


@post("/listings/{listing_id:uuid}/confirm")
async def confirm(visit: ThisVisit, listing_id: FromPath[uuid.UUID], writer: Writer, listings: Listings) -> Response[Any]:
    """"Still correct": the clinic stands by every detail of its listing as it is."""
    visit.signed_in()
    await visit.form()  # the CSRF token is checked with the form
    try:
        await listings.confirm(writer, visit.caller, str(listing_id), None)
    except (Conflict, PermissionDenied) as error:
        return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Not confirmed: {reason}", reason=visit.said(error.detail)))
    return redirect(visit, f"/portal/listings/{listing_id}", visit.t("Thank you: the listing now says its details were confirmed today."))


@get("/listings/{listing_id:uuid}/preview")
async def preview(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, listings: Listings) -> Response[str]:
    """The listing exactly as its public page will show it (the same page and script), as it is now."""
    visit.signed_in()
    listing = await listings.get(reader, visit.caller, str(listing_id))
    return render_listing_shell(visit.state.settings, listing.slug, source=f"/portal/listings/{listing.id}/preview.json", preview=True)


@get("/listings/{listing_id:uuid}/preview.json")
async def preview_document(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, listings: Listings) -> Response[Any]:
    visit.signed_in()
    listing = await listings.get(reader, visit.caller, str(listing_id))
    listing.pending_changes = None
    return Response(listing, headers={"Cache-Control": "no-store"})


@get("/listings/{listing_id:uuid}/history")
async def history(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, listings: Listings, cursor: FromQuery[str | None] = None) -> Response[str]:
    """Who changed what and when, newest first."""
    visit.signed_in()
    listing = await listings.get(reader, visit.caller, str(listing_id))
    entries = await listings.history(reader, visit.caller, str(listing_id), 50, cursor)
    return page(visit, "history.html", listing=listing, entries=entries)


ROUTES = [portal_home, my_listings, new_listing_form, create_listing, edit_listing, save_details, change_status, confirm, preview, preview_document, history]
