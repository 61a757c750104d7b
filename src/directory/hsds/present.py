"""Listings as Open Referral HSDS 3.0 objects: organization, service, location, service_at_location."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from directory.hsds import ids
from directory.i18n import N_
from directory.listings.models import ACCESSIBILITY_LABELS, Location, Provider
from directory.listings.presenters import cost_lines, is_stale

_BYDAY = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "zh": "Chinese",
    "vi": "Vietnamese",
    "ko": "Korean",
    "ru": "Russian",
    "fr": "French",
    "ar": "Arabic",
    "pt": "Portuguese",
    "ht": "Haitian Creole",
    "tl": "Tagalog",
    "de": "German",
    "it": "Italian",
    "pl": "Polish",
    "hi": "Hindi",
}


def _date(moment: Any) -> str:
    return moment.date().isoformat()


def _metadata(resource_id: str, resource_type: str, provider: Provider) -> list[dict[str, Any]]:
    """One record of the latest change (HSDS keeps a change log per record; ours is GET /v1/providers/{id}/history)."""
    created = provider.version == 1
    return [
        {
            "id": ids.child("metadata", resource_type, resource_id, provider.version),
            "resource_id": resource_id,
            "resource_type": resource_type,
            "last_action_date": _date(provider.updated_at),
            "last_action_type": "create" if created else "update",
            "field_name": "",
            "previous_value": "",
            "replacement_value": "",
            "updated_by": "directory",
        }
    ]


def _phones(owner: str, owner_id: str, number: str | None) -> list[dict[str, Any]]:
    if not number:
        return []
    return [{"id": ids.child("phone", owner, owner_id), f"{owner}_id": owner_id, "number": number, "type": "voice", "languages": []}]


def taxonomy_term(kind: str, code: str, name: str, description: str | None = None, parent: str | None = None, language: str = "en") -> dict[str, Any]:
    """A term; ``parent``: the code of the broader term of the same taxonomy, whose id becomes ``parent_id``;
    ``language``: the language its name and description are in."""
    return {
        "id": ids.term_id(kind, code),
        "code": code,
        "name": name,
        "description": description or name,
        "parent_id": ids.term_id(kind, parent) if parent else None,
        "taxonomy": kind,
        "language": language,
        "taxonomy_id": ids.taxonomy_id(kind),
    }


def organization(provider: Provider, *, full: bool = False) -> dict[str, Any]:
    org_id = str(provider.id)
    body: dict[str, Any] = {
        "id": org_id,
        "name": provider.name,
        "description": provider.description or provider.name,
        "email": provider.email,
        "website": provider.website,
        "phones": _phones("organization", org_id, provider.phone),
        "organization_identifiers": [],
        "metadata": _metadata(org_id, "organization", provider),
    }
    if provider.npi:
        body["organization_identifiers"].append(
            {
                "id": ids.child("identifier", org_id, "npi"),
                "organization_id": org_id,
                "identifier_scheme": "US-NPI",
                "identifier_type": "National Provider Identifier",
                "identifier": provider.npi,
            }
        )
    if full:
        body["locations"] = [location(provider, place) for place in provider.locations]
        body["services"] = [service(provider)]
    return body


def location(provider: Provider, place: Location) -> dict[str, Any]:
    location_id = str(ids.location_id(place.id))  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": str(provider.id),
        "name": place.name or provider.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "addresses": [
            {
                "id": ids.child("address", location_id),
                "location_id": location_id,
                "address_1": place.address_line1 or "",
                "address_2": place.address_line2,
                "city": place.city or "",
                "state_province": place.state or "",
                "postal_code": place.postal_code or "",
                "country": place.country,
                "address_type": "physical",
            }
        ],
        "phones": _phones("location", location_id, place.phone or provider.phone),
        "schedules": [
            {
                "id": ids.child("schedule", location_id, index),
                "location_id": location_id,
                "freq": "WEEKLY",
                "byday": _BYDAY[interval["day"]],
                "opens_at": interval["opens"],
                "closes_at": "23:59" if interval["closes"] == "24:00" else interval["closes"],
                "description": f"{interval['day'].title()} {interval['opens']}-{interval['closes']}" + (f" ({place.timezone})" if place.timezone else ""),
            }
            for index, interval in enumerate(place.hours)
        ],
        # Each term of the vocabulary, then the clinic's own note.
        "accessibility": [
            {"id": ids.child("accessibility", location_id, feature), "location_id": location_id, "description": ACCESSIBILITY_LABELS.get(feature, feature)}
            for feature in place.accessibility_features or []
        ]
        + ([{"id": ids.child("accessibility", location_id), "location_id": location_id, "description": place.accessibility}] if place.accessibility else []),
        "external_identifier": str(place.id),
        "external_identifier_type": "directory location id",
    }
    if place.rems_certified:
        since = f" since {place.rems_certified_on.isoformat()}" if place.rems_certified_on else ""
        body["description"] = f"Certified under the Spravato (esketamine) REMS program{since}."
    return body


#: The verification taxonomy's terms: the listing's registry check as HSDS attributes.
VERIFICATION_TERMS = {
    "verified": N_("Verified against the NPPES registry"),
    "stale": N_("Verified, but not checked again within the window"),
    "pending": N_("Registry check pending"),
    "failed": N_("Registry check failed"),
    "unverified": N_("Not verified"),
}


def verification_code(provider: Provider, stale_after: timedelta) -> str:
    """The listing's verification status; a verified one not checked again within ``stale_after`` is ``stale``."""
    if is_stale(provider, stale_after):
        return "stale"
    return str(provider.verification_status)


