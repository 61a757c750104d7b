"""Field types shared by the request schemas: each one validates and normalises a single kind of value.

The error messages are what a partner developer reads in a 422, so they say what was expected.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from datetime import date, datetime, timezone
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from directory.errors import BadParameter

US_STATES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM
    NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP""".split()
)


def npi_is_valid(npi: str) -> bool:
    """Luhn check of a 10-digit NPI with the card-issuer prefix 80840, as CMS specifies."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _npi(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"\d{10}", value):
        raise ValueError("an NPI is exactly 10 digits")
    if not npi_is_valid(value):
        raise ValueError("not a valid NPI: the check digit does not match (Luhn with prefix 80840)")
    return value


def _state(value: str) -> str:
    code = value.strip().upper()
    if code not in US_STATES:
        raise ValueError("expected a two-letter US state or territory code such as NY or HI")
    return code


def _postal_code(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{5}(\d{4})?", digits):
        raise ValueError("expected a US ZIP code: 5 digits or ZIP+4 (12345 or 12345-6789)")
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


def normalise_phone(value: str) -> str:
    """Return the number in E.164 form (``+12125550100``); US numbers may be written any usual way."""
    raw = value.strip()
    digits = re.sub(r"[\s().\-/]", "", raw)
    if digits.startswith("+"):
        body = digits[1:]
        if body.isdigit() and 8 <= len(body) <= 15:
            if body.startswith("1") and len(body) != 11:
                raise ValueError("a +1 number has 10 digits after the country code")
            return "+" + body
    elif digits.isdigit():
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) == 10:
            return "+1" + digits
    raise ValueError("expected a phone number: 10 US digits such as (212) 555-0100, or +<country><number>")


def _url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("expected an absolute http:// or https:// URL")
    return value


#: White space, named character by character: the schema's patterns are read by other regular
#: expression engines (JavaScript's \s, Python's and Rust's differ on \x1c-\x1f, \x85 and \ufeff),
#: and pydantic strips what Rust calls white space. Spelled out, every reader agrees.
WHITE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITE_CHARS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
_EMAIL_PART = f"[^@{WHITE}\x00-\x1f\x7f-\x9f]+"
_EMAIL = re.compile(f"^{_EMAIL_PART}@{_EMAIL_PART}\\.[A-Za-z]{{2,}}$")


def _email(value: str) -> str:
    value = value.strip(_WHITE_CHARS)
    if not _EMAIL.match(value):
        raise ValueError("expected an email address such as intake@example.com")
    return value.lower()


def _any_case(code: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in code)


# The patterns below only declare, in the OpenAPI document, what the validators enforce (so that a
# client, or a tester generating requests from the document, knows the rule); the validators keep
# the messages a person reads. Each pattern accepts exactly what its validator accepts.
_SEPARATORS = r"[\s().\-/]*"
_DIGIT = rf"[0-9]{_SEPARATORS}"
PHONE_PATTERN = (
    rf"^{_SEPARATORS}(\+{_SEPARATORS}(1{_SEPARATORS}({_DIGIT}){{10}}|[02-9]{_SEPARATORS}({_DIGIT}){{7,14}})"
    rf"|(1{_SEPARATORS})?({_DIGIT}){{10}})$"
)
STATE_PATTERN = r"^\s*(" + "|".join(_any_case(code) for code in sorted(US_STATES)) + r")\s*$"
NPI_PATTERN = r"^\s*[0-9]{10}\s*$"
EMAIL_PATTERN = f"^[{WHITE}]*{_EMAIL_PART}@{_EMAIL_PART}\\.[A-Za-z]{{2,}}[{WHITE}]*$"  # no control characters

NPI = Annotated[
    str,
    Field(json_schema_extra={"pattern": NPI_PATTERN}, description="a National Provider Identifier: 10 digits, the last a Luhn check digit (prefix 80840)"),
    AfterValidator(_npi),
]
StateCode = Annotated[
    str,
    # No length limits: spaces around the code are stripped before any is checked, so the pattern is the whole rule.
    Field(json_schema_extra={"pattern": STATE_PATTERN}, description="a two-letter US state or territory code, any case"),
    AfterValidator(_state),
]
PostalCode = Annotated[str, StringConstraints(max_length=10), AfterValidator(_postal_code)]
Phone = Annotated[
    str,
    Field(max_length=30, json_schema_extra={"pattern": PHONE_PATTERN}, description="10 US digits written any usual way, such as (212) 555-0100, or +<country><number>; answered in E.164"),
    AfterValidator(normalise_phone),
]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(_url)]
Email = Annotated[str, Field(max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN}), AfterValidator(_email)]
#: A stripped text must hold something besides white space: said in the schema too, as a pattern.
NOT_BLANK = f"^[^\x00]*[^{WHITE}\x00][^\x00]*$"  # and no NUL, as no body string holds one
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Field(json_schema_extra={"pattern": NOT_BLANK})]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra={"pattern": NOT_BLANK})]
LanguageCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}$")]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS84 latitude in decimal degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS84 longitude in decimal degrees")]


NUL_REASON = "must not contain NUL (\\u0000) characters"


def has_nul(value: Any) -> bool:
    """Whether a string anywhere in this value holds a NUL character (PostgreSQL text cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(item) for item in value)
    return False


@functools.cache
def _json_kind(annotation: Any) -> type | None:
    """bool or int when a field holds just that (or null), else None."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(kinds) != 1:
            return None
        return _json_kind(kinds[0])
    return annotation if annotation in (bool, int) else None


class Schema(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped, and no string
    may hold a NUL character (both databases answer alike)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if has_nul(value):
            raise ValueError(NUL_REASON)
        # JSON's types as they are: "true", 1 or "5" are not booleans, and 5.5, "5" or true are not whole numbers.
        kind = _json_kind(cls.model_fields[info.field_name].annotation) if info.field_name in cls.model_fields else None
        if value is not None and kind is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema's integer: 5.0 is the number 5
        if value is not None and kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("expected a whole number")
        return value


class License(Schema):
    """A state license held by a clinician."""

    state: StateCode
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    expires_on: date | None = None


def unique(values: list) -> list:
    """Drop repeated entries, keeping the first occurrence's order."""
    seen: dict = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def _refuse_none(cls: type, value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null: leave the field out to keep its value")
    return value


def not_null(*names: str) -> Any:
    """A validator for fields a change may leave out but not clear (their OpenAPI entry is not nullable:
    list them in the model's ``NOT_NULL``)."""
    return field_validator(*names, mode="before")(_refuse_none)


_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?([Zz]|[+-]\d{2}:?\d{2})?$")


def moment(name: str, text: str | None, *, offset_required: bool = True) -> datetime | None:
    """A query parameter's ISO 8601 date and time (RFC 3339), read strictly: never a number of
    seconds, never a guess. A date alone is its midnight; without an offset (where allowed), UTC."""
    if text is None:
        return None
    value = text.strip()
    example = "2026-11-01T00:00:00Z"
    if not _MOMENT.match(value):
        raise BadParameter(name, f"expected an ISO 8601 date and time with its offset, such as {example}")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as error:
        raise BadParameter(name, f"not a valid date and time ({error}); for example {example}") from None
    if parsed.tzinfo is None:
        if offset_required and ("T" in value.upper() or " " in value):
            raise BadParameter(name, f"give a time zone, such as {example}")
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed
