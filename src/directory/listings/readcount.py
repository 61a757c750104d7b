"""``search_count``: the read model's rows for counting, narrow.

The filter columns of ``search_location`` alone (ids, position, masks, flags, the short JSON
arrays), without the hit's wide JSON and words: totals, facets and their sample read many rows
and few columns, so they read this table (a tenth of the pages). Triggers on ``search_location``
keep it in step (migration 0026): nothing in Python writes it.
"""

from __future__ import annotations

from sqlalchemy import Column, Table
from sqlmodel import SQLModel

from directory.listings.readmodel import search_location

#: What only the wide rows hold.
WIDE_ONLY = frozenset({"words", "summary", "location"})

search_count = Table(
    "search_count",
    SQLModel.metadata,
    *(
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False if c.primary_key else "auto")
        for c in search_location.columns
        if c.name not in WIDE_ONLY
    ),
)
