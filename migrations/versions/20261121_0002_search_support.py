"""Search support: opening hours as queryable intervals, and on PostGIS a geometry for viewport boxes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)


def upgrade() -> None:
    location_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "location_hours",
        sa.Column("location_id", location_id, sa.ForeignKey("location.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.SmallInteger(), primary_key=True),
        sa.Column("opens", sa.SmallInteger(), primary_key=True),
        sa.Column("closes", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("day BETWEEN 0 AND 6", name="ck_location_hours_day"),
        sa.CheckConstraint("opens >= 0 AND opens < closes AND closes <= 1440", name="ck_location_hours_order"),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, hours FROM location")).all()
    intervals = []
    for location, hours in rows:
        for entry in json.loads(hours) if isinstance(hours, str) else hours or []:
            intervals.append(
                {"l": location, "d": WEEKDAYS.index(entry["day"]), "o": _minutes(entry["opens"]), "c": _minutes(entry["closes"])}
            )
    if intervals:
        connection.execute(sa.text("INSERT INTO location_hours VALUES (:l, :d, :o, :c)"), intervals)

    op.create_index("ix_location_timezone", "location", ["timezone"])
    if connection.dialect.name == "postgresql":
        # Map viewports are boxes in longitude/latitude: exact on a geometry, not on a geography.
        op.execute(
            "ALTER TABLE location ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_location_geom ON location USING gist (geom)")
        # Partial index: search only ever looks at published listings.
        op.execute("CREATE INDEX ix_provider_published ON provider (id) WHERE status = 'published'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_provider_published")
        op.execute("DROP INDEX IF EXISTS ix_location_geom")
        op.execute("ALTER TABLE location DROP COLUMN IF EXISTS geom")
    op.drop_index("ix_location_timezone", table_name="location")
    op.drop_table("location_hours")
