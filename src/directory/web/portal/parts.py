"""A listing's parts in the portal: its locations (placed by the geocoder, or where the owner moved
the pin), its clinicians, and the people who manage it. Each form saves one part through the
listing service, with the listing's version as If-Match."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import Conflict, DirectoryError, InvalidInput, NotFound, PreconditionFailed
from directory.listings.schemas import ClinicianUpdate, LocationUpdate
from directory.listings.service import ListingService
from directory.listings.team import Team
from directory.validation import EMAIL_PATTERN
from directory.web.portal import forms
from directory.web.portal.listings import conflict_context, edit_page, if_match_of
from directory.web.portal.pages import field_errors
from directory.web.portal.visits import ThisVisit, Visit, redirect

Listings = NamedDependency[ListingService]
Reader = NamedDependency[AsyncSession]
Writer = NamedDependency[AsyncSession]

_ADDRESS = ("address_line1", "address_line2", "city", "state", "postal_code")


class Again:
    """Showing the listing's page again with what was posted, when a part's form did not save."""

    def __init__(self, visit: Visit, reader: AsyncSession, listing_id: uuid.UUID, state: Any) -> None:
        self.visit, self.reader, self.listing_id, self.state = visit, reader, listing_id, state

    async def page(self, status: int, **context: Any) -> Response[str]:
        s = self.state
        return await edit_page(self.visit, self.reader, self.listing_id, s.listings, s.taxonomy, s.team, s.verification, status, **context)


async def _failed(again: Again, form: dict[str, Any], part: str, error: Exception) -> Response[str]:
    """The page again, with the part's form as it was posted and why it did not save."""
    if isinstance(error, forms.FormInvalid):
        errors = error.errors
    elif isinstance(error, PreconditionFailed):
        return await again.page(409, open_part=part, posted=form, **await conflict_context(again.reader, again.listing_id, form))
    elif isinstance(error, DirectoryError):
        errors = {field.split(".")[-1] if field != "body" else "form": reason for field, reason in field_errors(error).items()}
    else:
        raise error
    return await again.page(422, open_part=part, posted=form, part_errors=errors, summary={f"field-{part}-{name}": reason for name, reason in errors.items()})


@post("/listings/{listing_id:uuid}/locations")
async def add_location(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, writer: Writer, listings: Listings) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    try:
        await listings.add_location(writer, visit.caller, str(listing_id), forms.location_input(form, moved=False), if_match_of(form))
    except (forms.FormInvalid, DirectoryError) as error:
        return await _failed(Again(visit, reader, listing_id, visit.state), form, "new-location", error)
    return redirect(visit, f"/portal/listings/{listing_id}#locations", visit.t("Location added: check its pin on the map."))


@post("/listings/{listing_id:uuid}/locations/{location_id:int}")
async def save_location(
    visit: ThisVisit, listing_id: FromPath[uuid.UUID], location_id: FromPath[int], reader: Reader, writer: Writer, listings: Listings
) -> Response[Any]:
    """Save a location. Its address is placed again only when it changed; a pin moved by hand stays where it was put."""
    visit.signed_in()
    form = await visit.form()
    try:
        listing = await listings.get(reader, visit.caller, str(listing_id))
        current = next((location for location in listing.locations if location.id == location_id), None)
        if current is None:
            raise NotFound(f"the listing has no location {location_id}")
        posted = forms.location_input(form, moved=form.get("moved") == "yes")
        data = posted.model_dump(exclude={"country"})
        unchanged = [name for name in _ADDRESS if (data.get(name) or None) == (getattr(current, name) or None)]
        if form.get("moved") != "yes":
            data.pop("latitude"), data.pop("longitude")
            if len(unchanged) == len(_ADDRESS):
                for name in _ADDRESS:
                    data.pop(name)
        await listings.update_location(writer, visit.caller, str(listing_id), location_id, LocationUpdate.model_validate(data), if_match_of(form))
    except (forms.FormInvalid, DirectoryError) as error:
        return await _failed(Again(visit, reader, listing_id, visit.state), form, f"location-{location_id}", error)
    return redirect(visit, f"/portal/listings/{listing_id}#location-{location_id}", visit.t("Location saved."))


