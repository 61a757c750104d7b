"""NPI verification: the record of every check, and the pending-verification schedule on listings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verification_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), sa.ForeignKey("clinician.id", ondelete="SET NULL")),
        sa.Column("npi", sa.String(10)),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    )
    op.create_index("ix_verification_record_provider", "verification_record", ["provider_id", "id"])
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("verification_due_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("verification_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_provider_verification_due", "provider", ["verification_status", "verification_due_at"])


def downgrade() -> None:
    op.drop_index("ix_provider_verification_due", table_name="provider")
    with op.batch_alter_table("provider") as batch:
        batch.drop_column("verification_attempts")
        batch.drop_column("verification_due_at")
    op.drop_table("verification_record")
