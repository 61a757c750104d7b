"""Listings as FHIR R4 resources, shaped after the Plan-Net and National Directory (NDH) profiles.

A published listing is an Organization (the clinic), a HealthcareService (what it offers, with the
same id), one Location per place it sees patients, and a Practitioner with a PractitionerRole for
each clinician. Codes of our own taxonomies use code systems under ``<base>/CodeSystem/``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from directory.fhir.accessibility import accessibility_extension
from directory.listings.models import Clinician, Location, Provider, ProviderClinician
from directory.listings.presenters import cost_lines, is_stale

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
NDH = "http://hl7.org/fhir/us/ndh/StructureDefinition/"
#: The core extension for a string element's translation into another language.
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
NEW_PATIENTS_URL = NDH + "base-ext-newpatients"
DELIVERY_METHOD_URL = NDH + "base-ext-delivery-method"
VERIFICATION_URL = NDH + "base-ext-verification-status"
ACCEPTING_PATIENTS_SYSTEM = "http://terminology.hl7.org/CodeSystem/accepting-patients"
DELIVERY_METHOD_SYSTEM = "http://hl7.org/fhir/us/ndh/CodeSystem/DeliveryMethodCS"
TIMEZONE_URL = "http://hl7.org/fhir/StructureDefinition/timezone"
DISTANCE_URL = "http://hl7.org/fhir/StructureDefinition/location-distance"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"

# Our clinician specialties as NUCC Health Care Provider Taxonomy codes.
NUCC = {
    "anesthesiology": ("207L00000X", "Anesthesiology"),
    "psychiatry": ("2084P0800X", "Psychiatry & Neurology, Psychiatry"),
    "emergency_medicine": ("207P00000X", "Emergency Medicine"),
    "pain_medicine": ("208VP0000X", "Pain Medicine, Pain Medicine"),
    "family_medicine": ("207Q00000X", "Family Medicine"),
    "internal_medicine": ("207R00000X", "Internal Medicine"),
    "psychology": ("103T00000X", "Psychologist"),
    "nursing": ("163W00000X", "Registered Nurse"),
    "social_work": ("104100000X", "Social Worker"),
    "counseling": ("101Y00000X", "Counselor"),
}
NUCC_TO_SPECIALTY = {code: name for name, (code, _) in NUCC.items()}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Systems:
    """The code systems of our own taxonomies, under the server's FHIR base."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.condition = f"{self.base}/CodeSystem/condition"
        self.service = f"{self.base}/CodeSystem/service"
        self.specialty = f"{self.base}/CodeSystem/specialty"
        self.credential = f"{self.base}/CodeSystem/credential"
        self.verification = f"{self.base}/CodeSystem/verification-status"
        self.accessibility = f"{self.base}/CodeSystem/accessibility"
        self.slug = f"{self.base}/sid/listing-slug"
        self.stale_after = timedelta(days=365)
        """A verified listing not checked again within this is shown as ``stale`` (the deployment's setting)."""


def role_id(provider_id: uuid.UUID, clinician_id: uuid.UUID) -> str:
    """A PractitionerRole's id: both ids in hex, 64 characters (FHIR's longest id)."""
    return provider_id.hex + clinician_id.hex


