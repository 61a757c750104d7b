"""Accounts, listing ownership and the field-level history of listings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("display_name", sa.String(100)),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "provider_owner",
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("granted_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_provider_owner_account_id", "provider_owner", ["account_id"])
    op.create_table(
        "listing_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("reason", sa.String(1000)),
        sa.Column("at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_listing_change_provider", "listing_change", ["provider_id", "id"])


def downgrade() -> None:
    op.drop_table("listing_change")
    op.drop_table("provider_owner")
    op.drop_table("account")
