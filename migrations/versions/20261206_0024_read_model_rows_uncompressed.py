"""PostgreSQL keeps the read model's rows whole: no compression of the hit's JSON.

Migration 0010 set ``toast_tuple_target`` to 256 bytes to push the wide JSON out of line, but
PostgreSQL consults that target only for rows over its 2 kB threshold, so rows stayed whole while
they were smaller. A search row grew past 2 kB when its words gained the Spanish names and synonyms
and those of the entries above (about 1,200 bytes of words, 780 of summary, 310 of location); since
then most rows were stored with ``summary`` and ``location`` compressed, and every candidate a search
reads was decompressed (the raw statement of bench query A about 16% slower than before the growth).
With the target at 4080 bytes a row is compressed only past that; the rows there are rewritten so
that the setting applies to them too. SQLite has no such storage.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The largest toast_tuple_target PostgreSQL accepts for 8 kB pages.
TARGET = 4080


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE search_location SET (toast_tuple_target = {TARGET})")
    # A value kept as it was stays compressed: each is written anew ("|| ''" makes a new value).
    op.execute("UPDATE search_location SET summary = summary || '', location = location || '', words = words || ''")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_location RESET (toast_tuple_target)")
