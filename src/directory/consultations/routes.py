"""Consultation request routes: the patient's form and request, the owners' inbox and settings,
the requester's withdrawal, and the moderators' counts."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.accounts.callers import Caller, writers_only
from directory.consultations.schemas import (
    AccessReason,
    ConsultationForm,
    ConsultationIn,
    ConsultationPublic,
    ConsultationReceipt,
    ConsultationSettings,
    ConsultationSettingsPublic,
    ConsultationUpdate,
    Volumes,
    Withdrawal,
)
from directory.consultations.service import Consultations

SECURITY = [{"bearer": []}]


class ConsultationController(Controller):
    path = "/v1/providers"
    tags = ["consultations"]

    @get("/{key:str}/consultation-form", summary="Start a consultation request form", opt={"problems": (404,)})
    async def form(self, key: FromPath[str], reader: NamedDependency[AsyncSession], consultations: NamedDependency[Consultations]) -> ConsultationForm:
        """Whether the listing takes consultation requests and, if it does, the token to send back
        with the request (fetch it when the form is shown: a request sent within 3 seconds of it is
        refused, and it lasts a day). Who: anyone; partner pages with their browser key."""
        return await consultations.form(reader, key)

    @post(
        "/{key:str}/consultation-requests", status_code=HTTP_202_ACCEPTED, summary="Request a free consultation",
        opt={"problems": (404, 422, 429)},
    )  # fmt: skip
    async def request_consultation(
        self,
        key: FromPath[str],
        request: Request,
        data: JSONBody[ConsultationIn],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
    ) -> ConsultationReceipt:
        """Ask the clinic to contact you: a name, a phone number and/or an email, how and when to be
        contacted, an optional short note (no medical details), and consent to share it with the clinic.

        No account. The request is sealed (encrypted) at once, mailed to the clinic off the request
        path (retried until it is sent), shown in the clinic's inbox, and deleted after 90 days; when
        an email is given, a confirmation with a link to withdraw it is mailed too, in the language of
        `Accept-Language` (English or Spanish). 202 with the
        request's reference. At most 5 an hour from one address and 30 an hour to one listing (429);
        an identical request within a day is folded into the first. 404 when the listing does not
        take requests (show its phone and website instead).

        Who: anyone; partner pages with their browser key (the partner is counted, nothing else kept)."""
        client = request.client.host if request.client else "unknown"
        settings = request.app.state.settings
        base = settings.public_url or str(request.base_url).rstrip("/")
        language = i18n.from_header(request.headers.get("accept-language"))  # the confirmation mail's
        return await consultations.submit(writer, caller, key, data, client, base, language)

    @get("/{key:str}/consultation-requests", guards=[writers_only], security=SECURITY, summary="The listing's consultation requests")
    async def inbox(
        self,
        key: FromPath[str],
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
        status: Annotated[Literal["new", "contacted", "closed"] | None, QueryParameter(description="only requests in this state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="at most this many, newest first")] = 50,
    ) -> list[ConsultationPublic]:
        """The listing's requests, newest first, undelivered ones too (`delivered: false`: the mail
        to the clinic is still being retried). Who: the listing's owners only."""
        return await consultations.inbox(reader, caller, key, status, limit)

    @patch("/{key:str}/consultation-requests/{request_id:uuid}", guards=[writers_only], security=SECURITY, summary="Mark a consultation request")
    async def mark(
        self,
        key: FromPath[str],
        request_id: FromPath[uuid.UUID],
        data: JSONBody[ConsultationUpdate],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
    ) -> ConsultationPublic:
        """contacted (the clinic reached the person), closed, or new again. Who: the listing's owners only."""
        return await consultations.mark(writer, caller, key, request_id, data.status)

    @get("/{key:str}/consultation-settings", guards=[writers_only], security=SECURITY, summary="Whether the listing takes consultation requests")
    async def get_settings(
        self, key: FromPath[str], reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller], consultations: NamedDependency[Consultations]
    ) -> ConsultationSettingsPublic:
        """Who: the listing's owners."""
        return await consultations.settings_of(reader, caller, key)

    @put("/{key:str}/consultation-settings", guards=[writers_only], security=SECURITY, summary="Take consultation requests, or stop")
    async def put_settings(
        self,
        key: FromPath[str],
        data: JSONBody[ConsultationSettings],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
    ) -> ConsultationSettingsPublic:
        """Turn requests on with the address they are mailed to (the confirmed address of one of the
        listing's owners), or off. The public listing says whether it takes requests
        (`accepts_consultation_requests`). Who: the listing's owners."""
        return await consultations.configure(writer, caller, key, data)


class WithdrawalController(Controller):
    path = "/v1/consultation-requests"
    tags = ["consultations"]

    @post("/{request_id:uuid}/withdrawal", status_code=HTTP_200_OK, summary="Withdraw a consultation request", opt={"problems": (404,)})
    async def withdraw(
        self, request_id: FromPath[uuid.UUID], data: JSONBody[Withdrawal], writer: NamedDependency[AsyncSession], consultations: NamedDependency[Consultations]
    ) -> dict[str, str]:
        """The requester takes the request back with the token of the link in their confirmation
        mail: it is deleted at once. Who: whoever holds the link."""
        await consultations.withdraw(writer, request_id, data.token)
        return {"status": "withdrawn"}


class ConsultationModerationController(Controller):
    path = "/v1/moderation"
    tags = ["moderation"]
    guards = [writers_only]
    security = SECURITY

    @get("/consultations", summary="Consultation request volumes (counts only)")
    async def volumes(
        self,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="rows of each list")] = 50,
    ) -> Volumes:
        """How many requests each listing received and each partner key sent, in all and this calendar
        month: counts only, to spot abuse. Who: moderators and administrators."""
        return await consultations.volumes(reader, caller, limit)

    @post("/consultation-requests/{request_id:uuid}/reading", status_code=HTTP_200_OK, summary="Read one consultation request (recorded)")
    async def read(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[AccessReason],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        consultations: NamedDependency[Consultations],
    ) -> ConsultationPublic:
        """A moderator reads one request to look into abuse, giving the reason: who read it, when and
        why is kept. Who: moderators and administrators."""
        return await consultations.read_for_abuse(writer, caller, request_id, data.reason)
