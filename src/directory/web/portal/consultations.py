"""The portal's consultation inbox: a listing's requests (read, marked contacted or closed) and the
choice to take them, and where they are mailed. Owners only, as through the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from directory.consultations.schemas import ConsultationSettings
from directory.consultations.service import Consultations
from directory.errors import DirectoryError, invalid_input
from directory.web.portal.pages import field_errors, page
from directory.web.portal.visits import N_, ThisVisit, redirect

Reader = NamedDependency[AsyncSession]
Writer = NamedDependency[AsyncSession]
Service = NamedDependency[Consultations]
STATUS_WORDS = {"new": N_("New"), "contacted": N_("Contacted"), "closed": N_("Closed")}
MARKED = {"new": N_("Marked new."), "contacted": N_("Marked contacted."), "closed": N_("Marked closed.")}


@get("/listings/{listing_id:uuid}/consultations")
async def inbox(visit: ThisVisit, listing_id: FromPath[uuid.UUID], reader: Reader, consultations: Service) -> Response[str]:
    """The listing's requests, newest first, with the settings form."""
    visit.signed_in()
    key = str(listing_id)
    settings = await consultations.settings_of(reader, visit.caller, key)
    return page(
        visit, "consultations.html", listing_id=key, requests=await consultations.inbox(reader, visit.caller, key, None, 200),
        settings=settings, addresses=await consultations.addresses(reader, visit.caller, key), status_words=STATUS_WORDS,
        retention_days=consultations.retention.days, errors={},
    )  # fmt: skip


@post("/listings/{listing_id:uuid}/consultations/settings")
async def save_settings(visit: ThisVisit, listing_id: FromPath[uuid.UUID], writer: Writer, consultations: Service) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    here = f"/portal/listings/{listing_id}/consultations"
    try:
        data = ConsultationSettings(accepting=form.get("accepting") == "on", email=str(form.get("email", "")).strip() or None)
        await consultations.configure(writer, visit.caller, str(listing_id), data)
    except ValidationError as error:
        return redirect(visit, here, visit.t("Not saved: {reason}.", reason=visit.said(next(iter(field_errors(invalid_input(error)).values())))))
    except DirectoryError as error:
        return redirect(visit, here, visit.t("Not saved: {reason}.", reason=visit.said(error.detail)))
    words = N_("The listing now takes consultation requests.") if data.accepting else N_("The listing no longer takes consultation requests.")
    return redirect(visit, here, visit.t(words))


@post("/listings/{listing_id:uuid}/consultations/{request_id:uuid}")
async def mark(visit: ThisVisit, listing_id: FromPath[uuid.UUID], request_id: FromPath[uuid.UUID], writer: Writer, consultations: Service) -> Response[Any]:
    visit.signed_in()
    form = await visit.form()
    status = str(form.get("status", ""))
    here = f"/portal/listings/{listing_id}/consultations"
    if status not in STATUS_WORDS:
        return redirect(visit, here, visit.t("Not changed: choose new, contacted or closed."))
    await consultations.mark(writer, visit.caller, str(listing_id), request_id, status)
    return redirect(visit, here, visit.t(MARKED[status]))


ROUTES = [inbox, save_settings, mark]
