"""What the location routes accept: a place, its weekly hours, its accessibility and REMS."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from directory.listings.models import AccessibilityFeature
from directory.validation import Label, Latitude, Longitude, Phone, PostalCode, Schema, ShortText, StateCode, unique

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone such as America/New_York") from None
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]


class OpeningHours(Schema):
    """One opening interval starting on one weekday, in the location's local time ("24:00" closes at
    midnight). An interval that closes before it opens runs past midnight into the next day: Friday
    22:00-02:00 is one interval, open until 2 a.m. on Saturday."""

    day: Weekday
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:00"], description="before opens: the next day (overnight)")

    @field_validator("opens", "closes")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError("expected a 24-hour time HH:MM")
        return value

    @model_validator(mode="after")
    def _in_order(self) -> OpeningHours:
        if self.closes == "00:00" and self.opens != "00:00":
            self.closes = "24:00"  # until midnight
        if self.opens == self.closes or (self.opens == "00:00" and self.closes == "00:00"):
            raise ValueError("opens and closes are the same time: give when it opens and when it closes (22:00-02:00 runs past midnight)")
        if self.opens == "24:00":
            raise ValueError("opens at 24:00 is the next day's 00:00: give that day instead")
        return self

    @property
    def overnight(self) -> bool:
        return self.closes < self.opens


_ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")


class LocationFields(Schema):
    name: Label | None = None
    address_line1: ShortText | None = Field(default=None, examples=["350 Fifth Avenue, Suite 2100"])
    address_line2: ShortText | None = None
    city: Label | None = Field(default=None, examples=["New York"])
    state: StateCode | None = Field(default=None, examples=["NY"])
    postal_code: PostalCode | None = Field(default=None, examples=["10118"])
    country: Literal["US"] = "US"
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Phone | None = None
    timezone: TimeZone | None = Field(default=None, description="IANA zone of the opening hours")
    hours: list[OpeningHours] | None = Field(default=None, max_length=28)
    accessibility: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="a note in the clinic's own words; the searchable terms are accessibility_features"
    )
    accessibility_features: list[AccessibilityFeature] | None = Field(
        default=None, max_length=10, examples=[["step_free_entrance", "accessible_restroom"]], description="what the location offers people with disabilities (any case)"
    )
    rems_certified: bool | None = Field(default=None, description="this setting is certified under the Spravato (esketamine) REMS program")
    rems_certified_on: date | None = Field(default=None, description="when it was certified (implies rems_certified)", examples=["2025-03-01"])

    @field_validator("rems_certified_on")
    @classmethod
    def _certified_on(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return value
        if value > date.today():
            raise ValueError("the date is in the future: give the date the REMS certification was granted")
        if info.data.get("rems_certified") is False:
            raise ValueError("a certification date means the location is certified: leave rems_certified out or set it true")
        return value

    @field_validator("accessibility_features", mode="before")
    @classmethod
    def _null_features(cls, values: object) -> object:
        return [] if values is None else values

    @field_validator("accessibility_features")
    @classmethod
    def _unique_features(cls, values: list | None) -> list | None:
        return None if values is None else unique(values)

    @model_validator(mode="after")
    def _both_coordinates(self) -> LocationFields:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        if self.rems_certified_on is not None:
            self.rems_certified = True
        if self.latitude == 0 and self.longitude == 0:
            raise ValueError("latitude 0, longitude 0 is in the Gulf of Guinea, not a clinic: give the location's coordinates, or leave them out to geocode its address")
        return self


class LocationCreate(LocationFields):
    """A place where patients are seen. Without coordinates, the address is geocoded."""

    @model_validator(mode="after")
    def _placeable(self) -> LocationCreate:
        if self.latitude is None and not (self.postal_code or (self.city and self.state)):
            raise ValueError("give latitude and longitude, or an address with a postal_code or a city and state")
        return self


class LocationUpdate(LocationFields):
    """Fields to change. Changing the address without new coordinates geocodes it again."""

    def address_changed(self) -> bool:
        return any(name in self.model_fields_set for name in _ADDRESS_FIELDS)
