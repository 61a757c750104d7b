"""The FHIR search-parameter table: for each resource type, its base statement and what each
search parameter means in SQL (the parsing of values lives in ``params``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true, tuple_

from directory.fhir import params, resources
from directory.fhir.params import Parameter
from directory.fhir.resources import Systems
from directory.listings.models import Clinician, Location, Provider, ProviderClinician, ProviderCondition, ProviderService, ProviderStatus
from directory.taxonomy.models import Condition, Service

PUBLISHED = Provider.status == ProviderStatus.published.value
NEAR = r"lat|lon|distance|units"


# --- the criteria of each resource type --------------------------------------------------------

Criterion = Callable[[Parameter, Systems], ColumnElement[bool]]


def _identifier(npi_column: Any, slug_column: Any | None = None) -> Criterion:
    """``identifier``: an NPI (system us-npi) or, where the resource has one, the listing's slug
    (system <base>/sid/listing-slug); a value without a system matches either."""

    def criterion(p: Parameter, s: Systems) -> ColumnElement[bool]:
        npis = params.tokens(p, {resources.NPI_SYSTEM})
        if slug_column is None:
            return params.in_or_nothing(npi_column, npis)
        slugs = params.tokens(p, {s.slug})
        return params.in_or_nothing(npi_column, npis) | params.in_or_nothing(slug_column, slugs)

    return criterion


def _location_field(provider_column: Any, location_column: Any) -> Criterion:
    return lambda p, s: provider_column.in_(select(Location.provider_id).where(params.string(location_column, p)))


def _active(p: Parameter, s: Systems) -> ColumnElement[bool]:
    wanted = params.boolean(p)
    return PUBLISHED if wanted in (None, True) else ~PUBLISHED


def _with_narrower(table: type[Condition] | type[Service], codes: list[str]) -> Any:
    """The codes and every code below them (the taxonomies are at most three levels deep)."""
    below = select(table.code).where(table.parent.in_(codes))
    return select(table.code).where(or_(table.code.in_(codes), table.parent.in_(codes), table.parent.in_(below)))


def _service_type(column: Any) -> Criterion:
    def criterion(p: Parameter, s: Systems) -> ColumnElement[bool]:
        codes = params.tokens(p, {s.service})
        if not codes:
            return false()
        return column.in_(select(ProviderService.provider_id).where(ProviderService.service_code.in_(_with_narrower(Service, codes))))

    return criterion


def _characteristic(column: Any) -> Criterion:
    def criterion(p: Parameter, s: Systems) -> ColumnElement[bool]:
        codes = params.tokens(p, {s.condition})
        if not codes:
            return false()
        return column.in_(select(ProviderCondition.provider_id).where(ProviderCondition.condition_code.in_(_with_narrower(Condition, codes))))

    return criterion


def _specialty_codes(p: Parameter, s: Systems) -> list[str]:
    codes = []
    for code in params.tokens(p, {s.specialty, resources.NUCC_SYSTEM}):
        codes.append(resources.NUCC_TO_SPECIALTY.get(code, code))
    return codes


def _provider_specialty(column: Any) -> Criterion:
    return lambda p, s: column.in_(
        select(ProviderClinician.provider_id)
        .join(Clinician, Clinician.id == ProviderClinician.clinician_id)
        .where(params.in_or_nothing(Clinician.specialty, _specialty_codes(p, s)))
    )


def _reference_uuid(column: Any, kind: str) -> Criterion:
    return lambda p, s: params.in_or_nothing(column, params.uuids(params.references(p, kind)))


def _location_ids(p: Parameter) -> list[int]:
    return [int(i) for i in params.references(p, "Location") if i.isdigit() and len(i) < 19]


def _id_uuid(column: Any) -> Criterion:
    return lambda p, s: params.in_or_nothing(column, params.uuids(params.tokens(p, {None})))


def _id_location(p: Parameter, s: Systems) -> ColumnElement[bool]:
    ids = [int(i) for i in params.tokens(p, {None}) if i.isdigit() and len(i) < 19]
    return params.in_or_nothing(Location.id, ids)


def _id_role(p: Parameter, s: Systems) -> ColumnElement[bool]:
    pairs = [pair for value in params.tokens(p, {None}) if (pair := resources.split_role_id(value))]
    return params.in_or_nothing(tuple_(ProviderClinician.provider_id, ProviderClinician.clinician_id), pairs)


@dataclass(frozen=True)
class Kind:
    """How one resource type is searched: its key columns, base statement and parameters."""

    name: str
    keys: tuple[Any, ...]
    updated: Any
    criteria: dict[str, tuple[str, Criterion, str]]
    """name -> (FHIR search parameter type, SQL condition, documentation)"""
    includes: dict[str, str]
    """_include value -> the resource type it adds"""

    def base(self) -> Select[Any]:
        statement = select(*self.keys)
        if self.name in ("Organization", "HealthcareService"):
            return statement.where(PUBLISHED)
        if self.name == "Location":
            return statement.join(Provider, Provider.id == Location.provider_id).where(PUBLISHED)
        if self.name == "PractitionerRole":
            return statement.join(Provider, Provider.id == ProviderClinician.provider_id).where(PUBLISHED)
        return statement.where(
            Clinician.id.in_(select(ProviderClinician.clinician_id).join(Provider, Provider.id == ProviderClinician.provider_id).where(PUBLISHED))
        )


KINDS: dict[str, Kind] = {
    "Organization": Kind(
        "Organization",
        (Provider.id,),
        Provider.updated_at,
        {
            "_id": ("token", _id_uuid(Provider.id), "the listing's id"),
            "name": ("string", lambda p, s: params.string(Provider.name, p), "the clinic's name (starts with; :exact, :contains)"),
            "identifier": (
                "token",
                _identifier(Provider.npi, Provider.slug),
                f"the organization NPI ({resources.NPI_SYSTEM}|1234567893) or the listing's slug (<base>/sid/listing-slug|<slug>); a bare value matches either",
            ),
            "active": ("token", _active, "always true: only published listings are served"),
            "address-city": ("string", _location_field(Provider.id, Location.city), "a city of one of its locations"),
            "address-state": ("string", _location_field(Provider.id, Location.state), "a state of one of its locations (two letters)"),
            "address-postalcode": ("string", _location_field(Provider.id, Location.postal_code), "a ZIP code of one of its locations"),
        },
        {},
    ),
    "HealthcareService": Kind(
        "HealthcareService",
        (Provider.id,),
        Provider.updated_at,
        {
            "_id": ("token", _id_uuid(Provider.id), "the listing's id (the same as its Organization's)"),
            "name": ("string", lambda p, s: params.string(Provider.name, p), "the clinic's name"),
            "organization": ("reference", _reference_uuid(Provider.id, "Organization"), "Organization/<id>"),
            "service-type": ("token", _service_type(Provider.id), "a service code of GET /v1/services, e.g. ketamine-iv"),
            "specialty": ("token", _provider_specialty(Provider.id), f"a clinician specialty: a NUCC code ({resources.NUCC_SYSTEM}) or ours, e.g. psychiatry"),
            "characteristic": ("token", _characteristic(Provider.id), "a condition treated, a code of GET /v1/conditions, e.g. ptsd"),
            "location": (
                "reference",
                lambda p, s: Provider.id.in_(select(Location.provider_id).where(params.in_or_nothing(Location.id, _location_ids(p)))),
                "Location/<id>",
            ),
            "active": ("token", _active, "always true: only published listings are served"),
        },
        {"HealthcareService:organization": "Organization", "HealthcareService:location": "Location"},
    ),
    "Location": Kind(
        "Location",
        (Location.id, Location.provider_id),
        Provider.updated_at,
        {
            "_id": ("token", _id_location, "the location's id"),
            "name": ("string", lambda p, s: params.string(func.coalesce(Location.name, Provider.name), p), "the location's name"),
            "organization": ("reference", _reference_uuid(Location.provider_id, "Organization"), "Organization/<id>"),
            "address-city": ("string", lambda p, s: params.string(Location.city, p), "city"),
            "address-state": ("string", lambda p, s: params.string(Location.state, p), "state (two letters)"),
            "address-postalcode": ("string", lambda p, s: params.string(Location.postal_code, p), "ZIP code"),
            "near": (
                "special",
                lambda p, s: _unreachable(),
                f"{NEAR}: within a distance (km unless units is [mi_i]; 40 km if left out, at most 800 km), with _sort=near nearest first; the distance of each hit is in the location-distance extension of its entry's search element",
            ),
        },
        {"Location:organization": "Organization"},
    ),
    "Practitioner": Kind(
        "Practitioner",
        (Clinician.id,),
        Clinician.updated_at,
        {
            "_id": ("token", _id_uuid(Clinician.id), "the clinician's id"),
            "identifier": ("token", _identifier(Clinician.npi), f"the clinician's NPI ({resources.NPI_SYSTEM}|1234567893, or the bare number)"),
            "name": (
                "string",
                lambda p, s: params.string(Clinician.first_name, p) | params.string(Clinician.last_name, p),
                "a given or family name",
            ),
            "family": ("string", lambda p, s: params.string(Clinician.last_name, p), "family name"),
            "given": ("string", lambda p, s: params.string(Clinician.first_name, p), "given name"),
            "active": ("token", lambda p, s: false() if params.boolean(p) is False else true(), "always true"),
        },
        {},
    ),
    "PractitionerRole": Kind(
        "PractitionerRole",
        (ProviderClinician.provider_id, ProviderClinician.clinician_id),
        Provider.updated_at,
        {
            "_id": ("token", _id_role, "the role's id"),
            "identifier": (
                "token",
                lambda p, s: ProviderClinician.clinician_id.in_(select(Clinician.id).where(_identifier(Clinician.npi)(p, s))),
                f"the practitioner's NPI ({resources.NPI_SYSTEM}|1234567893, or the bare number)",
            ),
            "practitioner": ("reference", _reference_uuid(ProviderClinician.clinician_id, "Practitioner"), "Practitioner/<id>"),
            "organization": ("reference", _reference_uuid(ProviderClinician.provider_id, "Organization"), "Organization/<id>"),
            "service": ("reference", _reference_uuid(ProviderClinician.provider_id, "HealthcareService"), "HealthcareService/<id>"),
            "location": (
                "reference",
                lambda p, s: ProviderClinician.provider_id.in_(select(Location.provider_id).where(params.in_or_nothing(Location.id, _location_ids(p)))),
                "Location/<id>",
            ),
            "specialty": (
                "token",
                lambda p, s: ProviderClinician.clinician_id.in_(select(Clinician.id).where(params.in_or_nothing(Clinician.specialty, _specialty_codes(p, s)))),
                "the clinician's specialty: a NUCC code or ours",
            ),
            "active": ("token", _active, "always true"),
        },
        {
            "PractitionerRole:practitioner": "Practitioner",
            "PractitionerRole:organization": "Organization",
            "PractitionerRole:location": "Location",
            "PractitionerRole:service": "HealthcareService",
        },
    ),
}


def _unreachable() -> ColumnElement[bool]:
    raise AssertionError("near is handled by the search engine")


def accepted_parameters(kind: str) -> set[str]:
    return {*KINDS[kind].criteria, "_lastUpdated"}
