"""Freshness and duplicates (the trust issue's second half).

- ``provider.site_domain`` (a website's registered domain) and indexes on phones and coordinates,
  for finding duplicates.
- ``provider.confirmed_at``: when an owner last saved the listing or said it is still correct
  (filled from the history: the last change an owner made); ``confirm_reminded_at``: when they were
  last reminded; ``merged_into``: the listing a merged one leads to.
- The read model carries when a listing was verified and confirmed, so that search decides
  ``stale`` and ``unconfirmed`` when it reads. Its rows are cleared here and made again, with the
  new fields, when the app or ``directory db upgrade`` next starts.
- ``duplicate_candidate``: pairs of listings that may be one clinic, with reasons and a score;
  ``feed_entry.merged_into``: the listing a ``merged`` entry's listing continues as.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("confirm_reminded_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("merged_into", sa.Uuid()))
        batch.add_column(sa.Column("site_domain", sa.String(253)))
    op.create_index("ix_provider_site_domain", "provider", ["site_domain"])
    op.create_index("ix_provider_phone", "provider", ["phone"])
    op.create_index("ix_location_phone", "location", ["phone"])
    op.create_index("ix_location_lat_lon", "location", ["latitude", "longitude"])
    # Websites' domains, for finding duplicates (the rule lives with the listings: imported here as it is now).
    from directory.listings.duplicates import site_domain

    connection = op.get_bind()
    provider = sa.table("provider", sa.column("id", sa.Uuid()), sa.column("website", sa.String()), sa.column("site_domain", sa.String()))
    rows = connection.execute(sa.select(provider.c.id, provider.c.website).where(provider.c.website.is_not(None))).all()
    domains = [{"key": key, "domain": site_domain(website)} for key, website in rows]
    if domains:
        connection.execute(sa.update(provider).where(provider.c.id == sa.bindparam("key")).values(site_domain=sa.bindparam("domain")), domains)
    # An owner's last change is the latest confirmation we know of.
    op.execute(
        "UPDATE provider SET confirmed_at = (SELECT max(c.at) FROM listing_change c "
        "WHERE c.provider_id = provider.id AND c.actor LIKE 'provider:%')"
    )
    # The read model is derived: emptied here, rebuilt with the new columns on the next start.
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    op.add_column("search_location", sa.Column("verified_at", sa.DateTime(timezone=True)))
    op.add_column("search_location", sa.Column("confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("listing_document", sa.Column("confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("feed_entry", sa.Column("merged_into", sa.Uuid()))

    op.create_table(
        "duplicate_candidate",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("first_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False),
        sa.Column("second_id", sa.Uuid(), sa.ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.String(1000)),
        sa.UniqueConstraint("first_id", "second_id", name="uq_duplicate_pair"),
    )


def downgrade() -> None:
    op.drop_table("duplicate_candidate")
    op.drop_column("feed_entry", "merged_into")
    op.drop_column("listing_document", "confirmed_at")
    op.drop_column("search_location", "confirmed_at")
    op.drop_column("search_location", "verified_at")
    op.drop_index("ix_location_lat_lon", "location")
    op.drop_index("ix_location_phone", "location")
    op.drop_index("ix_provider_phone", "provider")
    op.drop_index("ix_provider_site_domain", "provider")
    with op.batch_alter_table("provider") as batch:
        batch.drop_column("site_domain")
        batch.drop_column("merged_into")
        batch.drop_column("confirm_reminded_at")
        batch.drop_column("confirmed_at")
