"""What the listing routes accept and return. Requests reject unknown fields; lists are bounded."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, field_validator, model_validator

from directory import i18n
from directory.listings.held import PendingChangePublic
from directory.listings.location_schemas import LocationCreate, LocationFields, LocationUpdate, OpeningHours, TimeZone, Weekday  # noqa: F401 (re-exported)
from directory.listings.models import Credential, PaymentOption, ProviderStatus, Route, Specialty
from directory.validation import NPI, Email, Label, LanguageCode, License, LongText, Phone, Schema, ShortText, StateCode, Url, not_null, unique

TaxonomyCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)]
def _not_a_boolean(value: Any) -> Any:
    # JSON's true and false are not amounts, though Python counts them as 1 and 0.
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true or false")
    return value


Money = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=0, le=100_000, description="whole units of the currency")]
class PriceRange(Schema):
    """Indicative cash price of one infusion."""

    min: Money
    max: Money
    currency: Literal["USD"] = "USD"

    @model_validator(mode="after")
    def _ordered(self) -> PriceRange:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class ServiceOffer(Schema):
    code: TaxonomyCode = Field(examples=["ketamine-iv"])
    price_min: Money | None = None
    price_max: Money | None = None
    session_minutes: Annotated[int, Field(ge=5, le=600)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ServiceOffer:
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError("price_min must not exceed price_max")
        return self


class ClinicianFields(Schema):
    first_name: Label | None = None
    last_name: Label | None = None
    credential: Credential | None = None
    specialty: Specialty | None = None
    npi: NPI | None = None
    licenses: list[License] | None = Field(default=None, max_length=60)
    board_certifications: list[Label] | None = Field(default=None, max_length=20)
    role: Label | None = Field(default=None, description="the clinician's role at this provider", examples=["Medical director"])

    @field_validator("licenses", "board_certifications", mode="before")
    @classmethod
    def _null_clears(cls, values: object) -> object:
        return [] if values is None else values


class ClinicianCreate(ClinicianFields):
    first_name: Label
    last_name: Label
    credential: Credential


class ClinicianUpdate(ClinicianFields):
    """Fields to change; first_name, last_name and credential cannot be cleared."""

    NOT_NULL: ClassVar[tuple[str, ...]] = ("first_name", "last_name", "credential")
    _kept = not_null(*NOT_NULL)


class ListingWords(Schema):
    """A listing's own words in another language, written by its staff (never machine-translated)."""

    description: LongText | None = Field(default=None, description="the description in this language", examples=["Clínica de infusión de ketamina en el valle del Hudson."])


#: The languages a listing's own words may be given in besides English: those the pages speak.
TranslatedLanguage = Literal[i18n.OTHERS]  # type: ignore[valid-type]


class ProviderFields(Schema):
    name: ShortText | None = Field(default=None, examples=["Hudson Valley Ketamine Clinic"])
    description: LongText | None = None
    translations: dict[TranslatedLanguage, ListingWords] | None = Field(
        default=None,
        description='the listing\'s own words in other languages, by language code: {"es": {"description": ...}}. '
        "Given, it replaces what is stored; null or {} removes them. Readers of a language without them get the English text",
    )
    website: Url | None = Field(default=None, examples=["https://hudsonketamine.example"])
    phone: Phone | None = Field(default=None, examples=["(212) 555-0100"])
    email: Email | None = Field(default=None, examples=["intake@hudsonketamine.example"])
    npi: NPI | None = Field(default=None, description="organization NPI (NPI-2)", examples=["1234567893"])
    status: ProviderStatus | None = None
    accepting_new_patients: bool | None = None
    telehealth: bool | None = None
    telehealth_states: list[StateCode] | None = Field(default=None, max_length=60)
    payment_options: list[PaymentOption] | None = Field(default=None, max_length=5)
    insurance_carriers: list[Label] | None = Field(default=None, max_length=50)
    price: PriceRange | None = None
    languages: list[LanguageCode] | None = Field(default=None, max_length=20, examples=[["en", "es"]])
    routes: list[Route] | None = Field(default=None, max_length=4)
    rems_certified: bool | None = Field(default=None, description="certified under the Spravato REMS")
    services: list[ServiceOffer] | None = Field(default=None, max_length=30)
    conditions: list[TaxonomyCode] | None = Field(default=None, max_length=30, examples=[["ptsd"]])

    @field_validator(
        "telehealth_states", "payment_options", "insurance_carriers", "languages", "routes", "conditions", "services",
        mode="before",
    )
    @classmethod
    def _null_clears(cls, values: object) -> object:
        # An explicit null empties the list; the stored value is never a JSON null.
        return [] if values is None else values

    @field_validator("telehealth_states", "payment_options", "insurance_carriers", "languages", "routes", "conditions")
    @classmethod
    def _dedupe(cls, values: list | None) -> list | None:
        return None if values is None else unique(values)

    @field_validator("translations")
    @classmethod
    def _words_given(cls, words: dict[str, ListingWords] | None) -> dict[str, ListingWords] | None:
        # A language with nothing in it is not kept: its readers get the English text.
        return None if words is None else {language: said for language, said in words.items() if said.description}

    @field_validator("translations", mode="before")
    @classmethod
    def _null_empties(cls, words: object) -> object:
        return {} if words is None else words

    @field_validator("services")
    @classmethod
    def _one_offer_per_service(cls, offers: list[ServiceOffer] | None) -> list[ServiceOffer] | None:
        if offers is not None and len({offer.code for offer in offers}) != len(offers):
            raise ValueError("each service code may appear once")
        return offers


