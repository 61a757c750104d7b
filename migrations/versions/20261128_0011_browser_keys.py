"""Browser keys (publishable partner keys bound to web origins); search hits gain website, phone
and the date of the last registry check.

The hits are stored ready-made in the read model, so this revision empties it: ``directory db
upgrade`` rebuilds it with the new hit right after migrating (as it does when it first creates it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="secret"))
        batch.add_column(sa.Column("allowed_origins", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False, server_default="[]"))
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("allowed_origins")
        batch.drop_column("kind")