@post("/listings/{listing_id:uuid}/locations/{location_id:int}/remove")
async def remove_location(visit: ThisVisit, listing_id: FromPath[uuid.UUID], location_id: FromPath[int], writer: Writer, listings: Listings) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    try:
        await listings.delete_location(writer, visit.caller, str(listing_id), location_id, if_match_of(form))
    except (Conflict, PreconditionFailed, NotFound) as error:
        return redirect(visit, f"/portal/listings/{listing_id}#locations", visit.t("Not removed: {reason}.", reason=visit.said(error.detail)))
    return redirect(visit, f"/portal/listings/{listing_id}#locations", visit.t("Location removed."))


@post("/listings/{listing_id:uuid}/clinicians")
async def add_clinician(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, writer: Writer, listings: Listings) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    try:
        await listings.add_clinician(writer, visit.caller, str(listing_id), forms.clinician_input(form), if_match_of(form))
    except (forms.FormInvalid, DirectoryError) as error:
        return await _failed(Again(visit, reader, listing_id, visit.state), form, "new-clinician", error)
    return redirect(visit, f"/portal/listings/{listing_id}#clinicians", visit.t("Clinician added."))


@post("/listings/{listing_id:uuid}/clinicians/{clinician_id:uuid}")
async def save_clinician(
    visit: ThisVisit, listing_id: FromPath[uuid.UUID], clinician_id: FromPath[uuid.UUID], reader: Reader, writer: Writer, listings: Listings
) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    try:
        posted = forms.clinician_input(form)
        await listings.update_clinician(writer, visit.caller, str(listing_id), clinician_id, ClinicianUpdate.model_validate(posted.model_dump()), if_match_of(form))
    except (forms.FormInvalid, DirectoryError) as error:
        return await _failed(Again(visit, reader, listing_id, visit.state), form, f"clinician-{clinician_id}", error)
    return redirect(visit, f"/portal/listings/{listing_id}#clinician-{clinician_id}", visit.t("Clinician saved. A new NPI, credential or license on a published listing waits for a moderator."))


@post("/listings/{listing_id:uuid}/clinicians/{clinician_id:uuid}/remove")
async def remove_clinician(visit: ThisVisit, listing_id: FromPath[uuid.UUID], clinician_id: FromPath[uuid.UUID], writer: Writer, listings: Listings) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    try:
        await listings.remove_clinician(writer, visit.caller, str(listing_id), clinician_id, if_match_of(form))
    except (PreconditionFailed, NotFound) as error:
        return redirect(visit, f"/portal/listings/{listing_id}#clinicians", visit.t("Not removed: {reason}.", reason=visit.said(error.detail)))
    return redirect(visit, f"/portal/listings/{listing_id}#clinicians", visit.t("Clinician removed."))


@post("/listings/{listing_id:uuid}/invitations")
async def invite(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, writer: Writer, team: NamedDependency[Team]) -> Response[Any]:
    """Invite a colleague by email to co-manage the listing."""
    account = visit.signed_in()
    form = await visit.form()
    email = str(form.get("invite_email", "")).strip().lower()
    try:
        if not re.match(EMAIL_PATTERN, email) or len(email) > 254:
            raise InvalidInput("invite_email", "enter an email address such as name@clinic.example")
        await team.invite(writer, visit.caller, listing_id, email, account.display_name or account.email, visit.language)
    except InvalidInput as error:
        errors = {"invite_email": error.errors[0].reason}
        return await Again(visit, reader, listing_id, visit.state).page(422, open_part="people", posted=form, part_errors=errors, summary={"field-invite_email": errors["invite_email"]})
    except Conflict as error:
        return redirect(visit, f"/portal/listings/{listing_id}#people", visit.t("Not sent: {reason}.", reason=visit.said(error.detail)))
    return redirect(visit, f"/portal/listings/{listing_id}#people", visit.t("Invitation sent to {email}.", email=email))


@post("/listings/{listing_id:uuid}/owners/{account_id:uuid}/remove")
async def remove_owner(visit: ThisVisit, listing_id: FromPath[uuid.UUID], account_id: FromPath[uuid.UUID], writer: Writer, team: NamedDependency[Team]) -> Response[Any]:
    account = visit.signed_in()
    await visit.form()
    try:
        await team.remove(writer, visit.caller, listing_id, account_id)
    except (Conflict, NotFound) as error:
        return redirect(visit, f"/portal/listings/{listing_id}#people", visit.t("Not removed: {reason}.", reason=visit.said(error.detail)))
    if account_id == account.id:
        return redirect(visit, "/portal/listings", visit.t("You no longer manage that listing."))
    return redirect(visit, f"/portal/listings/{listing_id}#people", visit.t("Removed."))


ROUTES = [add_location, save_location, remove_location, add_clinician, save_clinician, remove_clinician, invite, remove_owner]