class ProviderCreate(ProviderFields):
    """A new listing, with its locations, services, conditions and clinicians in one request."""

    name: ShortText = Field(examples=["Hudson Valley Ketamine Clinic"])
    status: Literal[ProviderStatus.draft, ProviderStatus.pending_review, ProviderStatus.published] = (
        ProviderStatus.draft
    )
    locations: list[LocationCreate] = Field(default_factory=list, max_length=20)
    clinicians: list[ClinicianCreate] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> ProviderCreate:
        if self.telehealth_states and not self.telehealth:
            raise ValueError("telehealth_states needs telehealth: true")
        return self


class ProviderUpdate(ProviderFields):
    """Fields to change; a list given replaces the stored one. Locations and clinicians have their own routes."""

    NOT_NULL: ClassVar[tuple[str, ...]] = ("name", "status", "telehealth", "rems_certified")
    _kept = not_null(*NOT_NULL)


# --- responses ---------------------------------------------------------------------------------


class TaxonomyRef(BaseModel):
    code: str
    name: str


class ServicePublic(TaxonomyRef):
    price_min: int | None = None
    price_max: int | None = None
    session_minutes: int | None = None


class LocationSummary(BaseModel):
    """Where a location is and when it is open."""

    id: int
    name: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str
    latitude: float
    longitude: float
    phone: str | None
    timezone: str | None
    hours: list[dict[str, str]]
    accessibility: str | None
    accessibility_features: list[str] = Field(default_factory=list, description="what the location offers people with disabilities")
    rems_certified: bool = Field(default=False, description="certified under the Spravato (esketamine) REMS program")
    rems_certified_on: date | None = None


class MatchedLocation(LocationSummary):
    open_now: bool | None = Field(description="open at the moment searched (now, or `at`); null without hours")


class Verification(BaseModel):
    verified: bool = Field(description="the listing's NPI and each clinician's NPI passed against the NPPES registry")
    status: str = Field(description="unverified, pending, verified or failed")
    last_verified_at: datetime | None
    stale: bool = Field(description="verified, but not re-verified within the configured window (365 days by default)")


class Confirmation(BaseModel):
    confirmed_at: datetime | None = Field(description="when one of the clinic's own staff last saved the listing or confirmed it is still correct")
    unconfirmed: bool = Field(description="not confirmed by the clinic within the configured window (180 days by default), or never")


class ProviderSummary(BaseModel):
    """A listing as a search hit shows it."""

    id: uuid.UUID
    slug: str
    name: str
    verified: bool
    last_verified_at: datetime | None = Field(default=None, description="when the registry last confirmed the listing")
    accepting_new_patients: bool | None
    telehealth: bool
    price: PriceRange | None
    conditions: list[TaxonomyRef]
    services: list[TaxonomyRef]
    website: str | None = None
    phone: str | None = Field(default=None, description="the listing's main number (E.164); a location may have its own")
    verification: Verification = Field(description="the registry check in full, `stale` included (`verified` above is its short form)")
    confirmation: Confirmation
    accepts_consultation_requests: bool = Field(default=False, description="the clinic takes consultation requests (see the listing)")


class LocationPublic(LocationSummary):
    coordinate_source: Literal["given", "geocoded"]
    coordinate_precision: Literal["exact", "address", "postcode", "city"]


class ClinicianPublic(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    credential: str
    specialty: str | None
    npi: str | None
    licenses: list[dict[str, Any]]
    board_certifications: list[str]
    role: str | None
    verification_status: str




class PossibleDuplicate(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    reasons: list[str] = Field(description="npi, phone, website (the same registered domain) or nearby (a location within 50 m under a similar name)")
    score: float = Field(description="0-1: how likely the two are one clinic")


class ProviderPublic(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    description: str | None
    translations: dict[str, ListingWords] = Field(
        default_factory=dict, description="the listing's own words in other languages, by language code; readers of a language without them get the English text"
    )
    website: str | None
    phone: str | None
    email: str | None
    npi: str | None
    status: ProviderStatus
    accepting_new_patients: bool | None
    telehealth: bool
    telehealth_states: list[str]
    payment_options: list[str]
    insurance_carriers: list[str]
    price: PriceRange | None
    languages: list[str]
    routes: list[str]
    rems_certified: bool
    verification: Verification
    confirmation: Confirmation
    accepts_consultation_requests: bool = Field(
        default=False, description="the clinic takes consultation requests: GET /v1/providers/{id}/consultation-form, then POST .../consultation-requests"
    )
    locations: list[LocationPublic]
    services: list[ServicePublic]
    conditions: list[TaxonomyRef]
    clinicians: list[ClinicianPublic]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    version: int
    merged_into: uuid.UUID | None = Field(default=None, description="status merged: the listing this one now leads to")
    possible_duplicates: list[PossibleDuplicate] | None = Field(
        default=None,
        description="on creation only: published listings that may be the same clinic (moderators review the pair; nothing is blocked). "
        "If one of them is yours, claim it (POST /v1/providers/{id}/claims) rather than keep two listings",
    )
    pending_changes: list[PendingChangePublic] | None = Field(
        default=None,
        description="changes to trust fields (NPI, credentials, licenses) waiting for a moderator; shown to owners and moderators only",
    )


class ProviderPage(BaseModel):
    items: list[ProviderPublic]
    next_cursor: str | None = Field(description="pass as `cursor` to get the next page; null on the last page")
