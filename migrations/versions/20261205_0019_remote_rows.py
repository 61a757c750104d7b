"""Telehealth-only listings in the read model: a row with no place (latitude and longitude null),
found by the states it serves. SQLite's R*Tree holds only rows with a place; a partial index finds
the rows without one. The read model is made again.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("search_location", "latitude", existing_type=sa.Float(), nullable=True)
        op.alter_column("search_location", "longitude", existing_type=sa.Float(), nullable=True)
        op.execute("CREATE INDEX ix_search_location_remote ON search_location (provider_id) WHERE latitude IS NULL")
        return
    op.execute("DROP TRIGGER search_location_rtree_insert")
    with op.batch_alter_table("search_location", recreate="always") as batch:
        batch.alter_column("latitude", existing_type=sa.Float(), nullable=True)
        batch.alter_column("longitude", existing_type=sa.Float(), nullable=True)
    op.execute("CREATE INDEX ix_search_location_remote ON search_location (provider_id) WHERE latitude IS NULL")
    # The batch made the table again: its triggers went with the old one.
    op.execute("DROP TRIGGER IF EXISTS search_location_rtree_delete")
    op.execute(
        "CREATE TRIGGER search_location_rtree_insert AFTER INSERT ON search_location WHEN NEW.latitude IS NOT NULL BEGIN "
        "INSERT INTO search_location_rtree VALUES (NEW.location_id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER search_location_rtree_delete AFTER DELETE ON search_location BEGIN "
        "DELETE FROM search_location_rtree WHERE id = OLD.location_id; END"
    )


def downgrade() -> None:
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    op.drop_index("ix_search_location_remote", "search_location")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("search_location", "latitude", existing_type=sa.Float(), nullable=False)
        op.alter_column("search_location", "longitude", existing_type=sa.Float(), nullable=False)
        return
    op.execute("DROP TRIGGER IF EXISTS search_location_rtree_insert")
    op.execute("DROP TRIGGER IF EXISTS search_location_rtree_delete")
    with op.batch_alter_table("search_location", recreate="always") as batch:
        batch.alter_column("latitude", existing_type=sa.Float(), nullable=False)
        batch.alter_column("longitude", existing_type=sa.Float(), nullable=False)
    op.execute(
        "CREATE TRIGGER search_location_rtree_insert AFTER INSERT ON search_location BEGIN "
        "INSERT INTO search_location_rtree VALUES (NEW.location_id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER search_location_rtree_delete AFTER DELETE ON search_location BEGIN "
        "DELETE FROM search_location_rtree WHERE id = OLD.location_id; END"
    )
