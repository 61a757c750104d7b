"""Counting cheaply: each read model row says whether it is its listing's only row (``alone``: counts
by listing take it as it is, without grouping the listing's rows), set here for the rows already
there. SQLite: an R*Tree of the sample's locations alone (``sample < 4``, a sixteenth of them), kept
in step by triggers like the R*Tree of every location; an estimate over a huge area reads it instead
of testing every location of the area for the sample (PostgreSQL has the sample's partial index).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The read model's SAMPLED when this was written (a migration keeps its own copy).
SAMPLED = 4


def upgrade() -> None:
    op.add_column("search_location", sa.Column("alone", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE search_location SET alone = true WHERE provider_id IN "
        "(SELECT provider_id FROM search_location GROUP BY provider_id HAVING count(*) = 1)"
    )
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute("CREATE VIRTUAL TABLE search_location_sample_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)")
    op.execute(
        "INSERT INTO search_location_sample_rtree SELECT location_id, latitude, latitude, longitude, longitude FROM search_location "
        f"WHERE latitude IS NOT NULL AND sample < {SAMPLED}"
    )
    op.execute(
        "CREATE TRIGGER search_location_sample_rtree_insert AFTER INSERT ON search_location "
        f"WHEN NEW.latitude IS NOT NULL AND NEW.sample < {SAMPLED} BEGIN "
        "INSERT INTO search_location_sample_rtree VALUES (NEW.location_id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        f"CREATE TRIGGER search_location_sample_rtree_delete AFTER DELETE ON search_location WHEN OLD.sample < {SAMPLED} BEGIN "
        "DELETE FROM search_location_sample_rtree WHERE id = OLD.location_id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_location_sample_rtree_insert")
        op.execute("DROP TRIGGER IF EXISTS search_location_sample_rtree_delete")
        op.execute("DROP TABLE IF EXISTS search_location_sample_rtree")
    op.execute("ALTER TABLE search_location DROP COLUMN alone")  # SQLite 3.35+: in place, its triggers kept
