"""What the consultation routes accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from directory.validation import NOT_BLANK, Email, Phone, Schema

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra={"pattern": NOT_BLANK})]
Message = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Preferred = Literal["phone", "email", "either"]


class ConsultationIn(Schema):
    """A request to be contacted by the clinic. No account; nothing medical should be written here."""

    name: PersonName = Field(description="how the clinic should address the requester", examples=["Sam"])
    phone: Phone | None = Field(default=None, description="a phone number (US); give a phone, an email, or both", examples=["(303) 555-0142"])
    email: Email | None = Field(default=None, description="an email address; a confirmation with a link to withdraw the request is sent to it")
    preferred_contact: Preferred = Field(default="either", description="how the requester would like to be contacted")
    preferred_time: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="when to call, in a few words", examples=["weekday mornings"]
    )
    message: Message | None = Field(default=None, description="a short note for the clinic; no medical details")
    consent: bool = Field(description="must be true: the requester agrees to share this request with the clinic")
    form_token: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(
        description="from GET /v1/providers/{id}/consultation-form, fetched when the form was shown (a form sent within 3 seconds of it is refused)"
    )
    website: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="leave out or empty: a field people never see (a request that fills it is dropped silently)"
    )

    @model_validator(mode="after")
    def _reachable(self) -> ConsultationIn:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an email address, so that the clinic can reach you")
        if self.preferred_contact == "phone" and not self.phone:
            raise ValueError("give a phone number to be contacted by phone")
        if self.preferred_contact == "email" and not self.email:
            raise ValueError("give an email address to be contacted by email")
        if self.consent is not True:
            raise ValueError("tick the box to agree that the request is shared with the clinic")
        return self


class ConsultationForm(BaseModel):
    accepting: bool = Field(description="whether this listing takes requests; when false, show its phone and website instead")
    form_token: str | None = Field(description="send it back with the request")
    min_seconds: int = Field(description="a request sent sooner than this after the token was issued is refused")


class ConsultationReceipt(BaseModel):
    reference: uuid.UUID = Field(description="the request's reference")
    status: Literal["received"] = "received"
    confirmation_mail: bool = Field(description="whether a confirmation (with a link to withdraw) is mailed to the requester")


class ConsultationPublic(BaseModel):
    """A request as the listing's owners see it."""

    id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    preferred_contact: str
    preferred_time: str | None
    message: str | None
    status: str = Field(description="new, contacted or closed")
    repeats: int = Field(description="identical requests sent again and folded into this one")
    delivered: bool = Field(description="whether the mail to the clinic was sent (until then it is retried)")
    via_partner: bool = Field(description="sent through a partner's embedded finder")
    created_at: datetime
    deletes_on: datetime = Field(description="when it is deleted (the retention period after it was made)")


class ConsultationUpdate(Schema):
    status: Literal["new", "contacted", "closed"]


class ConsultationSettings(Schema):
    accepting: bool = Field(description="take consultation requests from the listing's page and partners' embeds")
    email: Email | None = Field(default=None, description="where requests are mailed: the confirmed address of one of the listing's owners")


class ConsultationSettingsPublic(BaseModel):
    accepting: bool
    email: str | None


class Withdrawal(Schema):
    token: Annotated[str, StringConstraints(min_length=10, max_length=100)] = Field(description="the token of the link in the confirmation mail")


class VolumeRow(BaseModel):
    id: uuid.UUID | None
    name: str
    this_month: int = Field(description="in the current calendar month (UTC)")
    total: int


class Volumes(BaseModel):
    by_listing: list[VolumeRow] = Field(description="listings by requests received, most first (counts only)")
    by_partner: list[VolumeRow] = Field(description="partner keys by requests sent through them; id null: the directory's own pages and direct API calls")


class AccessReason(Schema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)] = Field(
        description="why a moderator reads this request (kept in the audit record)"
    )
