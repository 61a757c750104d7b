"""Narrow rows for counting: ``search_count`` holds each read model row's filter columns alone
(ids, position, bit masks, flags, the short JSON arrays), without the hit's wide JSON and words
(about 2.5 kB of a 2.7 kB row). Totals, facets and their sample read it: at 100,000 listings a
search over New York reads 15,600 rows, 2,262 heap pages of the wide table and 535 of this one.

It is kept in step by triggers on ``search_location`` (the read model inserts and deletes its
rows; an update, as a later migration may make, is followed too), so every writer keeps it.
PostgreSQL: statement triggers over the rows inserted, deleted or updated at once (and a TRUNCATE
empties it too), the point as geometry and geography generated from the coordinates, and the
same indexes as the wide table's (geography, geometry, the sample's, the remote rows'). SQLite:
row triggers; the R*Trees of the wide table serve it as they are (their ids are the location
ids, the same in both tables).

A later migration that makes ``search_location`` again on SQLite (a batch that recreates it)
must create these triggers again, as 0019 did the R*Tree's.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns copied, in order (a migration keeps its own copy of the list).
COLUMNS = (
    "location_id provider_id latitude longitude conditions services routes payment credentials specialties clinicians access rems "
    "accepting telehealth verified verified_at confirmed_at telehealth_states insurance languages price_min name_key updated_at "
    "timezone hours sample alone"
).split()
SAMPLED = 4


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "search_count",
        sa.Column("location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("conditions", sa.BigInteger(), nullable=False),
        sa.Column("services", sa.BigInteger(), nullable=False),
        sa.Column("routes", sa.Integer(), nullable=False),
        sa.Column("payment", sa.Integer(), nullable=False),
        sa.Column("credentials", sa.Integer(), nullable=False),
        sa.Column("specialties", sa.Integer(), nullable=False),
        sa.Column("clinicians", sa.Text(), nullable=False),
        sa.Column("access", sa.Integer(), nullable=False),
        sa.Column("rems", sa.Boolean(), nullable=False),
        sa.Column("accepting", sa.Boolean()),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("telehealth_states", sa.Text(), nullable=False),
        sa.Column("insurance", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("price_min", sa.Integer()),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(64)),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("sample", sa.SmallInteger(), nullable=False),
        sa.Column("alone", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_search_count_provider", "search_count", ["provider_id"])
    op.execute("CREATE INDEX ix_search_count_remote ON search_count (provider_id) WHERE latitude IS NULL")
    names = ", ".join(COLUMNS)
    if postgres:
        for column, kind in (("geom", "geometry(Point, 4326)"), ("geog", "geography(Point, 4326)")):
            cast = "" if column == "geom" else "::geography"
            op.execute(
                f"ALTER TABLE search_count ADD COLUMN {column} {kind} "
                f"GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326){cast}) STORED"
            )
        op.execute("CREATE INDEX ix_search_count_geom ON search_count USING gist (geom)")
        op.execute("CREATE INDEX ix_search_count_geog ON search_count USING gist (geog)")
        op.execute(f"CREATE INDEX ix_search_count_sample ON search_count USING gist (geog) WHERE sample < {SAMPLED}")
        op.execute(
            "CREATE FUNCTION search_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO search_count ({names}) SELECT {names} FROM added; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE FUNCTION search_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "DELETE FROM search_count USING removed WHERE search_count.location_id = removed.location_id; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE FUNCTION search_count_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "DELETE FROM search_count USING removed WHERE search_count.location_id = removed.location_id; "
            f"INSERT INTO search_count ({names}) SELECT {names} FROM added; RETURN NULL; END $$"
        )
        op.execute("CREATE FUNCTION search_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN TRUNCATE search_count; RETURN NULL; END $$")
        op.execute(
            "CREATE TRIGGER search_count_insert AFTER INSERT ON search_location REFERENCING NEW TABLE AS added "
            "FOR EACH STATEMENT EXECUTE FUNCTION search_count_insert()"
        )
        op.execute(
            "CREATE TRIGGER search_count_delete AFTER DELETE ON search_location REFERENCING OLD TABLE AS removed "
            "FOR EACH STATEMENT EXECUTE FUNCTION search_count_delete()"
        )
        op.execute(
            "CREATE TRIGGER search_count_update AFTER UPDATE ON search_location REFERENCING OLD TABLE AS removed NEW TABLE AS added "
            "FOR EACH STATEMENT EXECUTE FUNCTION search_count_update()"
        )
        op.execute("CREATE TRIGGER search_count_truncate AFTER TRUNCATE ON search_location FOR EACH STATEMENT EXECUTE FUNCTION search_count_truncate()")
    else:
        values = ", ".join(f"NEW.{name}" for name in COLUMNS)
        op.execute(f"CREATE TRIGGER search_count_insert AFTER INSERT ON search_location BEGIN INSERT INTO search_count ({names}) VALUES ({values}); END")
        op.execute("CREATE TRIGGER search_count_delete AFTER DELETE ON search_location BEGIN DELETE FROM search_count WHERE location_id = OLD.location_id; END")
        op.execute(
            "CREATE TRIGGER search_count_update AFTER UPDATE ON search_location BEGIN "
            f"DELETE FROM search_count WHERE location_id = OLD.location_id; INSERT INTO search_count ({names}) VALUES ({values}); END"
        )
    # The rows already there (in location order: neighbours on the map share pages).
    op.execute(f"INSERT INTO search_count ({names}) SELECT {names} FROM search_location ORDER BY latitude, longitude")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS search_count_{name}" + (" ON search_location" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS search_count_{name}()")
    op.drop_table("search_count")