def service(provider: Provider, *, full: bool = False, stale_after: timedelta = timedelta(days=365)) -> dict[str, Any]:
    service_id = str(ids.service_id(provider.id))
    attributes = [
        _attribute(service_id, taxonomy_term("service", offer.service_code, offer.service.name, parent=offer.service.parent), "offered")
        for offer in sorted(provider.services, key=lambda o: o.service_code)
    ] + [
        _attribute(service_id, taxonomy_term("condition", link.condition_code, link.condition.name, parent=link.condition.parent), "treated")
        for link in sorted(provider.conditions, key=lambda link: link.condition_code)
    ]
    status = verification_code(provider, stale_after)
    attributes.append(_attribute(service_id, taxonomy_term("verification", status, VERIFICATION_TERMS[status]), status))
    fees = cost_lines(provider)
    body: dict[str, Any] = {
        "id": service_id,
        "organization_id": str(provider.id),
        "name": provider.name,
        "description": provider.description or provider.name,
        "url": provider.website,
        "email": provider.email,
        "status": "active",
        "fees_description": "; ".join(fees) or None,
        "eligibility_description": None if provider.accepting_new_patients is not False else "Not accepting new patients",
        "assured_date": _date(provider.last_verified_at) if provider.last_verified_at else None,
        "phones": _phones("service", service_id, provider.phone),
        "languages": [
            {"id": ids.child("language", service_id, code), "service_id": service_id, "name": _LANGUAGE_NAMES.get(code, code), "code": code}
            for code in provider.languages
        ],
        "cost_options": [
            {
                "id": ids.child("cost", service_id, offer.service_code),
                "service_id": service_id,
                "option": offer.service.name,
                "currency": provider.price_currency,
                "amount": offer.price_min,
                "amount_description": f"{offer.price_min}-{offer.price_max} {provider.price_currency}"
                + (f", {offer.session_minutes} minutes" if offer.session_minutes else ""),
            }
            for offer in sorted(provider.services, key=lambda o: o.service_code)
            if offer.price_min is not None and offer.price_max is not None
        ],
        # Telehealth reaches patients by the state they are in: each licensed state is a service area.
        "service_areas": [
            {
                "id": ids.child("service_area", service_id, state),
                "service_id": service_id,
                "name": f"{state} (telehealth)",
                "description": f"Telehealth to patients in {state}",
            }
            for state in (provider.telehealth_states if provider.telehealth else [])
        ],
        "attributes": attributes,
        "metadata": _metadata(service_id, "service", provider),
    }
    if full:
        body["organization"] = organization(provider)
        body["service_at_locations"] = [service_at_location(provider, place, nested=True, stale_after=stale_after) for place in provider.locations]
    return body


def _attribute(link_id: str, term: dict[str, Any], value: str) -> dict[str, Any]:
    return {
        "id": ids.child("attribute", link_id, term["id"]),
        "link_id": link_id,
        "link_type": "service",
        "link_entity": "service",
        "taxonomy_term_id": term["id"],
        "value": value,
        "taxonomy_term": term,
    }


def service_at_location(
    provider: Provider, place: Location, *, nested: bool = False, distance_m: float | None = None, stale_after: timedelta = timedelta(days=365)
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(ids.service_at_location_id(place.id)),  # type: ignore[arg-type]
        "service_id": str(ids.service_id(provider.id)),
        "location_id": str(ids.location_id(place.id)),  # type: ignore[arg-type]
        "location": location(provider, place),
    }
    if not nested:
        body["service"] = service(provider, stale_after=stale_after)
    if distance_m is not None:
        body["distance"] = round(distance_m, 1)
    return body


def compact(value: Any) -> Any:
    """The value with every null member of every object left out (lists keep their items)."""
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value
