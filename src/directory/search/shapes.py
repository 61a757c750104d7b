"""Statements kept by their shape: a search whose conditions are those of an earlier one (the same
SQL and the same values) reuses that search's statement objects instead of composing them again.

SQLAlchemy keys its compiled-statement cache by walking the whole statement on every execution,
unless it meets the same statement object again (the key is remembered on the object). The walk of
search A (twenty nearest, one condition) and its remote rows is a union of two selects of twelve
columns each: composing it and walking it for the key was about a tenth of the request's CPU
(py-spy on a worker). The conditions alone are walked here, a few elements, to name the shape.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, true


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
