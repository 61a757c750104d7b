"""Column types that behave the same on SQLite and PostgreSQL, and new row objects made quickly."""

from __future__ import annotations

import copy
import inspect
import uuid
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

_Row = TypeVar("_Row")

#: A JSON array or object; JSONB on PostgreSQL so that it can be indexed and searched.
JSONValue = JSON().with_variant(JSONB(), "postgresql")

#: A 64-bit key on PostgreSQL; on SQLite it must be INTEGER to alias the rowid (and feed the R*Tree).
BigKey = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # asyncpg reads a timestamptz as a datetime aware in UTC already: nothing to do per row
        # (search reads two of these on each of its rows).
        if dialect.driver == "asyncpg":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# SQLModel asks for a default factory's signature each time it makes a row. A builtin's (``list``,
# ``dict``) is parsed from its text signature, about 0.15 ms a field; a plain function's is quicker,
# and one that carries its signature already (``__signature__``, which ``inspect`` reads first) is
# quicker still. With six list fields, a new listing took 1 ms of factories alone; now 0.12.


def empty_list() -> list:
    """A table model's empty JSON list: ``Field(default_factory=empty_list)``."""
    return []


def empty_dict() -> dict:
    """A table model's empty JSON object: ``Field(default_factory=empty_dict)``."""
    return {}


def new_id() -> uuid.UUID:
    """A table model's new random id: ``Field(default_factory=new_id)``."""
    return uuid.uuid4()


for _factory in (utcnow, empty_list, empty_dict, new_id):
    _factory.__signature__ = inspect.signature(_factory)  # type: ignore[attr-defined]


# A new row object the way a table model's constructor makes it, about nine times quicker: the
# constructor looks up every field's default and sets each value through SQLAlchemy's attribute
# events, which keep a history that a transient object (not yet in a session) never needs; an
# INSERT reads the object's values as they are. A listing of an import is some ten such objects.

_PLANS: dict[type, tuple[list[tuple[str, Any, Any]], frozenset[str], frozenset[str]]] = {}


def _plan(model: type) -> tuple[list[tuple[str, Any, Any]], frozenset[str], frozenset[str]]:
    """(field, default, factory) of each field with a default; the relationships; the fields."""
    plan = _PLANS.get(model)
    if plan is None:
        from pydantic_core import PydanticUndefined
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # as the constructor's first call does
        defaults = [
            (name, None if field.default_factory is not None else field.default, field.default_factory)
            for name, field in model.model_fields.items()  # type: ignore[attr-defined]
            if field.default_factory is not None or field.default is not PydanticUndefined
        ]
        plan = _PLANS[model] = (defaults, frozenset(model.__sqlmodel_relationships__), frozenset(model.model_fields))  # type: ignore[attr-defined]
    return plan


def new_row(model: type[_Row], **values: Any) -> _Row:
    """``model(**values)`` for a table model: the same fields, defaults and relationships set."""
    defaults, relationships, fields = _plan(model)
    row = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    stored = row.__dict__
    for name, default, factory in defaults:
        if name not in values:
            stored[name] = factory() if factory is not None else copy.deepcopy(default)
    for name, value in values.items():
        if name in fields:
            stored[name] = value
        elif name not in relationships:
            raise TypeError(f"{model.__name__} has no field {name!r}")
    object.__setattr__(row, "__pydantic_fields_set__", set(fields.intersection(values)))
    object.__setattr__(row, "__pydantic_extra__", None)
    for name in relationships.intersection(values):
        setattr(row, name, values[name])
    return row
