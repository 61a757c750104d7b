"""Moderation: claims on listings and trust-field changes waiting for a decision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def _decision_columns() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", TIMESTAMP),
        sa.Column("reason", sa.String(1000)),
    ]


def upgrade() -> None:
    op.create_table(
        "claim",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message", sa.String(2000)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        *_decision_columns(),
    )
    op.create_index("ix_claim_provider_id", "claim", ["provider_id"])
    op.create_index("ix_claim_status", "claim", ["status"])
    op.create_table(
        "pending_change",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), sa.ForeignKey("clinician.id", ondelete="CASCADE")),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("value", JSON),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        *_decision_columns(),
    )
    op.create_index("ix_pending_change_provider_id", "pending_change", ["provider_id"])
    op.create_index("ix_pending_change_status", "pending_change", ["status"])
    op.create_table(
        "account_npi",
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("npi", sa.String(10), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("checked_at", TIMESTAMP),
    )


def downgrade() -> None:
    op.drop_table("account_npi")
    op.drop_table("pending_change")
    op.drop_table("claim")
