"""Statements kept by their shape: a search whose conditions are those of an earlier one (the same
SQL and the same values) reuses that search's statement objects instead of composing them again.

SQLAlchemy keys its compiled-statement cache by walking the whole statement on every execution,
unless it meets the same statement object again (the key is remembered on the object). The walk of
search A (twenty nearest, one condition) and its remote rows is a union of two selects of twelve
columns each: composing it and walking it for the key was about a tenth of the request's CPU
(py-spy on a worker). The conditions alone are walked here, a few elements, to name the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.lean import Shapes, compile_lean, dialect_of


def where_shape(conditions: Iterable[ColumnElement[bool]]) -> Hashable | None:
    """The conditions' SQL and bound values as one hashable key; None when they cannot be keyed
    (an element SQLAlchemy does not cache, or a value that cannot be hashed)."""
    key = and_(true(), *conditions)._generate_cache_key()
    if key is None:
        return None
    try:
        values = tuple(_frozen(parameter.effective_value) for parameter in key.bindparams)
        hash(values)
    except TypeError:
        return None
    return (key.key, values)


def _frozen(value: Any) -> Any:
    return tuple(_frozen(each) for each in value) if isinstance(value, list | tuple) else value


def split_shape(conditions: Iterable[ColumnElement[bool]], changing: frozenset[str]) -> tuple[Hashable, dict[str, Any]] | None:
    """The conditions' shape leaving out the values bound under a name in ``changing`` (the searched
    point, the locations an exact radius leaves out), and those values by name: a statement kept for
    the shape runs with them, and every other value it holds is the shape's own. None when the
    conditions cannot be keyed, or one of those names holds two values here."""
    key = and_(true(), *conditions)._generate_cache_key()
    if key is None:
        return None
    fixed, values = [], {}
    for parameter in key.bindparams:
        value = parameter.effective_value
        if parameter.key not in changing:
            fixed.append(_frozen(value))
        elif values.setdefault(parameter.key, value) is not value and values[parameter.key] != value:
            return None
    try:
        hash(shape := (key.key, tuple(fixed)))
    except TypeError:
        return None
    return shape, values


#: Counting statements (totals, facets, the exact radius's band) by their kind and shape, compiled
#: for the driver: a few hundred bytes each. Not SQLAlchemy's statements themselves: each holds its
#: cache key (the whole statement as nested tuples, thousands of objects for the facets), which
#: every full collection of the garbage collector walks (with a dozen facet shapes kept, 55,000
#: objects and 35 ms a collection, measured).
_COUNTING = Shapes(1024)
#: Read by position or by name only (see ``backends.BY_NAME``).
_BY_NAME = {"_result_disable_adapt_to_context": True}


async def run_kept(
    session: AsyncSession | AsyncConnection, changing: frozenset[str], kind: Hashable, conditions: list[Any], build: Callable[[], Any]
) -> list[Any]:
    """The rows of the statement ``build`` makes of ``conditions`` (and of nothing else that differs
    between searches of one ``kind``). On PostgreSQL it is kept for their shape, run on the driver:
    a later search of that shape runs it with its own point and exclusions, nothing composed,
    narrowed or compiled again. Elsewhere (SQLite, whose time is its SQL's) it is built each time."""
    dialect = await dialect_of(session)
    split = split_shape(conditions, changing) if dialect.paramstyle == "numeric_dollar" else None
    if split is not None:
        shape, values = split
        kept = _COUNTING.get((kind, shape))
        if kept is None:
            statement = build()
            kept = compile_lean(statement, dialect, values)
            if kept is None:
                return list(await session.execute(statement, execution_options=_BY_NAME))
            _COUNTING.put((kind, shape), kept)
        return await kept.fetch(session, values)
    return list(await session.execute(build(), execution_options=_BY_NAME))
