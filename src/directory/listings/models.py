"""Table models of a listing: the provider, its locations, services, conditions and clinicians.

These never leave the service layer; the routes answer with the schemas in ``schemas.py``.
"""

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlmodel import Field, Relationship, SQLModel

from directory.columns import BigKey, JSONValue, UTCDateTime, empty_dict, empty_list, new_id, new_row, utcnow
from directory.taxonomy.models import Condition, Service


class ProviderStatus(str, enum.Enum):
    draft = "draft"
    pending_review = "pending_review"
    published = "published"
    suspended = "suspended"
    closed = "closed"
    merged = "merged"
    """Merged into another listing (``merged_into``): its id and slug lead there."""


class VerificationStatus(str, enum.Enum):
    unverified = "unverified"
    pending = "pending"
    verified = "verified"
    failed = "failed"


class AnyCase(str, enum.Enum):
    """A vocabulary a person types: a value in any case, with spaces or hyphens for underscores,
    means its member (``md`` is ``MD``, ``Pain Medicine`` is ``pain_medicine``)."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            wanted = value.strip().replace(" ", "_").replace("-", "_").lower()
            for member in cls:
                if member.value.lower() == wanted:
                    return member
        return None


class Route(AnyCase):
    """How ketamine is given: IV infusion, IM injection, intranasal (esketamine), oral or sublingual at home."""

    iv = "iv"
    im = "im"
    intranasal = "intranasal"
    oral = "oral"


class PaymentOption(AnyCase):
    self_pay = "self_pay"
    insurance = "insurance"
    financing = "financing"
    sliding_scale = "sliding_scale"
    hsa_fsa = "hsa_fsa"


class Credential(AnyCase):
    MD = "MD"
    DO = "DO"
    CRNA = "CRNA"
    NP = "NP"
    PA = "PA"
    RN = "RN"
    PhD = "PhD"
    PsyD = "PsyD"
    LCSW = "LCSW"
    LPC = "LPC"
    LMFT = "LMFT"


class Specialty(AnyCase):
    anesthesiology = "anesthesiology"
    psychiatry = "psychiatry"
    emergency_medicine = "emergency_medicine"
    pain_medicine = "pain_medicine"
    family_medicine = "family_medicine"
    internal_medicine = "internal_medicine"
    psychology = "psychology"
    nursing = "nursing"
    social_work = "social_work"
    counseling = "counseling"


def _cascade_fk(target: str, type_: Any = None) -> Any:
    return Column(type_ or Uuid, ForeignKey(target, ondelete="CASCADE"), primary_key=True)


class ProviderCondition(SQLModel, table=True):
    __tablename__ = "provider_condition"

    provider_id: uuid.UUID = Field(sa_column=_cascade_fk("provider.id"))
    condition_code: str = Field(sa_column=Column(String(64), ForeignKey("condition.code"), primary_key=True))

    condition: Condition = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class ProviderService(SQLModel, table=True):
    __tablename__ = "provider_service"

    provider_id: uuid.UUID = Field(sa_column=_cascade_fk("provider.id"))
    service_code: str = Field(sa_column=Column(String(64), ForeignKey("service.code"), primary_key=True))
    price_min: int | None = None
    price_max: int | None = None
    session_minutes: int | None = None

    service: Service = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class ProviderClinician(SQLModel, table=True):
    """The role a clinician holds at a provider (FHIR PractitionerRole)."""

    __tablename__ = "provider_clinician"

    provider_id: uuid.UUID = Field(sa_column=_cascade_fk("provider.id"))
    clinician_id: uuid.UUID = Field(sa_column=_cascade_fk("clinician.id"))
    role: str | None = Field(default=None, max_length=100)

    clinician: "Clinician" = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Provider(SQLModel, table=True):
    """A listing: one clinic or practice (FHIR Organization, HSDS organization + service)."""

    __tablename__ = "provider"
    __table_args__ = (
        UniqueConstraint("external_source", "external_id", name="uq_provider_external"),
        Index("ix_provider_phone", "phone"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    translations: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONValue)
    """The listing's own words in other languages: ``{"es": {"description": ...}}``."""
    website: str | None = Field(default=None, max_length=500)
    site_domain: str | None = Field(default=None, max_length=253, index=True)
    """The website's registered domain, kept for finding duplicates (``duplicates.site_domain``)."""
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    npi: str | None = Field(default=None, max_length=10, index=True)
    status: ProviderStatus = Field(default=ProviderStatus.draft, sa_type=String(20), index=True)
    accepting_new_patients: bool | None = None
    telehealth: bool = False
    telehealth_states: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    payment_options: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    insurance_carriers: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    price_min: int | None = None
    price_max: int | None = None
    price_currency: str = Field(default="USD", max_length=3)
    languages: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    routes: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    rems_certified: bool = False
    verification_status: VerificationStatus = Field(default=VerificationStatus.unverified, sa_type=String(20))
    last_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verification_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the worker should check the listing next (while its verification is pending)."""
    verification_attempts: int = 0
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When an owner last saved the listing or said its details are still correct."""
    confirm_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the owners were last reminded to confirm (once per unconfirmed stretch)."""
    consultations_accepted: bool = False
    """The owners take consultation requests (see ``directory.consultations``)."""
    consultation_email: str | None = Field(default=None, max_length=254)
    """Where consultation requests are mailed: the confirmed address of one of the owners. Never public."""
    merged_into: uuid.UUID | None = Field(default=None, sa_type=Uuid)
    """The listing this one was merged into (status ``merged``)."""
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    version: int = 1
    external_source: str | None = Field(default=None, max_length=80)
    """Who imported the listing (``admin``, or ``key:<partner key id>``), with their id for it below."""
    external_id: str | None = Field(default=None, max_length=100)

    locations: list["Location"] = Relationship(
        back_populates="provider",
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan", "order_by": "Location.id"},
    )
    conditions: list[ProviderCondition] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"}
    )
    services: list[ProviderService] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"}
    )
    clinician_roles: list[ProviderClinician] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"}
    )


class Location(SQLModel, table=True):
    """A place where a provider sees patients (FHIR Location, HSDS location + service_at_location).

    On PostgreSQL the migration adds a generated ``geog`` geography column with a GiST index; on
    SQLite triggers keep the ``location_rtree`` R*Tree in step with latitude/longitude.
    """

    __tablename__ = "location"
    __table_args__ = (
        Index("ix_location_provider_id", "provider_id"),
        Index("ix_location_phone", "phone"),
        Index("ix_location_lat_lon", "latitude", "longitude"),
    )

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    name: str | None = Field(default=None, max_length=200)
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=2)
    postal_code: str | None = Field(default=None, max_length=10)
    country: str = Field(default="US", max_length=2)
    latitude: float
    longitude: float
    coordinate_source: str = Field(max_length=20)
    coordinate_precision: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)
    hours: list[dict[str, str]] = Field(default_factory=empty_list, sa_type=JSONValue)
    accessibility: str | None = Field(default=None, max_length=1000)
    """A note in the clinic's own words; ``accessibility_features`` are the searchable terms."""
    accessibility_features: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    rems_certified: bool = False
    """This setting is certified under the Spravato (esketamine) REMS program."""
    rems_certified_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    provider: "Provider" = Relationship(back_populates="locations", sa_relationship_kwargs={"lazy": "raise"})
    opening_intervals: list["OpeningInterval"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"}
    )

    def set_hours(self, hours: list[dict[str, str]]) -> None:
        """Store the weekly hours, and the same as minute intervals that search can query."""
        self.hours = hours
        self.opening_intervals = [new_row(OpeningInterval, day=day, opens=opens, closes=closes) for (day, opens), closes in minute_intervals(hours).items()]


