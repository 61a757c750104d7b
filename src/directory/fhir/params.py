"""FHIR search parameters: parsing the query string and turning each parameter into SQL.

The value syntax follows the FHIR R4 search specification: a comma between values means OR, a
repeated parameter means AND; strings match case-insensitively from their start (``:exact`` and
``:contains`` change that); tokens are ``code``, ``system|code`` or ``|code``; references are
``Type/id`` or ``id``; dates take the prefixes eq, ne, gt, ge, lt, le, sa and eb and match by the
precision given (a day, a month...).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_

from directory.errors import BadParameter

# Parameters about the result rather than the match; every search type accepts them.
RESULT_PARAMETERS = {"_count", "_cursor", "_include", "_total", "_format", "_pretty", "_sort"}
MAX_COUNT = 100
DEFAULT_COUNT = 20


@dataclass
class Parameter:
    name: str
    modifier: str | None
    values: list[str]
    """The comma-separated alternatives of one occurrence (ORed)."""


@dataclass
class SearchRequest:
    criteria: list[Parameter] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    cursor: str | None = None
    includes: list[str] = field(default_factory=list)
    total: bool = False
    sort: str | None = None
    used: list[tuple[str, str]] = field(default_factory=list)
    """The parameters this answer honoured, in order, for the Bundle's self link."""


def parse(items: list[tuple[str, str]], accepted: set[str], *, lenient: bool) -> SearchRequest:
    """Split the query string into criteria and result parameters; refuse what is not supported.

    With ``Prefer: handling=lenient`` unknown parameters are ignored (and left out of the self
    link), as the FHIR specification allows; by default they are an error, so a typo never
    silently widens a search.
    """
    request = SearchRequest()
    for raw_name, raw_value in items:
        name, _, modifier = raw_name.partition(":")
        if name not in accepted and name not in RESULT_PARAMETERS:
            if lenient:
                continue
            known = ", ".join(sorted(accepted | RESULT_PARAMETERS))
            raise BadParameter(raw_name, f"this server does not support the search parameter {name!r} here; supported: {known}")
        request.used.append((raw_name, raw_value))
        if name == "_count":
            request.count = _count(raw_value)
        elif name == "_cursor":
            request.cursor = raw_value
        elif name == "_include":
            request.includes.append(raw_value)
        elif name == "_total":
            if raw_value not in ("none", "estimate", "accurate"):
                raise BadParameter("_total", "expected none, estimate or accurate")
            request.total = raw_value != "none"
        elif name == "_format":
            if raw_value not in ("json", "application/json", "application/fhir+json"):
                raise BadParameter("_format", "this server answers in JSON only (json, application/fhir+json)")
        elif name == "_pretty":
            continue
        elif name == "_sort":
            request.sort = raw_value
        else:
            if modifier and modifier not in ("exact", "contains", "missing"):
                raise BadParameter(raw_name, f"the modifier :{modifier} is not supported")
            values = [value.strip() for value in _split_commas(raw_value)]
            if modifier != "missing" and not any(values):
                raise BadParameter(raw_name, "give a value")
            request.criteria.append(Parameter(name, modifier or None, values))
    return request


def _split_commas(value: str) -> list[str]:
    # A backslash escapes a comma inside a value.
    parts = re.split(r"(?<!\\),", value)
    return [part.replace("\\,", ",") for part in parts]


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise BadParameter("_count", "expected a whole number") from None
    if not 1 <= count <= MAX_COUNT:
        raise BadParameter("_count", f"between 1 and {MAX_COUNT}")
    return count


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def string(column: Any, parameter: Parameter) -> ColumnElement[bool]:
    """Starts-with by default, case-insensitively; ``:exact`` and ``:contains`` as FHIR defines."""
    if parameter.modifier == "missing":
        return _missing(column, parameter)
    options = []
    for value in parameter.values:
        if parameter.modifier == "exact":
            options.append(column == value)
        elif parameter.modifier == "contains":
            options.append(func.lower(column).like(f"%{_escape_like(value.lower())}%", escape="\\"))
        else:
            options.append(func.lower(column).like(f"{_escape_like(value.lower())}%", escape="\\"))
    return or_(*options)


def _missing(column: Any, parameter: Parameter) -> ColumnElement[bool]:
    if parameter.values not in (["true"], ["false"]):
        raise BadParameter(f"{parameter.name}:missing", "expected true or false")
    return column.is_(None) if parameter.values == ["true"] else column.is_not(None)


def tokens(parameter: Parameter, systems: set[str | None]) -> list[str]:
    """The codes asked for whose system (if given) is one of ``systems``; others match nothing."""
    if parameter.modifier not in (None, "exact"):
        raise BadParameter(f"{parameter.name}:{parameter.modifier}", "token parameters take no such modifier")
    codes = []
    for value in parameter.values:
        if "|" in value:
            system, _, code = value.partition("|")
            if system and system not in systems:
                continue
        else:
            code = value
        if code:
            codes.append(code)
    return codes


def references(parameter: Parameter, kind: str) -> list[str]:
    """The ids a reference parameter names (``Kind/id``, a full URL ending so, or a bare id)."""
    if parameter.modifier not in (None, kind):
        raise BadParameter(f"{parameter.name}:{parameter.modifier}", f"this parameter refers to {kind} resources")
    ids = []
    for value in parameter.values:
        tail = value.rstrip("/").split("/")
        if len(tail) >= 2 and tail[-2] != kind:
            continue
        ids.append(tail[-1])
    return ids


def uuids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue  # an id that cannot exist matches nothing
    return found


def in_or_nothing(column: Any, values: list[Any]) -> ColumnElement[bool]:
    return column.in_(values) if values else false()


_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb)?(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)


def date_range(text: str, field: str) -> tuple[str, datetime, datetime]:
    """The prefix and the instant range [start, end) that a FHIR date value stands for."""
    match = _DATE.match(text)
    if not match:
        raise BadParameter(field, f"{text!r} is not a FHIR date such as ge2026-11-01 or lt2026-11-21T10:00:00Z")
    prefix, value = match.group("prefix") or "eq", match.group("value")
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            step = timedelta(seconds=1) if value.count(":") >= 2 else timedelta(minutes=1)
            if "." in value:
                step = timedelta(microseconds=1)
            return prefix, moment, moment + step
        parts = [int(part) for part in value.split("-")]
        if len(parts) == 1:
            start, end = date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)
        elif len(parts) == 2:
            start = date(parts[0], parts[1], 1)
            end = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        else:
            start = date(parts[0], parts[1], parts[2])
            end = start + timedelta(days=1)
    except ValueError:
        raise BadParameter(field, f"{text!r} is not a valid date") from None
    as_instant = lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc)  # noqa: E731
    return prefix, as_instant(start), as_instant(end)


def dates(column: Any, parameter: Parameter) -> ColumnElement[bool]:
    options = []
    for value in parameter.values:
        prefix, start, end = date_range(value, parameter.name)
        options.append(
            {
                "eq": and_(column >= start, column < end),
                "ne": not_(and_(column >= start, column < end)),
                "gt": column >= end,
                "sa": column >= end,
                "ge": column >= start,
                "lt": column < start,
                "eb": column < start,
                "le": column < end,
            }[prefix]
        )
    return or_(*options)


def boolean(parameter: Parameter) -> bool | None:
    """``true`` or ``false`` (any case); None when both are asked (matches everything)."""
    wanted = {value.lower() for value in tokens(parameter, {None})}
    if not wanted <= {"true", "false"}:
        raise BadParameter(parameter.name, "expected true or false")
    return None if len(wanted) == 2 else "true" in wanted
