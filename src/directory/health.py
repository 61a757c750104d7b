"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from pydantic import BaseModel, Field
from sqlalchemy import text

from directory import migrate
from directory.errors import ServiceUnavailable
from directory.ratelimit import DegradingLimitStore


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    limits: str = Field(description="where rate limits are counted: memory (this process), or redis and its state")


@get("/health", tags=["operations"], summary="Liveness")
async def health() -> Health:
    """The process is up and answering. Does not touch the database. Who: anyone (never rate-limited)."""
    return Health(status="ok")


@get("/ready", tags=["operations"], summary="Readiness")
async def ready(state: State) -> Readiness:
    """The database answers and its schema is at the newest migration; 503 otherwise. Who: anyone."""
    database = state.database
    try:
        async with database.reader() as session:
            await session.execute(text("SELECT 1"))
            revision = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        raise ServiceUnavailable(f"the database does not answer: {type(error).__name__}") from error
    head = migrate.head_revision()
    if revision != head:
        raise ServiceUnavailable(f"the database is at migration {revision}, the code expects {head}: run 'directory db upgrade'")
    limits = state.limits
    if isinstance(limits, DegradingLimitStore):
        try:
            await limits.peek("ready-probe", 1, 60)  # reaches Redis now if it may be back
        except ServiceUnavailable:
            pass
        if limits.down_since is not None and limits.when_down == "refuse":
            raise ServiceUnavailable(f"the rate-limit store (Redis) is {limits.state}")
        where = f"redis: {limits.state}"
    else:
        where = "memory"
    return Readiness(status="ready", database=database.dialect, migration=revision, limits=where)
