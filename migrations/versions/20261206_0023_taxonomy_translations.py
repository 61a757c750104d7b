"""The taxonomies in more than one language: each condition and service may carry its name,
description and synonyms in other languages (``{"es": {"name": ..., "description": ...,
"synonyms": [...]}}``). Loading the seed again fills them in; until then the column is empty.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    for table in ("condition", "service"):
        op.add_column(table, sa.Column("translations", JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    for table in ("condition", "service"):
        op.drop_column(table, "translations")
