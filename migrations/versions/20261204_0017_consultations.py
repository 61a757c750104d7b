"""Consultation requests: sealed requests, monthly counts, moderators' readings; a listing's
choice to take them and where they are mailed. The read model is made again (listings now say
whether they take requests).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("consultations_accepted", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("consultation_email", sa.String(254)))
    op.create_table(
        "consultation_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key_id", sa.Uuid()),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("fold", sa.String(64), nullable=False, index=True),
        sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("withdraw_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("has_email", sa.Boolean(), nullable=False),
        sa.Column("clinic_sent_at", sa.DateTime(timezone=True)),
        sa.Column("requester_sent_at", sa.DateTime(timezone=True)),
        sa.Column("delivery_due_at", sa.DateTime(timezone=True)),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(200)),
        sa.Column("base_url", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consultation_due", "consultation_request", ["delivery_due_at"])
    op.create_index("ix_consultation_provider", "consultation_request", ["provider_id", "created_at"])
    op.create_table(
        "consultation_tally",
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key_id", sa.Uuid(), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "consultation_access",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")


def downgrade() -> None:
    op.drop_table("consultation_access")
    op.drop_table("consultation_tally")
    op.drop_index("ix_consultation_provider", "consultation_request")
    op.drop_index("ix_consultation_due", "consultation_request")
    op.drop_table("consultation_request")
    with op.batch_alter_table("provider") as batch:
        batch.drop_column("consultation_email")
        batch.drop_column("consultations_accepted")
