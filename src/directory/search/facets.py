"""Counts per filter value (for a filter sidebar), and the total, in one statement.

The counts are disjunctive: a value's count is what ticking it would give. Every other filter
applies, and the values of the value's own facet are ORed: with PTSD ticked, "Major depression"
counts the listings treating PTSD or major depression, the result ticking it gives. Filters whose
values all must hold (accessibility terms, ``condition_match=all``) narrow instead: a value
counts the matches that have it too.

The statement reads the rows the search matches without those filters, once: a flag per row for
each facet (the other filters hold), then per listing (a listing counts once, by any of its rows),
then the sums. Insurance and language come from the elements of their JSON arrays, grouped.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.listings.readmodel import ENUM_BITS, clinician_pair, search_location
from directory.search.backends import SearchBackend
from directory.search.filters import Faceted
from directory.search.query import SearchQuery
from directory.search.schemas import FacetCount, Facets

S = search_location.c
#: Price bands: listings whose cheapest infusion is at most this (whole USD).
PRICE_BANDS = (300, 400, 500, 750, 1000)
#: The facets, and whether each is a test on the location (counted by the row that meets it) or on the listing.
LOCATION_FACETS = ("accessibility", "rems_certified")
FACETS = ("condition", "service", "credential", "specialty", "payment", "price", "telehealth", "accepting_new_patients", "insurance", "language", *LOCATION_FACETS)


def _bit(column: Any, bit: int) -> ColumnElement[bool]:
    return column.op("&")(1 << bit) != 0


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


async def count_facets(
    session: AsyncSession | AsyncConnection,
    backend: SearchBackend,
    bits: dict[str, dict[str, int]],
    query: SearchQuery,
    wider: ColumnElement[bool],
    faceted: list[Faceted],
    below: dict[str, dict[str, list[str]]],
) -> tuple[Facets, int]:
    """Facets and total. ``wider``: the rows the search matches without its disjunctive filters."""
    own = [f for f in faceted if f.disjunctive]

    def others(family: str | None) -> ColumnElement[bool]:
        """The disjunctive filters that do not narrow this facet (all of them for None: the matches)."""
        return and_(true(), *(f.predicate for f in own if family is None or family not in f.families))

    def ticked(family: str) -> ColumnElement[bool]:
        """The facet's own filters (what its ticked values ask for)."""
        return and_(true(), *(f.predicate for f in own if family in f.families))

    narrowed = sorted({family for f in own for family in f.families})
    # Per row: the filters hold (all; all but each narrowed facet's; that facet's own); the location facets' values.
    row_columns: list[Any] = [S.provider_id.label("provider_id"), _flag(others(None)).label("all")]
    row_columns += [_flag(others(family)).label(f"but_{family}") for family in narrowed]
    row_columns += [_flag(ticked(family)).label(f"own_{family}") for family in narrowed]
    location_values = {
        "accessibility": [(value, _bit(S.access, bit)) for value, bit in ENUM_BITS["accessibility"].items()],
        "rems_certified": [("true", S.rems == true()), ("false", S.rems != true())],
    }
    for family, values in location_values.items():
        if family in narrowed:  # ticking a value gives the rows of the ticked values or of this one
            row_columns += [_flag(and_(others(family), or_(ticked(family), test))).label(f"{family}_{n}") for n, (_, test) in enumerate(values)]
        else:
            row_columns += [_flag(and_(others(None), test)).label(f"{family}_{n}") for n, (_, test) in enumerate(values)]
    listing_columns = (S.conditions, S.services, S.credentials, S.specialties, S.payment, S.price_min, S.telehealth, S.accepting, S.clinicians, S.insurance, S.languages)
    rows = select(*row_columns, *listing_columns).where(wider).cte("facet_rows")
    r = rows.c
    # Per listing: a listing counts where any of its rows does; its own attributes are on every row.
    flags = ["all", *(f"but_{family}" for family in narrowed), *(f"own_{family}" for family in narrowed)]
    flags += [f"{family}_{n}" for family, values in location_values.items() for n in range(len(values))]
    attributes = [r[c.name] for c in listing_columns]
    listings = (
        select(*(func.max(r[name]).label(name) for name in flags), *attributes)
        .group_by(r.provider_id, *attributes)
        .cte("facet_listings")
    )
    m = listings.c

    def counted(family: str) -> Any:
        return m[f"but_{family}"] if family in narrowed else m["all"]

    labels: list[tuple[str, str, bool]] = []
    """Each count's facet and value, and whether a second count follows it (with a ticked value too)."""
    sums: list[Any] = [func.sum(m["all"])]

    def add(family: str, value: str, test: ColumnElement[bool]) -> None:
        """The listings the other filters let through that have this value; for a facet with values
        ticked, also those that have it and a ticked one (ticking it gives the listings of either)."""
        labels.append((family, value, family in narrowed))
        sums.append(func.sum(case((and_(counted(family) == 1, test), 1), else_=0)))
        if family in narrowed:
            sums.append(func.sum(case((and_(counted(family) == 1, m[f"own_{family}"] == 1, test), 1), else_=0)))


    for code, group in _groups(bits["conditions"], below["condition"]).items():
        add("condition", code, m.conditions.op("&")(group) != 0)
    for code, group in _groups(bits["services"], below["service"]).items():
        add("service", code, m.services.op("&")(group) != 0)
    for value, bit in ENUM_BITS["credentials"].items():
        # With a specialty ticked, a credential's count is of clinicians with both (what ticking it gives).
        pairs = [clinician_pair(value, s) for s in query.specialties]
        add("credential", value, _any_pair(m.clinicians, pairs) if pairs else _bit(m.credentials, bit))
    for value, bit in ENUM_BITS["specialties"].items():
        pairs = [clinician_pair(c, value) for c in query.credentials]
        add("specialty", value, _any_pair(m.clinicians, pairs) if pairs else _bit(m.specialties, bit))
    for value, bit in ENUM_BITS["payment"].items():
        add("payment", value, _bit(m.payment, bit))
    for band in PRICE_BANDS:
        add("price", str(band), m.price_min <= band)
    for family, column in (("telehealth", m.telehealth), ("accepting_new_patients", m.accepting)):
        for value in (True, False):
            add(family, "true" if value else "false", column == value)
    for family, values in location_values.items():
        for n, (value, _) in enumerate(values):
            labels.append((family, value, False))  # per row already: what ticking it gives
            sums.append(func.sum(m[f"{family}_{n}"]))
    for family in narrowed:  # how many the ticked values give now (last: read from the end)
        sums.append(func.sum(case((and_(m[f"but_{family}"] == 1, m[f"own_{family}"] == 1), 1), else_=0)))
    width = len(sums)
    parts = [select(literal("sums"), literal(None, String), *sums).select_from(listings)]
    for family, column in (("insurance", m.insurance), ("language", m.languages)):
        element = backend.json_values(column)
        padding = [literal(None, Integer)] * (width - 1)
        if family in narrowed:
            # Ticking a value gives the listings of the ticked ones as well: those count under every value.
            ticked_listings = select(func.count()).select_from(listings).where(counted(family) == 1, m[f"own_{family}"] == 1).scalar_subquery()
            count = func.count() + ticked_listings - func.sum(m[f"own_{family}"])
        else:
            count = func.count()
        parts.append(
            select(literal(family), element.c.value, count, *padding)
            .select_from(listings)
            .join(element, true())
            .where(counted(family) == 1)
            .group_by(element.c.value)
        )
    found: dict[str, list[FacetCount]] = {kind: [] for kind in Facets.model_fields}
    total = 0
    for row in await session.execute(union_all(*parts)):
        if row[0] == "sums":
            total = row[2] or 0
            values = list(row[3:])
            now = dict(zip(narrowed, values[len(values) - len(narrowed) :], strict=True)) if narrowed else {}
            position = 0
            for family, value, paired in labels:
                having = values[position] or 0
                position += 1
                count = having
                if paired:
                    both = values[position] or 0
                    position += 1
                    # Ticking it gives the listings with it or with a ticked value; shown only if some have it.
                    count = having + (now[family] or 0) - both if having else 0
                if count:
                    found[family].append(FacetCount(value=value, count=count))
        elif row[1] is not None:
            found[row[0]].append(FacetCount(value=row[1], count=row[2]))
    for family, counts in found.items():
        if family != "price":
            counts.sort(key=lambda f: (-f.count, f.value))
    return Facets(**found), total


def _groups(codes: dict[str, int], below: dict[str, list[str]]) -> dict[str, int]:
    """Each entry's mask over itself and the entries below it (a broad term counts its whole group)."""
    found = {}
    for code in codes:
        group = 0
        for member in below.get(code, [code]):
            if member in codes:
                group |= 1 << codes[member]
        found[code] = group
    return found


def _any_pair(column: Any, pairs: list[str]) -> ColumnElement[bool]:
    return or_(*(column.contains(json.dumps(pair), autoescape=True) for pair in pairs))


def scaled(facets: Facets, factor: float) -> Facets:
    """Counts from a sample, scaled to the whole."""
    return Facets(
        **{
            kind: [FacetCount(value=f.value, count=round(f.count * factor)) for f in getattr(facets, kind)]
            for kind in Facets.model_fields
        }
    )
