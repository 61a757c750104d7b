"""What the account routes accept and return. No response ever carries a password hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from directory import i18n
from directory.validation import NPI, Email, Label, Schema


class AccountCreate(Schema):
    """A new provider account (clinic staff)."""

    email: Email = Field(examples=["owner@hudsonketamine.example"])
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="at least 10 characters, not the email, not a common password", examples=["a long passphrase"]
    )
    display_name: Label | None = None
    language: Literal[tuple(i18n.LANGUAGES)] = Field(  # type: ignore[valid-type]
        default=i18n.DEFAULT, description="the language the directory's mails to the account are written in"
    )


class AccountSettings(Schema):
    language: Literal[tuple(i18n.LANGUAGES)] = Field(  # type: ignore[valid-type]
        description="the language the directory's mails to the account are written in", examples=["es"]
    )


class Credentials(Schema):
    email: Email
    password: Annotated[
        str,
        StringConstraints(min_length=1, max_length=128),
        Field(json_schema_extra={"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"}, description="your password (spaces around it are not part of it)"),
    ]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class AccountPublic(BaseModel):
    """The account as its holder sees it (GET /v1/me); other callers never see emails."""

    id: uuid.UUID
    email: str
    role: str
    display_name: str | None
    language: str = Field(default=i18n.DEFAULT, description="the language the directory's mails to the account are written in")
    created_at: datetime
    listings: list[uuid.UUID] = Field(description="ids of the listings this account owns")


class RoleChange(Schema):
    role: Literal["provider", "moderator", "admin"]


class NpiClaim(Schema):
    npi: NPI = Field(description="an organisation NPI (NPI-2) of your practice", examples=["1234567893"])


class AccountNpiPublic(BaseModel):
    npi: str
    status: str = Field(description="pending, verified or failed; checked against the NPPES registry")
    checked_at: datetime | None
