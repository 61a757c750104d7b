"""A kept statement run straight on the driver's connection: compiled once, its fixed values bound
and converted once, and per search only the few values that change put in their places.

SQLAlchemy's execution of an already-compiled statement still costs, per run, the compiled-cache
lookup, the parameters' construction and conversion, the cursor's adaptation and a Row per row.
Measured on search A's walk (29 rows, 1,000 runs on one connection, CPU per run): SQLAlchemy
0.175 ms, this path 0.100 ms, asyncpg's own ``fetch`` of the same text 0.093 ms. The driver
(asyncpg) prepares each text once per connection; its records become named tuples, converted as
SQLAlchemy would convert them. PostgreSQL only: SQLite's time is in its SQL.

What SQLAlchemy gives only through its internals (the compiled form's parameters, conversions and
columns) is read in one place, ``compile_lean``; where that fails, SQLAlchemy runs the statement
as before and a warning says so once.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util.concurrency import greenlet_spawn

from directory.errors import database_unreachable


class Shapes:
    """A bounded map from a key (a search's shape, a statement's structure or text) to what was built
    for it: the oldest entry goes when it is full. A walk's SQLAlchemy statements take about 15 kB
    (tracemalloc over the bench's searches A): 256 shapes, about 4 MB per worker; a statement
    compiled for the driver, a few hundred bytes (its text is shared)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._kept: dict[Hashable, Any] = {}

    def get(self, shape: Hashable | None) -> Any:
        return None if shape is None else self._kept.get(shape)

    def put(self, shape: Hashable | None, value: Any) -> Any:
        if shape is not None:
            if len(self._kept) >= self.size:
                del self._kept[next(iter(self._kept))]
            self._kept[shape] = value
        return value


log = logging.getLogger("directory")

#: Called with each statement's text as it runs here (SQLAlchemy's events do not see these): the
#: tests that count a search's statements listen here too.
observers: list[Callable[[str], None]] = []


class ConnectionLost(Exception):
    """The driver's connection was closed under a statement (the database restarted or dropped it):
    the service is unavailable for now, as for SQLAlchemy's own invalidated connections."""

    connection_invalidated = True


@dataclass(slots=True)
class Lean:
    """One statement ready for the driver."""

    sql: str
    arguments: tuple[Any, ...]
    """The positional values, the fixed ones already converted; a placeholder where a value changes."""
    places: tuple[tuple[int, str, Callable[[Any], Any] | None], ...]
    """Where each changing value goes: its position, its name, its conversion (if any)."""
    row: type
    """The rows' named tuple (the statement's column names)."""
    types: tuple[Any, ...]
    """The columns' SQLAlchemy types, for their conversions on reading."""
    dialect: Dialect

    async def fetch(self, session: AsyncSession | AsyncConnection, values: dict[str, Any]) -> list[Any]:
        """The rows, each a named tuple; the changing values by name."""
        arguments = list(self.arguments)
        for position, name, convert in self.places:
            arguments[position] = values[name] if convert is None else convert(values[name])
        connection = session if isinstance(session, AsyncConnection) else await session.connection()
        sync = connection.sync_connection
        if sync is not None and not sync.invalidated and sync._dbapi_connection is not None:
            driver: Any = sync._dbapi_connection.driver_connection  # checked out and valid: no I/O to reach it
        else:
            driver = (await connection.get_raw_connection()).driver_connection
        for observer in observers:
            observer(self.sql)
        try:
            conversions = _conversions.get(self.sql)
            if conversions is None:
                conversions = _conversions.put(self.sql, self._conversions(await driver.prepare(self.sql)))
            records = await driver.fetch(self.sql, *arguments)
        except Exception as error:
            # A connection the server closed can also fail as a protocol error when the close
            # arrives mid-statement: the driver then says it is closed (as SQLAlchemy asks too).
            if database_unreachable(error) or driver.is_closed():
                await _forget_connections(connection, error)
                raise ConnectionLost(f"{type(error).__name__}: {error}") from error
            raise
        make = self.row._make
        if not conversions:
            return [make(record) for record in records]
        rows = []
        for record in records:
            each = list(record)
            for position, convert in conversions:
                each[position] = convert(each[position])
            rows.append(make(each))
        return rows

    def _conversions(self, prepared: Any) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """SQLAlchemy's conversion of each column, for the type the database says it returns."""
        found = []
        for position, (type_, attribute) in enumerate(zip(self.types, prepared.get_attributes(), strict=True)):
            convert = type_._cached_result_processor(self.dialect, attribute.type.oid)
            if convert is not None:
                found.append((position, convert))
        return tuple(found)


class Kept:
    """A statement written once (its changing values named parameters), run on the driver where
    the database allows and through SQLAlchemy elsewhere: for the hot reads of one row or a few."""

    _UNTRIED = object()

    def __init__(self, statement: ClauseElement, *changing: str) -> None:
        self.statement = statement
        self.changing = changing
        self._lean: dict[str, Lean | None] = {}

    async def rows(self, session: AsyncSession | AsyncConnection, values: dict[str, Any]) -> list[Any]:
        dialect = await dialect_of(session)
        lean = self._lean.get(dialect.name, Kept._UNTRIED)
        if lean is Kept._UNTRIED:
            lean = self._lean[dialect.name] = compile_lean(self.statement, dialect, self.changing)
        if isinstance(lean, Lean):
            return await lean.fetch(session, values)
        return list(await session.execute(self.statement, values))


async def _forget_connections(connection: AsyncConnection, error: BaseException) -> None:
    """As SQLAlchemy does when a statement finds its connection dead (the database restarted): this
    connection is closed, and every one the pool opened before it is replaced at its next checkout,
    so that the requests after this one do not meet the other dead ones."""
    fairy = await connection.get_raw_connection()
    await greenlet_spawn(connection.sync_engine.pool._invalidate, fairy, error)


async def dialect_of(session: AsyncSession | AsyncConnection) -> Dialect:
    return (session if isinstance(session, AsyncConnection) else await session.connection()).dialect


#: The compiled forms by the statements' structure (the SQL without its values): shapes that differ
#: only in their values (another condition, another state) share one compilation, as they share
#: one in SQLAlchemy's own cache. A compilation takes about 3 ms; a shape's values, a tenth of that.
_compiled = Shapes(64)
#: The columns SQLAlchemy converts on reading (by position), and how, by statement text: known once
#: the driver has prepared the text and said its columns' types.
_conversions = Shapes(64)


@functools.lru_cache(maxsize=64)
def _row(names: tuple[str, ...]) -> type:
    return namedtuple("LeanRow", names, rename=True)  # type: ignore[misc]


_warned = False
"""Whether the fallback to SQLAlchemy has been logged (once per process)."""


def compile_lean(statement: ClauseElement, dialect: Dialect, changing: Iterable[str]) -> Lean | None:
    """The statement ready for the driver, the values named in ``changing`` left to each run; None
    when the dialect does not take positional ``$n`` parameters or the statement has no cache key
    (then SQLAlchemy runs it)."""
    global _warned
    if dialect.paramstyle != "numeric_dollar":
        return None
    key = statement._generate_cache_key()
    if key is None:
        return None
    try:
        return _compile(statement, key, dialect, set(changing))
    except (AttributeError, TypeError) as error:  # SQLAlchemy's internals moved: its own execution still works
        if not _warned:
            _warned = True
            log.warning("kept statements run through SQLAlchemy: its compiled form could not be read (%s: %s)", type(error).__name__, error)
        return None


def _compile(statement: ClauseElement, key: Any, dialect: Dialect, changing: set[str]) -> Lean | None:
    compiled = _compiled.get((dialect.name, key.key))
    if compiled is None:
        compiled = _compiled.put((dialect.name, key.key), statement.compile(dialect=dialect, cache_key=key))
    # This statement's own values, matched to the compiled form's parameters by their place in the
    # key (as SQLAlchemy does on a cache hit); expanding parameters (IN lists) rendered for them.
    parameters = compiled.construct_params({name: None for name in changing}, extracted_parameters=key.bindparams, _no_postcompile=True)
    state = compiled._process_parameters_for_postcompile(parameters)
    if state.positiontup is None:
        return None
    processors = {**compiled._bind_processors, **state.processors}
    arguments: list[Any] = []
    places = []
    for position, name in enumerate(state.positiontup):
        convert = processors.get(name)
        if name in changing:
            places.append((position, name, convert))
            arguments.append(None)
        else:
            value = state.parameters[name]
            arguments.append(value if convert is None else convert(value))
    columns = [(column.keyname, column.type) for column in compiled._result_columns]
    selected = getattr(statement, "selected_columns", None)
    if selected is not None and len(selected) != len(columns):
        # The compiled form also lists the columns of the statement's CTEs: its own are these.
        columns = [(column.key, column.type) for column in selected]
    # The shapes of one structure share one text (an IN list's length aside).
    return Lean(sys.intern(state.statement), tuple(arguments), tuple(places), _row(tuple(name for name, _ in columns)), tuple(type_ for _, type_ in columns), dialect)
