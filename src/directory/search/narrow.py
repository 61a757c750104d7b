"""Counting statements moved onto the narrow rows (``search_count``).

A search's conditions are written once, on ``search_location``; a total or a facet count reads
the same rows from the narrow table instead, by the same names. ``on_narrow`` gives a statement or
condition with the wide table swapped for the narrow one, or None when it reads a column only the
wide rows hold (free-text words): such a count stays on the wide table.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Column, literal_column, text
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause, TextClause

from directory.listings.readcount import search_count
from directory.listings.readmodel import search_location

_PREFIX = "search_location."
T = TypeVar("T")


class _Wide(Exception):
    """The element reads a column of the wide rows alone."""


def _swap(element: Any) -> Any:
    if element is search_location:
        return search_count
    if isinstance(element, Column) and element.table is search_location:
        narrow = search_count.c.get(element.name)
        if narrow is None:
            raise _Wide(element.name)
        return narrow
    # The backend's own SQL naming the table's columns (PostGIS's geometry and geography, SQLite's
    # sphere distance).
    if isinstance(element, ColumnClause) and element.is_literal and element.name.startswith(_PREFIX):
        return literal_column("search_count." + element.name[len(_PREFIX) :], element.type)
    if isinstance(element, TextClause) and _PREFIX in element.text:
        return text(element.text.replace(_PREFIX, "search_count.")).bindparams(*element._bindparams.values())
    return None


def on_narrow(element: T) -> T | None:
    """The element reading ``search_count`` where it read ``search_location``; None if it cannot."""
    try:
        return visitors.replacement_traverse(element, {}, _swap)  # type: ignore[arg-type,return-value]
    except _Wide:
        return None


def narrow_or_wide(element: T) -> T:
    """On the narrow rows where it can be, else as it is."""
    narrow = on_narrow(element)
    return element if narrow is None else narrow
