"""Accounts of clinic staff, moderators and administrators, and which listings they own."""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from directory.accounts.callers import Role
from directory.columns import UTCDateTime, new_id, utcnow


class Account(SQLModel, table=True):
    __tablename__ = "account"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(default=Role.provider.value, max_length=20)
    """One of ``ACCOUNT_ROLES``."""
    display_name: str | None = Field(default=None, max_length=100)
    disabled: bool = False
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the account's holder followed the link mailed to its address (portal sign-ups)."""
    language: str = Field(default="en", max_length=8)
    """The language the directory writes to the account in (one of ``i18n.LANGUAGES``)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProviderOwner(SQLModel, table=True):
    """An account that may change a listing."""

    __tablename__ = "provider_owner"

    provider_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True)
    )
    account_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccountNpi(SQLModel, table=True):
    """An NPI an account says is its own, and whether the registry confirmed it."""

    __tablename__ = "account_npi"

    account_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    )
    npi: str = Field(primary_key=True, max_length=10)
    status: str = Field(default="pending", max_length=20)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountToken(SQLModel, table=True):
    """A single-use link sent by mail: confirming an email address, or resetting a password.

    Only the token's SHA-256 is stored: the table alone cannot be used to take over an account."""

    __tablename__ = "account_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True))
    purpose: str = Field(max_length=20)
    """verify_email or reset_password."""
    email: str | None = Field(default=None, max_length=254)
    """The address a verify_email token confirms (a new one, when the account changes its email)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser of the portal. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
