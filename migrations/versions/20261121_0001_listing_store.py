"""The listing store: taxonomies, providers, locations with their spatial index, clinicians.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def _taxonomy(name: str) -> None:
    op.create_table(
        name,
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000)),
        sa.Column("synonyms", JSON, nullable=False),
    )


def upgrade() -> None:
    _taxonomy("condition")
    _taxonomy("service")

    op.create_table(
        "provider",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(5000)),
        sa.Column("website", sa.String(500)),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(254)),
        sa.Column("npi", sa.String(10)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("accepting_new_patients", sa.Boolean()),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("telehealth_states", JSON, nullable=False),
        sa.Column("payment_options", JSON, nullable=False),
        sa.Column("insurance_carriers", JSON, nullable=False),
        sa.Column("price_min", sa.Integer()),
        sa.Column("price_max", sa.Integer()),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("routes", JSON, nullable=False),
        sa.Column("rems_certified", sa.Boolean(), nullable=False),
        sa.Column("verification_status", sa.String(20), nullable=False),
        sa.Column("last_verified_at", TIMESTAMP),
        sa.Column("published_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_provider_npi", "provider", ["npi"])
    op.create_index("ix_provider_status", "provider", ["status"])
    op.create_index("ix_provider_updated_at", "provider", ["updated_at"])

    op.create_table(
        "location",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("address_line1", sa.String(200)),
        sa.Column("address_line2", sa.String(200)),
        sa.Column("city", sa.String(100)),
        sa.Column("state", sa.String(2)),
        sa.Column("postal_code", sa.String(10)),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("coordinate_source", sa.String(20), nullable=False),
        sa.Column("coordinate_precision", sa.String(20), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("hours", JSON, nullable=False),
        sa.Column("accessibility", sa.String(1000)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="ck_location_latitude"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="ck_location_longitude"),
    )
    op.create_index("ix_location_provider_id", "location", ["provider_id"])

    op.create_table(
        "clinician",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("credential", sa.String(10), nullable=False),
        sa.Column("specialty", sa.String(40)),
        sa.Column("npi", sa.String(10)),
        sa.Column("licenses", JSON, nullable=False),
        sa.Column("board_certifications", JSON, nullable=False),
        sa.Column("verification_status", sa.String(20), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_clinician_credential", "clinician", ["credential"])
    op.create_index("ix_clinician_npi", "clinician", ["npi"])

    op.create_table(
        "provider_clinician",
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("clinician_id", sa.Uuid(), sa.ForeignKey("clinician.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(100)),
    )
    op.create_index("ix_provider_clinician_clinician_id", "provider_clinician", ["clinician_id"])

    op.create_table(
        "provider_condition",
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("condition_code", sa.String(64), sa.ForeignKey("condition.code"), primary_key=True),
    )
    # Search goes from a condition to its providers.
    op.create_index("ix_provider_condition_code", "provider_condition", ["condition_code", "provider_id"])

    op.create_table(
        "provider_service",
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("service_code", sa.String(64), sa.ForeignKey("service.code"), primary_key=True),
        sa.Column("price_min", sa.Integer()),
        sa.Column("price_max", sa.Integer()),
        sa.Column("session_minutes", sa.Integer()),
    )
    op.create_index("ix_provider_service_code", "provider_service", ["service_code", "provider_id"])

    op.create_table(
        "geocode_cache",
        sa.Column("query", sa.String(300), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("precision", sa.String(20)),
        sa.Column("label", sa.String(300)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )

    if op.get_bind().dialect.name == "postgresql":
        _postgis_upgrade()
    else:
        _rtree_upgrade()


def _postgis_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # Generated from latitude/longitude, so the point can never disagree with them.
    op.execute(
        "ALTER TABLE location ADD COLUMN geog geography(Point, 4326) "
        "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography) STORED"
    )
    op.execute("CREATE INDEX ix_location_geog ON location USING gist (geog)")


def _rtree_upgrade() -> None:
    op.execute("CREATE VIRTUAL TABLE location_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)")
    # Triggers run inside the writing statement's transaction, so the index is never out of step.
    op.execute(
        "CREATE TRIGGER location_rtree_insert AFTER INSERT ON location BEGIN "
        "INSERT INTO location_rtree VALUES (NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER location_rtree_update AFTER UPDATE OF id, latitude, longitude ON location BEGIN "
        "DELETE FROM location_rtree WHERE id = OLD.id; "
        "INSERT INTO location_rtree VALUES (NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER location_rtree_delete AFTER DELETE ON location BEGIN "
        "DELETE FROM location_rtree WHERE id = OLD.id; END"
    )
    op.execute(
        "INSERT INTO location_rtree SELECT id, latitude, latitude, longitude, longitude FROM location"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_location_geog")
    else:
        for trigger in ("location_rtree_insert", "location_rtree_update", "location_rtree_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS location_rtree")
    for table in (
        "geocode_cache",
        "provider_service",
        "provider_condition",
        "provider_clinician",
        "clinician",
        "location",
        "provider",
        "service",
        "condition",
    ):
        op.drop_table(table)
    # The postgis extension stays: other schemas in the database may use it.
