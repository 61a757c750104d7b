"""External ids of imported listings: whoever imported a listing finds it again by its own id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("external_source", sa.String(80)))
        batch.add_column(sa.Column("external_id", sa.String(100)))
        batch.create_unique_constraint("uq_provider_external", ["external_source", "external_id"])


def downgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.drop_constraint("uq_provider_external", type_="unique")
        batch.drop_column("external_id")
        batch.drop_column("external_source")
