"""The order of a search without a place (or not by distance): by name, newest change or relevance,
each a keyset that a cursor continues after."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, tuple_

from directory.listings.readmodel import search_location
from directory.search import filters
from directory.search.query import SearchQuery

S = search_location.c


def keyed(query: SearchQuery, bits: dict[str, dict[str, int]], statement: Any) -> tuple[Any, Any]:
    """Add the sort key columns (grouped: one per listing), the keyset condition after the cursor, and the ORDER BY."""
    after = query.after
    if query.sort == "name":
        statement = statement.add_columns(S.name_key).group_by(S.provider_id, S.name_key)
        if after:
            statement = statement.where(tuple_(S.name_key, S.provider_id) > tuple_(after[0], uuid.UUID(after[1])))
        return statement.order_by(S.name_key, S.provider_id), lambda r: [r[1], str(r[0])]
    if query.sort == "updated":
        statement = statement.add_columns(S.updated_at).group_by(S.provider_id, S.updated_at)
        if after:
            moment = datetime.fromisoformat(after[0])
            statement = statement.where(tuple_(S.updated_at, S.provider_id) < tuple_(moment, uuid.UUID(after[1])))
        return (
            statement.order_by(S.updated_at.desc(), S.provider_id.desc()),
            lambda r: [r[1].isoformat(), str(r[0])],
        )
    score = filters.relevance(query, bits).label("score")
    statement = statement.add_columns(func.max(score), S.name_key).group_by(S.provider_id, S.name_key)
    if after:
        statement = statement.where(
            or_(score < after[0], and_(score == after[0], tuple_(S.name_key, S.provider_id) > tuple_(after[1], uuid.UUID(after[2]))))
        )
    return statement.order_by(func.max(score).desc(), S.name_key, S.provider_id), lambda r: [int(r[1]), r[2], str(r[0])]
