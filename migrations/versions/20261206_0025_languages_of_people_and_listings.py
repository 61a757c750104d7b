"""Languages of people and listings: the language an account's mails are written in (the portal's
language at sign-up, changed on the account page), and a listing's own words in other languages
(``{"es": {"description": ...}}``), which its staff write in the portal or send through the API.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("account", sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    op.add_column("provider", sa.Column("translations", JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("provider") as table:
        table.drop_column("translations")
    with op.batch_alter_table("account") as table:
        table.drop_column("language")
