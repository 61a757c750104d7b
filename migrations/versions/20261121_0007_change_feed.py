"""The change feed partners sync from, seeded with the listings already published.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_entry",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feed_entry_provider", "feed_entry", ["provider_id", "seq"])
    op.execute(
        "INSERT INTO feed_entry (provider_id, version, kind, at) "
        "SELECT id, version, 'created', updated_at FROM provider WHERE status = 'published' ORDER BY updated_at, id"
    )


def downgrade() -> None:
    op.drop_index("ix_feed_entry_provider", table_name="feed_entry")
    op.drop_table("feed_entry")
