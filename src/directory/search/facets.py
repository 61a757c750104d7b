"""Counts per filter value (for a filter sidebar), and the total, in one statement.

The counts are disjunctive: a value's count is what ticking it would give. Every other filter
applies, and the values of the value's own facet are ORed: with PTSD ticked, "Major depression"
counts the listings treating PTSD or major depression, the result ticking it gives. Filters whose
values all must hold (accessibility terms, ``condition_match=all``) narrow instead: a value
counts the matches that have it too.

The statement reads the rows the search matches without those filters, once (near and remote
rows as parts of a UNION ALL, each read by its own index): per row a flag for each set of filters
(all, all but a narrowed facet's, that facet's own), then per listing (a listing counts once, by
any of its rows, and a location facet's value by the row that has it; its attributes from its
first row), then the matches apart (when a facet is narrowed, most facets count only them), then
the sums: one row over the matches for every facet no filter narrows, and one row per narrowed
facet over the listings the other filters let through. Facets whose values are bits of a mask
(conditions, services, payment, credentials, specialties, accessibility, REMS) are counted per
distinct mask and added up here. Insurance and language come from the elements of their JSON
arrays, grouped.

Only the rows differ between searches of one shape (which facets are narrowed, and the clinician
pairs asked for): everything after them is built once per shape and kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Integer,
    String,
    TableClause,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy import column as named_column
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.listings.readmodel import ENUM_BITS, clinician_pair, search_location
from directory.search.backends import SearchBackend
from directory.search.filters import Faceted
from directory.search.narrow import narrow_or_wide
from directory.search.query import SearchQuery
from directory.search.schemas import FacetCount, Facets
from directory.search.shapes import run_kept

S = search_location.c
#: Price bands: listings whose cheapest infusion is at most this (whole USD).
PRICE_BANDS = (300, 400, 500, 750, 1000)
#: The facets; those of the location are counted by the row that meets them, the rest by the listing.
LOCATION_FACETS = ("accessibility", "rems_certified")
#: Bits of the widest location-facet mask (accessibility's terms).
ACCESS_BITS = max(len(ENUM_BITS["accessibility"]), 2)
#: The facets whose values are the bits of an enumeration (the read model's masks).
ENUM_FACETS = {"payment": "payment", "credential": "credentials", "specialty": "specialties", "accessibility": "accessibility"}
FACETS = ("condition", "service", "credential", "specialty", "payment", "price", "telehealth", "accepting_new_patients", "insurance", "language", *LOCATION_FACETS)


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def _by_name(name: str, columns: list[Any]) -> TableClause:
    """A CTE's columns reached by name. A CTE's own ``.c`` proxies every expression of every part
    of its UNION: a third of the time the facets took to build."""
    return table(name, *(named_column(c.name, c.type) for c in columns))


async def count_facets(
    session: AsyncSession | AsyncConnection,
    backend: SearchBackend,
    bits: dict[str, dict[str, int]],
    query: SearchQuery,
    wider: list[ColumnElement[bool]],
    faceted: list[Faceted],
    below: dict[str, dict[str, list[str]]],
) -> tuple[Facets, int]:
    """Facets and total. ``wider``: the rows the search matches without its disjunctive filters, in
    parts each read by an index of its own (a listing's rows may come in more than one part)."""
    own = [f for f in faceted if f.disjunctive]

    def others(family: str | None) -> ColumnElement[bool]:
        """The disjunctive filters that do not narrow this facet (all of them for None: the matches)."""
        return and_(true(), *(f.predicate for f in own if family is None or family not in f.families))

    def ticked(family: str) -> ColumnElement[bool]:
        """The facet's own filters (what its ticked values ask for)."""
        return and_(true(), *(f.predicate for f in own if family in f.families))

    narrowed = tuple(sorted({family for f in own for family in f.families}))
    tail = _tail(backend, narrowed, tuple(query.specialties), tuple(query.credentials))

    def build() -> Any:
        row_columns = _row_columns(narrowed, others, ticked)
        # Read from the narrow rows (unless a filter reads the wide rows' words).
        rows = narrow_or_wide(union_all(*(select(*row_columns).where(part) for part in wider)) if len(wider) > 1 else select(*row_columns).where(wider[0])).cte("facet_rows")
        # The CTEs named up front, in the order they build on each other (the statement reaches them by name).
        return tail.statement.add_cte(rows, *tail.ctes)

    # Kept by shape: everything but the rows' conditions and the facets' own filters is the tail's.
    kind = ("facets", backend.name, len(wider), tuple(tuple(sorted(f.families)) for f in own), tuple(query.specialties), tuple(query.credentials))
    result = await run_kept(session, backend.changing, kind, [*wider, *(f.predicate for f in own)], build)
    groups = {
        "condition": _groups(bits["conditions"], below["condition"]),
        "service": _groups(bits["services"], below["service"]),
        **{family: {value: 1 << bit for value, bit in ENUM_BITS[kind].items()} for family, kind in ENUM_FACETS.items()},
        "rems_certified": {"true": 1, "false": 2},
    }
    found: dict[str, list[FacetCount]] = {kind: [] for kind in Facets.model_fields}
    total = 0
    by_mask: dict[str, list[tuple[int, int, int]]] = {family: [] for family in tail.masked}
    for row in result:
        name = row[0]
        if name.startswith("mask_"):
            by_mask[name[5:]].append((int(row[1] or 0), row[2] or 0, row[3] or 0))
            continue
        values = list(row[2:])
        if name == "sums":
            total = values[0] or 0
            found_counts = zip(tail.plain, values[1:], strict=False)
        elif row[1] is not None:
            found[name].append(FacetCount.model_construct(value=row[1], count=row[2]))
            continue
        else:
            n = len(tail.tested[name])
            having, both, now = values[:n], values[n : 2 * n], values[2 * n] or 0
            # Ticking it gives the listings with it or with a ticked value; shown only if some have it.
            union = [(h or 0) + now - (b or 0) if h else 0 for h, b in zip(having, both, strict=True)]
            found_counts = zip([(name, value) for value in tail.tested[name]], union, strict=True)
        for (family, value), count in found_counts:
            if count:
                found[family].append(FacetCount.model_construct(value=value, count=count))
    for family, counted in by_mask.items():
        found[family] += _mask_counts(counted, groups[family])
    for family, counts in found.items():
        if family != "price":
            counts.sort(key=lambda f: (-f.count, f.value))
    return Facets(**found), total


def _row_columns(narrowed: tuple[str, ...], others: Callable[[str | None], ColumnElement[bool]], ticked: Callable[[str], ColumnElement[bool]]) -> list[Any]:
    """Per row: the filters hold (all; all but each narrowed facet's; that facet's own), and what the
    location facets read; each filter is evaluated once per row."""
    row_columns: list[Any] = [S.provider_id.label("provider_id"), S.location_id.label("location_id"), _flag(others(None)).label("all")]
    row_columns += [_flag(others(family)).label(f"but_{family}") for family in narrowed]
    row_columns += [_flag(ticked(family)).label(f"own_{family}") for family in narrowed]
    # A location facet's values as bits of one mask per row (REMS: 1 certified, 2 not).
    row_columns += [S.access.label("access"), case((S.rems == true(), 1), else_=2).label("rems"), S.alone.label("alone")]
    # The listing's own attributes, the same on each of its rows (booleans as 1/0: comparable and
    # aggregable on both databases).
    row_columns += [S.conditions, S.services, S.credentials, S.specialties, S.payment, S.price_min, S.clinicians, S.insurance, S.languages]
    row_columns += [case((S.telehealth == true(), 1), (S.telehealth == false(), 0)).label("telehealth")]
    row_columns += [case((S.accepting == true(), 1), (S.accepting == false(), 0)).label("accepting")]
    return row_columns


@dataclass(frozen=True)
class _Tail:
    """Everything of the facet statement after its rows, the same for every search of one shape:
    the parts to run over the rows (``facet_rows``, reached by name), the CTEs they build on, and
    how to read the answer."""

    statement: CompoundSelect
    ctes: tuple[CTE, ...]
    plain: tuple[tuple[str, str], ...]
    """The facet values the sums row counts, in its order (after the total)."""
    tested: dict[str, tuple[str, ...]]
    """The values of each narrowed facet counted by a test each, in its row's order."""
    masked: tuple[str, ...]
    """The facets counted per distinct mask."""


_TAILS: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], _Tail] = {}
_TAILS_KEPT = 512


