"""The CSV layout of imports: one row per location, the listing's columns repeated on each of its rows.

Rows with the same ``external_id`` are one listing. Its columns come from its first row; later rows
may repeat them or leave them blank, but may not disagree. Lists are separated by semicolons
("NY; NJ"); opening hours read "mon 09:00-17:00; tue 09:00-13:00"; booleans are true/false
(yes/no, 1/0 also do); blank means not given.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

PROVIDER_COLUMNS = [
    "external_id", "name", "description", "website", "phone", "email", "npi", "status",
    "accepting_new_patients", "telehealth", "telehealth_states", "payment_options", "insurance_carriers",
    "price_min", "price_max", "languages", "routes", "rems_certified", "services", "conditions",
]  # fmt: skip
LOCATION_COLUMNS = [
    "location_name", "address_line1", "address_line2", "city", "state", "postal_code", "latitude", "longitude",
    "location_phone", "timezone", "hours", "accessibility", "accessibility_features", "rems_certified_on",
]  # fmt: skip
COLUMNS = PROVIDER_COLUMNS + LOCATION_COLUMNS
REQUIRED = ("external_id", "name")
LISTS = {"telehealth_states", "payment_options", "insurance_carriers", "languages", "routes", "services", "conditions", "accessibility_features"}
BOOLEANS = {"accepting_new_patients", "telehealth", "rems_certified"}
NUMBERS = {"price_min", "price_max", "latitude", "longitude"}
# Location columns whose names differ from the API's location fields.
LOCATION_FIELDS = {"location_name": "name", "location_phone": "phone"}
API_TO_COLUMN = {"name": "location_name", "phone": "location_phone"}
_HOURS = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$", re.I)
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, header, size)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Row:
    line: int
    values: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Group:
    """The rows of one listing, in file order."""

    external_id: str
    rows: list[Row]

    @property
    def first(self) -> Row:
        return self.rows[0]


def read(data: bytes, max_rows: int) -> list[Group]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem("body", "the file must be UTF-8 encoded") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("body", "the file is empty; see the template in seed/import-template.csv") from None
    except csv.Error as error:
        raise FileProblem("body", f"not readable as CSV: {error}") from None
    header = [name.strip().lower() for name in header]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        # The field is named as written, control characters escaped (a problem document holds no NUL).
        raise FileProblem(repr(unknown[0])[1:-1], f"unknown column {unknown[0]!r}; the columns are: {', '.join(COLUMNS)}")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileProblem(missing[0], f"the column {missing[0]!r} is required")
    repeated = {name for name in header if header.count(name) > 1}
    if repeated:
        raise FileProblem(sorted(repeated)[0], "a column appears twice")
    groups: dict[str, Group] = {}
    count = 0
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > max_rows:
                raise FileProblem("body", f"at most {max_rows} rows per import; split the file")
            line = reader.line_num
            row = Row(line, {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)})
            if len(cells) > len(header):
                row.errors.append(("body", f"{len(cells)} cells but {len(header)} columns"))
            key = row.values.get("external_id", "")
            if not key:
                row.errors.append(("external_id", "required: your own id for this listing, the same on each of its rows"))
            elif len(key) > 100:
                row.errors.append(("external_id", "at most 100 characters"))
            groups.setdefault(key, Group(key, [])).rows.append(row)
    except csv.Error as error:
        raise FileProblem("body", f"line {reader.line_num}: not readable as CSV: {error}") from None
    if not groups:
        raise FileProblem("body", "the file has a header but no rows")
    return list(groups.values())


def _value(column: str, raw: str, row: Row) -> Any:
    if column in LISTS:
        return [part.strip() for part in raw.split(";") if part.strip()]
    if column in BOOLEANS:
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        row.errors.append((column, "expected true or false"))
        return None
    if column in NUMBERS:
        try:
            number = float(raw)
        except ValueError:
            row.errors.append((column, "expected a number"))
            return None
        return int(number) if column.startswith("price") and number.is_integer() else number
    if column == "hours":
        hours = []
        for part in (p.strip() for p in raw.split(";") if p.strip()):
            match = _HOURS.match(part)
            if not match:
                row.errors.append(("hours", f"{part!r}: expected a day and times such as 'mon 09:00-17:00'"))
                continue
            day, opens, closes = match.groups()
            hours.append({"day": day.lower(), "opens": opens.zfill(5), "closes": closes.zfill(5)})
        return hours
    return raw


def listing_body(group: Group) -> tuple[dict[str, Any], list[Row]]:
    """The group as a POST /v1/providers body, and the row each location came from."""
    first = group.first
    body: dict[str, Any] = {}
    for column in PROVIDER_COLUMNS:
        raw = first.values.get(column, "")
        if column == "external_id" or raw == "":
            continue
        value = _value(column, raw, first)
        if value is not None:
            body[column] = value
    for row in group.rows[1:]:
        for column in PROVIDER_COLUMNS:
            raw = row.values.get(column, "")
            if raw and raw != first.values.get(column, ""):
                row.errors.append((column, f"differs from line {first.line}, the listing's first row; leave it blank or repeat it"))
    price_min, price_max = body.pop("price_min", None), body.pop("price_max", None)
    if price_min is not None or price_max is not None:
        if price_min is None or price_max is None:
            first.errors.append(("price_min" if price_min is None else "price_max", "give price_min and price_max together"))
        else:
            body["price"] = {"min": price_min, "max": price_max}
    if "services" in body:
        body["services"] = [{"code": code} for code in body["services"]]
    locations, sources = [], []
    for row in group.rows:
        place: dict[str, Any] = {}
        for column in LOCATION_COLUMNS:
            raw = row.values.get(column, "")
            if raw == "":
                continue
            value = _value(column, raw, row)
            if value is not None:
                place[LOCATION_FIELDS.get(column, column)] = value
        if place:
            locations.append(place)
            sources.append(row)
    body["locations"] = locations
    return body, sources