def split_role_id(value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    if len(value) != 64:
        return None
    try:
        return uuid.UUID(hex=value[:32]), uuid.UUID(hex=value[32:])
    except ValueError:
        return None


def instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _meta(provider: Provider, updated: datetime | None = None) -> dict[str, Any]:
    return {"versionId": str(provider.version), "lastUpdated": instant(updated or provider.updated_at)}


def _telecom(phone: str | None, email: str | None = None, website: str | None = None) -> list[dict[str, Any]]:
    telecom = []
    if phone:
        telecom.append({"system": "phone", "value": phone, "use": "work"})
    if email:
        telecom.append({"system": "email", "value": email, "use": "work"})
    if website:
        telecom.append({"system": "url", "value": website, "use": "work"})
    return telecom


def _address(location: Location) -> dict[str, Any]:
    address: dict[str, Any] = {"use": "work", "type": "physical"}
    lines = [line for line in (location.address_line1, location.address_line2) if line]
    if lines:
        address["line"] = lines
    for key, value in (("city", location.city), ("state", location.state), ("postalCode", location.postal_code)):
        if value:
            address[key] = value
    address["country"] = location.country
    return address


def _verification(status: str, systems: Systems) -> dict[str, Any]:
    return {
        "url": VERIFICATION_URL,
        "valueCodeableConcept": {"coding": [{"system": systems.verification, "code": status}], "text": status},
    }


def _listing_verification(provider: Provider, systems: Systems) -> dict[str, Any]:
    """The listing's status; a verified listing not checked again within the window is ``stale``."""
    if is_stale(provider, systems.stale_after):
        days = systems.stale_after.days
        return {
            "url": VERIFICATION_URL,
            "valueCodeableConcept": {
                "coding": [{"system": systems.verification, "code": "stale", "display": f"Verified, but not checked again within {days} days"}],
                "text": "stale",
            },
        }
    return _verification(provider.verification_status, systems)


def _new_patients(accepting: bool | None) -> list[dict[str, Any]]:
    if accepting is None:
        return []
    code, display = ("newpt", "Accepting new patients") if accepting else ("nopt", "Not accepting patients")
    return [
        {
            "url": NEW_PATIENTS_URL,
            "extension": [
                {
                    "url": "acceptingPatients",
                    "valueCodeableConcept": {"coding": [{"system": ACCEPTING_PATIENTS_SYSTEM, "code": code, "display": display}]},
                }
            ],
        }
    ]


def _delivery_methods(provider: Provider) -> list[dict[str, Any]]:
    methods = []
    if provider.locations:
        methods.append(("physical", "Physical"))
    if provider.telehealth:
        methods.append(("virtual", "Virtual"))
    return [
        {
            "url": DELIVERY_METHOD_URL,
            "extension": [
                {
                    "url": "deliveryMethodtype",
                    "valueCodeableConcept": {"coding": [{"system": DELIVERY_METHOD_SYSTEM, "code": code, "display": display}]},
                }
            ],
        }
        for code, display in methods
    ]


def specialty_concept(specialty: str, systems: Systems) -> dict[str, Any]:
    coding = []
    if specialty in NUCC:
        code, display = NUCC[specialty]
        coding.append({"system": NUCC_SYSTEM, "code": code, "display": display})
    coding.append({"system": systems.specialty, "code": specialty})
    return {"coding": coding, "text": specialty.replace("_", " ")}


def _reference(kind: str, id_: Any, display: str | None = None) -> dict[str, Any]:
    reference = {"reference": f"{kind}/{id_}"}
    if display:
        reference["display"] = display
    return reference


def organization(provider: Provider, systems: Systems) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(provider.id),
        "meta": _meta(provider),
        "extension": [_listing_verification(provider, systems)],
        "identifier": [{"system": systems.slug, "value": provider.slug}],
        "active": True,
        "type": [{"coding": [{"system": ORGANIZATION_TYPE_SYSTEM, "code": "prov", "display": "Healthcare Provider"}]}],
        "name": provider.name,
    }
    if provider.npi:
        resource["identifier"].insert(0, {"use": "official", "system": NPI_SYSTEM, "value": provider.npi})
    telecom = _telecom(provider.phone, provider.email, provider.website)
    if telecom:
        resource["telecom"] = telecom
    if provider.locations:
        resource["address"] = [_address(location) for location in provider.locations]
    return resource


