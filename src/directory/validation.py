"""Field types shared by the request schemas: each one validates and normalises a single kind of value.

The error messages are what a partner developer reads in a 422, so they say what was expected.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

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


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("expected an email address such as intake@example.com")
    return value.lower()


NPI = Annotated[str, AfterValidator(_npi)]
StateCode = Annotated[str, StringConstraints(max_length=2, min_length=2), AfterValidator(_state)]
PostalCode = Annotated[str, StringConstraints(max_length=10), AfterValidator(_postal_code)]
Phone = Annotated[str, StringConstraints(max_length=30), AfterValidator(normalise_phone)]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(_url)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
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


class Schema(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped, and no string
    may hold a NUL character (both databases answer alike)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(NUL_REASON)
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