def _tail(backend: SearchBackend, narrowed: tuple[str, ...], specialties: tuple[str, ...], credentials: tuple[str, ...]) -> _Tail:
    """The statement's tail for this shape, built once (building it anew took a fifth of a faceted
    search's time); the values that differ between searches of a shape are all in its rows."""
    key = (backend.name, narrowed, specialties, credentials)
    tail = _TAILS.get(key)
    if tail is None:
        if len(_TAILS) >= _TAILS_KEPT:
            _TAILS.clear()
        tail = _TAILS[key] = _build_tail(backend, narrowed, specialties, credentials)
    return tail


def _build_tail(backend: SearchBackend, narrowed: tuple[str, ...], specialties: tuple[str, ...], credentials: tuple[str, ...]) -> _Tail:
    r = _by_name("facet_rows", _row_columns(narrowed, lambda _: true(), lambda _: true())).c
    # Per listing: a listing counts where any of its rows does (a location facet's value by the row
    # that has it). A listing's only row is the listing as it is; the rows of a listing with several
    # here are grouped (flags: the largest; attributes: the same on each).
    flags = ["all", *(f"but_{family}" for family in narrowed), *(f"own_{family}" for family in narrowed)]
    per_row: list[Any] = [r[name].label(name) for name in flags]
    # Per row, the bits of a location facet's values that count it: those of the row where the
    # search matches it; narrowed, where the other filters do: every value when a ticked one holds
    # (ticking a value gives the rows of the ticked values or of this one).
    for family, column, every in (("accessibility", r.access, (1 << len(ENUM_BITS["accessibility"])) - 1), ("rems_certified", r.rems, 3)):
        if family in narrowed:
            counted = case((r[f"but_{family}"] != 1, 0), (r[f"own_{family}"] == 1, every), else_=column)
        else:
            counted = case((r["all"] == 1, column), else_=0)
        per_row.append(counted.label(f"at_{family}"))
    attributes = ("conditions", "services", "credentials", "specialties", "payment", "price_min", "clinicians", "insurance", "languages", "telehealth", "accepting")
    per_row += [r[name] for name in attributes]
    # Grouped: only the listings with more than one row here (few: a listing's locations are seldom near each other).
    several = select(r.provider_id).where(r.alone != true()).group_by(r.provider_id).having(func.count() > 1).cte("facet_several")
    listings = union_all(
        select(*per_row).where(or_(r.alone == true(), r.provider_id.not_in(select(several.c.provider_id)))),
        select(*(_any_row(column) for column in per_row)).where(r.provider_id.in_(select(several.c.provider_id))).group_by(r.provider_id),
    ).cte("facet_listings")
    listings_by_name = _by_name(listings.name, per_row)
    m = listings_by_name.c
    # The matches apart, when some facet counts more than them: most facets read only these.
    matches_by_name, ctes = listings_by_name, [several, listings]
    if narrowed:
        matches = select(listings_by_name).where(m["all"] == 1).cte("facet_matches")
        matches_by_name = _by_name(matches.name, per_row)
        ctes.append(matches)
    mm = matches_by_name.c

    def on(family: str) -> Any:
        """The listings a facet counts: those the other filters let through, or the matches."""
        return m if family in narrowed else mm

    # Each facet's values as tests on a listing, and the listings each facet counts: the matches, or
    # for a narrowed facet those the other filters let through.
    tests: dict[str, list[tuple[str, ColumnElement[bool]]]] = {family: [] for family in FACETS}
    # The facets whose values are bits of one column are counted per distinct mask (a few hundred at
    # most), the masks' counts added up in Python, instead of a test per value on every listing.
    masks: dict[str, Any] = {"condition": on("condition").conditions, "service": on("service").services, "payment": on("payment").payment}
    # With a specialty ticked, a credential's count is of clinicians with both (what ticking it
    # gives): a test on the clinician pairs; and the other way round.
    if specialties:
        tests["credential"] = [(c, _any_pair(on("credential").clinicians, [clinician_pair(c, s) for s in specialties])) for c in ENUM_BITS["credentials"]]
    else:
        masks["credential"] = on("credential").credentials
    if credentials:
        tests["specialty"] = [(s, _any_pair(on("specialty").clinicians, [clinician_pair(c, s) for c in credentials])) for s in ENUM_BITS["specialties"]]
    else:
        masks["specialty"] = on("specialty").specialties
    for band in PRICE_BANDS:
        tests["price"].append((str(band), on("price").price_min <= band))
    for family, name in (("telehealth", "telehealth"), ("accepting_new_patients", "accepting")):
        tests[family] += [("true", on(family)[name] == 1), ("false", on(family)[name] == 0)]

    # One row of sums for the matches (every facet not narrowed, and the total), then one per narrowed facet.
    parts: list[Any] = []
    plain: list[tuple[str, str]] = []
    sums: list[Any] = [func.count()]
    for family, values in tests.items():
        if family not in narrowed:
            plain += [(family, value) for value, _ in values]
            sums += [func.sum(case((test, 1), else_=0)) for _, test in values]
    pieces: list[tuple[str, list[Any], TableClause, ColumnElement[bool]]] = [("sums", sums, matches_by_name, true())]
    for family in narrowed:
        own_flag = m[f"own_{family}"] == 1
        if family in masks or family in LOCATION_FACETS:
            continue  # by mask, below
        # For each value: the listings that have it, and those that have it and a ticked value;
        # then how many the ticked values give now. Ticking it gives the union.
        wide = [func.sum(case((test, 1), else_=0)) for _, test in tests[family]]
        wide += [func.sum(case((and_(own_flag, test), 1), else_=0)) for _, test in tests[family]]
        wide.append(func.sum(case((own_flag, 1), else_=0)))
        pieces.append((family, wide, listings_by_name, m[f"but_{family}"] == 1))
    width = max(len(columns) for _, columns, _, _ in pieces)
    for name, columns, source, where in pieces:
        parts.append(select(literal(name), literal(None, String), *columns, *[literal(None, Integer)] * (width - len(columns))).select_from(source).where(where))
    for family, column in masks.items():
        # Per mask: the listings with it, and (narrowed) how many of them a ticked value lets through.
        own_count, where = (func.sum(m[f"own_{family}"]), m[f"but_{family}"] == 1) if family in narrowed else (literal(0), true())
        parts.append(
            select(literal(f"mask_{family}"), cast(column, String), func.count(), own_count, *[literal(None, Integer)] * (width - 2)).where(where).group_by(column)
        )
    for family in LOCATION_FACETS:
        # Per mask of the values a listing counts under (already what ticking gives): the listings with it.
        column = on(family)[f"at_{family}"]
        parts.append(
            select(literal(f"mask_{family}"), cast(column, String), func.count(), literal(0), *[literal(None, Integer)] * (width - 2)).where(column != 0).group_by(column)
        )
    for family, name in (("insurance", "insurance"), ("language", "languages")):
        element = backend.json_values(on(family)[name])
        counts: Any = func.count()
        where, source = true(), matches_by_name
        if family in narrowed:
            # Ticking a value gives the listings of the ticked ones as well: those count under every value.
            ticked_listings = select(func.count()).select_from(listings_by_name).where(m[f"but_{family}"] == 1, m[f"own_{family}"] == 1).scalar_subquery()
            counts = func.count() + ticked_listings - func.sum(m[f"own_{family}"])
            where, source = m[f"but_{family}"] == 1, listings_by_name
        parts.append(
            select(literal(family), element.c.value, counts, *[literal(None, Integer)] * (width - 1))
            .select_from(source)
            .join(element, true())
            .where(where)
            .group_by(element.c.value)
        )
    return _Tail(
        statement=union_all(*parts),
        ctes=tuple(ctes),
        plain=tuple(plain),
        tested={family: tuple(value for value, _ in tests[family]) for family in narrowed if tests[family]},
        masked=(*masks, *LOCATION_FACETS),
    )


def _mask_counts(counted: list[tuple[int, int, int]], groups: dict[str, int]) -> list[FacetCount]:
    """Each value's count from the counts per mask (listings with that mask, and those of them a
    ticked value lets through): ticking a value gives the listings with it or with a ticked value;
    shown only if some have it. A one-bit value adds up its bit's counts (each mask's bits taken
    once); a group of bits, the counts of the masks that meet it, which are first added up by their
    bits within the groups' own (a few of them, against a thousand masks near a city)."""
    cover = 0
    for group in groups.values():
        if group & (group - 1):
            cover |= group
    per_bit: dict[int, list[int]] = {}
    per_cover: dict[int, list[int]] = {}
    now = 0
    for mask, count, own in counted:
        now += own
        rest = mask
        while rest:
            low = rest & -rest
            sums = per_bit.get(low)
            if sums is None:
                per_bit[low] = [count, own]
            else:
                sums[0] += count
                sums[1] += own
            rest ^= low
        if mask & cover:
            sums = per_cover.get(mask & cover)
            if sums is None:
                per_cover[mask & cover] = [count, own]
            else:
                sums[0] += count
                sums[1] += own
    found = []
    for value, group in groups.items():
        if group & (group - 1) == 0:
            having, both = per_bit.get(group, (0, 0))
        else:
            having = sum(count for mask, (count, _) in per_cover.items() if mask & group)
            both = sum(own for mask, (_, own) in per_cover.items() if mask & group)
        if having:
            # Counted here from the database's integers: nothing to validate.
            found.append(FacetCount.model_construct(value=value, count=having + now - both))
    return found


def _any_row(column: Any) -> Any:
    """Over a listing's rows: a location facet's bits of any of them (each bit's largest, added: an
    OR on both databases), anything else the largest (flags: any row's; attributes: the same on each)."""
    if not column.name.startswith("at_"):
        return func.max(column).label(column.name)
    return sum((func.max(column.element.op("&")(1 << bit)) for bit in range(ACCESS_BITS)), start=literal(0)).label(column.name)


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
