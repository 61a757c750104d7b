"""Forgiving free text: the read model's words are stored folded (lower case, no accents), with
the clinicians' names; the words names are made of are kept as terms (``search_term``) that a
misspelt word is compared with; and the words are indexed for substring search: a trigram GIN
index (pg_trgm) on PostgreSQL, an FTS5 trigram table on SQLite (kept in step by the read model's
writes). The read model is made again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    op.create_table("search_term", sa.Column("term", sa.String(64), primary_key=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_search_location_words ON search_location USING gin (words gin_trgm_ops)")
        return
    # Kept in step by the read model's own writes, a statement per batch of listings (a trigger
    # would write the index row by row, each a flush of its own: twenty times slower to rebuild).
    op.execute(
        "CREATE VIRTUAL TABLE search_location_words USING fts5(words, content='search_location', content_rowid='location_id', tokenize='trigram')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_search_location_words")
    else:
        op.execute("DROP TABLE IF EXISTS search_location_words")
    op.drop_table("search_term")