def _hours(location: Location) -> list[dict[str, Any]]:
    """Opening hours grouped by identical times; "24:00" closes at the last second of the day."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for interval in location.hours:
        grouped.setdefault((interval["opens"], interval["closes"]), []).append(interval["day"])
    hours = []
    for (opens, closes), days in grouped.items():
        entry: dict[str, Any] = {"daysOfWeek": sorted(set(days), key=WEEKDAYS.index)}
        if opens == "00:00" and closes == "24:00":
            entry["allDay"] = True
        else:
            entry["openingTime"] = f"{opens}:00"
            entry["closingTime"] = "23:59:59" if closes == "24:00" else f"{closes}:00"
        hours.append(entry)
    return hours


def location(row: Location, provider: Provider, systems: Systems) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(row.id),
        "meta": _meta(provider),
        "extension": _new_patients(provider.accepting_new_patients),
        "status": "active",
        "name": row.name or provider.name,
        "mode": "instance",
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "PROFF", "display": "Provider's Office"}]}],
        "address": _address(row),
        "position": {"latitude": row.latitude, "longitude": row.longitude},
        "managingOrganization": _reference("Organization", provider.id, provider.name),
    }
    if row.timezone:
        resource["extension"].append({"url": TIMEZONE_URL, "valueCode": row.timezone})
    resource["extension"] += [accessibility_extension(feature, systems) for feature in row.accessibility_features or []]
    if not resource["extension"]:
        del resource["extension"]
    telecom = _telecom(row.phone or provider.phone)
    if telecom:
        resource["telecom"] = telecom
    notes = [f"Accessibility: {row.accessibility}"] if row.accessibility else []
    if row.rems_certified:
        since = f" since {row.rems_certified_on.isoformat()}" if row.rems_certified_on else ""
        notes.append(f"Certified under the Spravato (esketamine) REMS program{since}.")
    if notes:
        resource["description"] = " ".join(notes)
    hours = _hours(row)
    if hours:
        resource["hoursOfOperation"] = hours
    return resource


def healthcare_service(provider: Provider, systems: Systems) -> dict[str, Any]:
    extensions = [
        *_new_patients(provider.accepting_new_patients),
        *_delivery_methods(provider),
        _listing_verification(provider, systems),
    ]
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(provider.id),
        "meta": _meta(provider),
        "extension": extensions,
        "active": True,
        "providedBy": _reference("Organization", provider.id, provider.name),
        "category": [{"coding": [{"system": systems.service, "code": "infusion-therapy"}], "text": "Infusion therapy"}],
        "name": provider.name,
    }
    services = sorted(provider.services, key=lambda offer: offer.service_code)
    if services:
        resource["type"] = [
            {"coding": [{"system": systems.service, "code": o.service_code, "display": o.service.name}], "text": o.service.name} for o in services
        ]
    specialties = sorted({role.clinician.specialty for role in provider.clinician_roles if role.clinician.specialty})
    if specialties:
        resource["specialty"] = [specialty_concept(s, systems) for s in specialties]
    if provider.locations:
        resource["location"] = [_reference("Location", loc.id, loc.name) for loc in provider.locations]
    if provider.description:
        resource["comment"] = provider.description
        # The clinic's own words in other languages, as FHIR carries translations of a string.
        translated = [
            {"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": language}, {"url": "content", "valueString": words["description"]}]}
            for language, words in sorted((provider.translations or {}).items())
            if words.get("description")
        ]
        if translated:
            resource["_comment"] = {"extension": translated}
    details = _extra_details(provider)
    if details:
        resource["extraDetails"] = details
    telecom = _telecom(provider.phone, provider.email, provider.website)
    if telecom:
        resource["telecom"] = telecom
    conditions = sorted(provider.conditions, key=lambda link: link.condition_code)
    if conditions:
        resource["characteristic"] = [
            {
                # Our code first, then the same concept in ICD-10-CM and SNOMED CT where it has one.
                "coding": [{"system": systems.condition, "code": c.condition_code, "display": c.condition.name}, *(c.condition.codings or [])],
                "text": c.condition.name,
            }
            for c in conditions
        ]
    if provider.languages:
        resource["communication"] = [{"coding": [{"system": LANGUAGE_SYSTEM, "code": code}]} for code in provider.languages]
    if provider.telehealth and provider.telehealth_states:
        resource["coverageArea"] = [{"display": f"Telehealth in {state.upper()}"} for state in provider.telehealth_states]
    return resource


def _extra_details(provider: Provider) -> str | None:
    lines = cost_lines(provider)
    if provider.routes:
        lines.append("Routes: " + ", ".join(provider.routes))
    if provider.rems_certified:
        lines.append("Certified under the Spravato REMS")
    return "\n\n".join(lines) or None


def practitioner(person: Clinician, systems: Systems) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(person.id),
        "meta": {"lastUpdated": instant(person.updated_at)},
        "extension": [_verification(person.verification_status, systems)],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": f"{person.first_name} {person.last_name}, {person.credential}",
                "family": person.last_name,
                "given": [person.first_name],
                "suffix": [person.credential],
            }
        ],
    }
    if person.npi:
        resource["identifier"] = [{"use": "official", "system": NPI_SYSTEM, "value": person.npi}]
    qualifications: list[dict[str, Any]] = [{"code": {"coding": [{"system": systems.credential, "code": person.credential}], "text": person.credential}}]
    for license_ in person.licenses:
        entry: dict[str, Any] = {
            "identifier": [{"value": license_["number"]}],
            "code": {"text": f"{person.credential} license, {license_['state']}"},
            "issuer": {"display": f"State of {license_['state']}"},
        }
        if license_.get("expires_on"):
            entry["period"] = {"end": license_["expires_on"]}
        qualifications.append(entry)
    for certification in person.board_certifications:
        qualifications.append({"code": {"text": f"Board certification: {certification}"}})
    resource["qualification"] = qualifications
    return resource


def practitioner_role(role: ProviderClinician, provider: Provider, systems: Systems) -> dict[str, Any]:
    person = role.clinician
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": role_id(provider.id, person.id),
        "meta": _meta(provider),
        "active": True,
        "practitioner": _reference("Practitioner", person.id, f"{person.first_name} {person.last_name}, {person.credential}"),
        "organization": _reference("Organization", provider.id, provider.name),
        "healthcareService": [_reference("HealthcareService", provider.id, provider.name)],
    }
    if person.npi:
        resource["identifier"] = [{"use": "secondary", "system": NPI_SYSTEM, "value": person.npi}]
    extensions = _new_patients(provider.accepting_new_patients)
    if extensions:
        resource["extension"] = extensions
    if role.role:
        resource["code"] = [{"text": role.role}]
    if person.specialty:
        resource["specialty"] = [specialty_concept(person.specialty, systems)]
    if provider.locations:
        resource["location"] = [_reference("Location", loc.id, loc.name) for loc in provider.locations]
    telecom = _telecom(provider.phone, provider.email)
    if telecom:
        resource["telecom"] = telecom
    return resource
