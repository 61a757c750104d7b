"""Engines and sessions.

Two session factories exist: ``writer`` for changes (one explicit transaction per operation) and
``reader`` for the read routes. On PostgreSQL the reader runs in autocommit so that a search does
not pay for a BEGIN/COMMIT round trip, and it may point at a replica.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam, event, func, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapper, Session

from directory.settings import Settings
from directory.writeturns import take_turns


def dialect_of(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``; anything else is refused early with a clear message."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {name!r}: use sqlite+aiosqlite:// or postgresql+asyncpg://")
    return name


def insert_or_skip(session: Session, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` in the session's dialect: rows another
    writer has just added (a unique key taken) are left as that writer wrote them."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing()


def among(session: Session | AsyncSession, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as one array parameter (``= ANY``): an IN of hundreds of
    values is expanded into that many placeholders at each execution. Reading a rebuild's batches
    of 500 listings (five such statements each), 90-109 against 105-117 µs of CPU a listing."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("among", values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


def _async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Read the file through a shared memory map rather than copying each page into every
        # connection's own cache: several pooled connections and worker processes read the same pages.
        # 2 GiB, the largest SQLite's usual build maps (more is cut to that): at 100,000 listings the
        # file is 1.2 GB, and the pages past a 1 GiB map were copied into each connection's cache.
        cursor.execute("PRAGMA mmap_size=2147418112")
        cursor.close()

    if immediate:
        # A write transaction takes the write lock up front (a deferred one that upgrades later can
        # fail with "database is locked" without waiting for busy_timeout), after its turn.
        path = make_url(engine.url).database
        take_turns(engine, path if path and path != ":memory:" else None)


class SQLiteSession(Session):
    """A session on SQLite that numbers its new rows itself when it adds several to one table.

    SQLite cannot say which generated key belongs to which row of a multi-row INSERT, so the ORM
    writes rows with generated integer keys one statement at a time (an import of 2,000 listings
    sent about 6,500 single-row INSERTs). Inside a write transaction (``BEGIN IMMEDIATE``: no other
    writer) the next keys are the table's largest plus one, two..., which is what SQLite itself
    would give them; with the keys known, each table's rows go in batches.
    """


@event.listens_for(SQLiteSession, "before_flush")
def _number_new_rows(session: Session, _context: object, _instances: object) -> None:
    waiting: dict[Mapper[Any], list[Any]] = defaultdict(list)
    for instance in session.new:
        mapper = inspect(instance).mapper
        keys = mapper.primary_key
        if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement in ("auto", True):
            if getattr(instance, mapper.get_property_by_column(keys[0]).key) is None:
                waiting[mapper].append(instance)
    for mapper, instances in waiting.items():
        if len(instances) < 2:
            continue
        key = mapper.primary_key[0]
        attribute = mapper.get_property_by_column(key).key
        largest = session.connection().execute(select(func.max(key))).scalar() or 0
        for number, instance in enumerate(sorted(instances, key=lambda one: inspect(one).insert_order), start=largest + 1):
            setattr(instance, attribute, number)


def create_engine(url: str, settings: Settings, *, read_only: bool = False) -> AsyncEngine:
    url = _async_url(url)
    if dialect_of(url) == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_async_engine(url)
        _sqlite_pragmas(engine, immediate=not read_only)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # A ping before every checkout was a tenth of a public read's time. Reads go without it: a
        # connection found dead fails one request and the pool is emptied and refilled at once.
        pool_pre_ping=not read_only,
        # JIT planning adds hundreds of milliseconds to PostGIS queries and gains nothing here.
        connect_args={"server_settings": {"jit": "off", "max_parallel_workers_per_gather": "0", "application_name": "directory"}},
    )
    if read_only:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


@dataclass
class Database:
    """The engines of one running app, and their session factories."""

    dialect: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        write_engine = create_engine(settings.database_url, settings)
        numbered = {"sync_session_class": SQLiteSession} if dialect_of(settings.database_url) == "sqlite" else {}
        read_engine = create_engine(settings.read_database_url or settings.database_url, settings, read_only=True)
        return cls(
            dialect=dialect_of(settings.database_url),
            write_engine=write_engine,
            read_engine=read_engine,
            writer=async_sessionmaker(write_engine, expire_on_commit=False, autoflush=False, **numbered),
            reader=async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False),
        )

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
