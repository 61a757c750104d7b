"""The public read model: a search projection (one row per location of a published listing) and the
stored public document of each published listing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RTREE_TRIGGERS = ("search_location_rtree_insert", "search_location_rtree_delete")


def upgrade() -> None:
    connection = op.get_bind()
    for table in ("condition", "service"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("bit", sa.SmallInteger()))
        codes = connection.execute(sa.text(f"SELECT code FROM {table} ORDER BY code")).scalars().all()
        for bit, code in enumerate(codes):
            connection.execute(sa.text(f"UPDATE {table} SET bit = :bit WHERE code = :code"), {"bit": bit, "code": code})
        op.create_index(f"uq_{table}_bit", table, ["bit"], unique=True)

    op.create_table(
        "search_location",
        sa.Column("location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("conditions", sa.BigInteger(), nullable=False),
        sa.Column("services", sa.BigInteger(), nullable=False),
        sa.Column("routes", sa.Integer(), nullable=False),
        sa.Column("payment", sa.Integer(), nullable=False),
        sa.Column("credentials", sa.Integer(), nullable=False),
        sa.Column("specialties", sa.Integer(), nullable=False),
        sa.Column("accepting", sa.Boolean()),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("telehealth_states", sa.Text(), nullable=False),
        sa.Column("insurance", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("price_min", sa.Integer()),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(64)),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("sample", sa.SmallInteger(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
    )
    op.create_index("ix_search_location_provider", "search_location", ["provider_id"])
    op.create_table(
        "listing_document",
        sa.Column("provider_id", sa.Uuid(), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stale_from", sa.DateTime(timezone=True)),
        sa.Column("document", sa.Text(), nullable=False),
    )
    if connection.dialect.name == "postgresql":
        for column, kind in (("geom", "geometry(Point, 4326)"), ("geog", "geography(Point, 4326)")):
            cast = "" if column == "geom" else "::geography"
            op.execute(
                f"ALTER TABLE search_location ADD COLUMN {column} {kind} "
                f"GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326){cast}) STORED"
            )
        op.execute("CREATE INDEX ix_search_location_geom ON search_location USING gist (geom)")
        op.execute("CREATE INDEX ix_search_location_geog ON search_location USING gist (geog)")
        # A sixteenth of the providers (by a hash of their id), for estimating counts over large areas.
        op.execute("CREATE INDEX ix_search_location_sample ON search_location USING gist (geog) WHERE sample < 4")
        # Wide JSON goes out of line, so that a scan over many rows reads few pages.
        op.execute("ALTER TABLE search_location SET (toast_tuple_target = 256)")
    else:
        op.execute("CREATE VIRTUAL TABLE search_location_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)")
        op.execute(
            "CREATE TRIGGER search_location_rtree_insert AFTER INSERT ON search_location BEGIN "
            "INSERT INTO search_location_rtree VALUES (NEW.location_id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
        )
        op.execute(
            "CREATE TRIGGER search_location_rtree_delete AFTER DELETE ON search_location BEGIN "
            "DELETE FROM search_location_rtree WHERE id = OLD.location_id; END"
        )
    # The rows themselves are built by `directory db upgrade` right after this migration (with the
    # code of the schema's head, not of this revision): see directory.migrate.upgrade.


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in RTREE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_location_rtree")
    op.drop_table("listing_document")
    op.drop_table("search_location")
    for table in ("condition", "service"):
        op.drop_index(f"uq_{table}_bit", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("bit")
