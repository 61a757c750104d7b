"""Counts per filter value among all matches (for a filter sidebar), and their total, in one statement.

Each matching listing is counted once, from one of its matching rows (the rows of a listing carry
the same attributes): bit sums for conditions, services and credentials and the two flags in one
pass, and the elements of the insurance and language arrays grouped, all in one UNION ALL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.listings.readmodel import ENUM_BITS, search_location
from directory.search.backends import SearchBackend
from directory.search.schemas import FacetCount, Facets

S = search_location.c


async def count_facets(
    session: AsyncSession | AsyncConnection,
    backend: SearchBackend,
    bits: dict[str, dict[str, int]],
    matching: ColumnElement[bool],
) -> tuple[Facets, int]:
    """Facets and total of the listings that have a row meeting ``matching``."""
    firsts = select(func.min(S.location_id).label("first")).where(matching).group_by(S.provider_id).cte("firsts")
    matched = (
        select(S.conditions, S.services, S.credentials, S.telehealth, S.accepting, S.insurance, S.languages)
        .join(firsts, firsts.c.first == S.location_id)
        .cte("matched")
    )
    m = matched.c
    labels: list[tuple[str, str | None]] = [("total", None)]
    sums: list[Any] = [func.count()]
    for kind, column, bits in (
        ("condition", m.conditions, bits["conditions"]),
        ("service", m.services, bits["services"]),
        ("credential", m.credentials, ENUM_BITS["credentials"]),
    ):
        for value, bit in bits.items():
            labels.append((kind, value))
            sums.append(func.sum(case((m[column.name].op("&")(1 << bit) != 0, 1), else_=0)))
    for kind, column in (("telehealth", m.telehealth), ("accepting_new_patients", m.accepting)):
        for value in (True, False):
            labels.append((kind, "true" if value else "false"))
            sums.append(func.sum(case((column == value, 1), else_=0)))
    width = len(sums)
    parts = [select(literal("sums"), literal(None, String), *sums).select_from(matched)]
    for kind, column in (("insurance", m.insurance), ("language", m.languages)):
        element = backend.json_values(column)
        padding = [literal(None, Integer)] * (width - 1)
        parts.append(
            select(literal(kind), element.c.value, func.count(), *padding)
            .select_from(matched)
            .join(element, true())
            .group_by(element.c.value)
        )
    found: dict[str, list[FacetCount]] = {kind: [] for kind in Facets.model_fields}
    total = 0
    for row in await session.execute(union_all(*parts)):
        if row[0] == "sums":
            total = row[2] or 0
            for (kind, value), count in zip(labels[1:], row[3:], strict=True):
                if count:
                    found[kind].append(FacetCount(value=value, count=count))  # type: ignore[arg-type]
        elif row[1] is not None:
            found[row[0]].append(FacetCount(value=row[1], count=row[2]))
    for counts in found.values():
        counts.sort(key=lambda f: (-f.count, f.value))
    return Facets(**found), total


def scaled(facets: Facets, factor: float) -> Facets:
    """Counts from a sample, scaled to the whole."""
    return Facets(
        **{
            kind: [FacetCount(value=f.value, count=round(f.count * factor)) for f in getattr(facets, kind)]
            for kind in Facets.model_fields
        }
    )