def minute_intervals(hours: list[dict[str, str]]) -> dict[tuple[int, int], int]:
    """The weekly hours as (day, opening minute) -> closing minute, each within its day: an
    overnight interval is split at midnight; intervals opening at the same minute keep the longer."""
    found: dict[tuple[int, int], int] = {}
    for h in hours:
        day, opens, closes = WEEKDAYS.index(h["day"]), _minutes(h["opens"]), _minutes(h["closes"])
        parts = [(day, opens, closes)] if opens < closes else [(day, opens, 1440), ((day + 1) % 7, 0, closes)]
        for part_day, start, end in parts:
            if end > start:
                found[(part_day, start)] = max(end, found.get((part_day, start), 0))
    return found


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)


class AccessibilityFeature(AnyCase):
    """What a location offers people with disabilities (members are only ever appended: their order
    gives their bits in the read model)."""

    step_free_entrance = "step_free_entrance"
    accessible_restroom = "accessible_restroom"
    elevator = "elevator"
    accessible_parking = "accessible_parking"
    sign_language_interpreter = "sign_language_interpreter"
    service_animals_welcome = "service_animals_welcome"
    hearing_loop = "hearing_loop"
    large_print = "large_print"
    quiet_room = "quiet_room"
    near_public_transit = "near_public_transit"


#: Each accessibility feature in words, as pages and other formats show it.
ACCESSIBILITY_LABELS = {
    "step_free_entrance": "Step-free entrance",
    "accessible_restroom": "Accessible restroom",
    "elevator": "Elevator",
    "accessible_parking": "Accessible parking",
    "sign_language_interpreter": "Sign language interpreter on request",
    "service_animals_welcome": "Service animals welcome",
    "hearing_loop": "Hearing loop",
    "large_print": "Large-print materials",
    "quiet_room": "Quiet, low-stimulation room",
    "near_public_transit": "Near public transit",
}


class OpeningInterval(SQLModel, table=True):
    """One opening interval of a location in its local time: day 0 is Monday, minutes from midnight."""

    __tablename__ = "location_hours"

    location_id: int = Field(sa_column=_cascade_fk("location.id", BigKey))
    day: int = Field(primary_key=True)
    opens: int = Field(primary_key=True)
    closes: int


class Clinician(SQLModel, table=True):
    """A person who treats patients (FHIR Practitioner); linked to providers through roles."""

    __tablename__ = "clinician"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    credential: str = Field(max_length=10, index=True)
    specialty: str | None = Field(default=None, max_length=40)
    npi: str | None = Field(default=None, max_length=10, index=True)
    licenses: list[dict[str, Any]] = Field(default_factory=empty_list, sa_type=JSONValue)
    board_certifications: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    verification_status: VerificationStatus = Field(default=VerificationStatus.unverified, sa_type=String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListingChange(SQLModel, table=True):
    __tablename__ = "listing_change"
    __table_args__ = (Index("ix_listing_change_provider", "provider_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigKey, primary_key=True)
    provider_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False))
    actor: str = Field(max_length=80)
    """The caller: ``admin``, or ``<role>:<account id>``."""
    action: str = Field(max_length=40)
    changes: dict[str, Any] = Field(default_factory=empty_dict, sa_type=JSONValue)
    """``{field: {"before": ..., "after": ...}}``."""
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
