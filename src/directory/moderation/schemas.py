"""What the moderation routes accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from directory.listings.held import PendingChangePublic
from directory.validation import NOT_BLANK, Schema

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), Field(json_schema_extra={"pattern": NOT_BLANK})]


class ListingAction(Schema):
    """approve or reject a listing pending review; suspend a listing or restore a suspended one."""

    action: Literal["approve", "reject", "suspend", "restore"]
    reason: Reason | None = Field(default=None, description="required to reject or suspend; kept in the history")

    @model_validator(mode="after")
    def _reason_when_refusing(self) -> ListingAction:
        if self.action in ("reject", "suspend") and not self.reason:
            raise ValueError(f"give a reason to {self.action}")
        return self


class DecisionIn(Schema):
    decision: Literal["approve", "reject"]
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reason_when_rejecting(self) -> DecisionIn:
        if self.decision == "reject" and not self.reason:
            raise ValueError("give a reason to reject")
        return self


class ClaimIn(Schema):
    message: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="who you are at the clinic, for the moderator"
    )


class ClaimPublic(BaseModel):
    id: uuid.UUID
    provider_id: uuid.UUID
    account_id: uuid.UUID
    status: str = Field(description="pending, approved or rejected")
    message: str | None
    created_at: datetime
    decided_at: datetime | None
    reason: str | None


class QueuedListing(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    status: str
    updated_at: datetime


class ModerationQueue(BaseModel):
    listings: list[QueuedListing] = Field(description="listings waiting for review")
    claims: list[ClaimPublic]
    changes: list[PendingChangePublic] = Field(description="changes to trust fields waiting for a decision")


ReportKind = Literal["closed_permanently", "wrong_phone", "wrong_address", "service_not_offered", "other"]


class ReportIn(Schema):
    """What is wrong with a listing, as a visitor saw it. Nothing about the visitor is asked or kept."""

    kind: ReportKind = Field(description="closed_permanently, wrong_phone, wrong_address, service_not_offered, or other (say what in details)")
    details: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        default=None, description="what is wrong, in a few words (required for other); no personal or medical details"
    )

    @model_validator(mode="after")
    def _details_for_other(self) -> ReportIn:
        if self.kind == "other" and not self.details:
            raise ValueError("say what is wrong in details")
        return self


class ReportPublic(BaseModel):
    id: uuid.UUID
    provider_id: uuid.UUID
    kind: str
    details: str | None
    status: str = Field(description="open, resolved or dismissed")
    created_at: datetime


class ReportDecision(Schema):
    decision: Literal["resolve", "dismiss"] = Field(description="resolve: the listing was wrong (and is corrected); dismiss: it was right")
    note: Reason | None = None


class DuplicateReason(BaseModel):
    reason: Literal["npi", "phone", "website", "nearby"] = Field(
        description="npi: the same organisation NPI; phone: the same phone number; website: the same registered domain; nearby: a location within 50 m under a similar name"
    )
    detail: str = Field(examples=["both list NPI 1234567893"])


class DuplicateListing(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    status: str
    npi: str | None
    phone: str | None
    website: str | None
    city: str | None = Field(description="the city of its first location")
    owners: int = Field(description="how many accounts own it")
    updated_at: datetime


class DuplicatePublic(BaseModel):
    id: uuid.UUID
    first: DuplicateListing
    second: DuplicateListing
    reasons: list[DuplicateReason]
    score: float = Field(description="0-1: how likely the two are one clinic (each reason adds; an NPI most)")
    status: str = Field(description="open, dismissed (not the same clinic) or merged")
    found_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


class DuplicateDecision(Schema):
    decision: Literal["dismiss", "merge"] = Field(description="dismiss: two different clinics; merge: one clinic, kept as `keep`")
    keep: uuid.UUID | None = Field(default=None, description="for merge: the id of the listing that stays (one of the pair); the other leads to it")
    note: Reason | None = None
