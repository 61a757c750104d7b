"""Table rows to public schemas: the only way listing data leaves the service layer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from directory.listings.models import Location, Provider, ProviderClinician
from directory.listings.schemas import ClinicianPublic, Confirmation, LocationPublic, PriceRange, ProviderPublic, ServicePublic, TaxonomyRef, Verification

_LOCATION_INPUT = (
    "name address_line1 address_line2 city state postal_code country latitude longitude phone timezone hours "
    "accessibility accessibility_features rems_certified rems_certified_on"
).split()


def price(row: Provider) -> PriceRange | None:
    """The indicative price range, when both ends are known."""
    if row.price_min is None or row.price_max is None:
        return None
    return PriceRange(min=row.price_min, max=row.price_max, currency=row.price_currency)


def cost_lines(row: Provider) -> list[str]:
    """Price, payment options and insurance in words, for formats without fields for them."""
    lines = []
    if row.price_min is not None and row.price_max is not None:
        lines.append(f"Price per infusion: {row.price_min}-{row.price_max} {row.price_currency}")
    if row.payment_options:
        lines.append("Payment: " + ", ".join(option.replace("_", " ") for option in row.payment_options))
    if row.insurance_carriers:
        lines.append("Insurance: " + ", ".join(row.insurance_carriers))
    return lines


def is_stale(row: Provider, stale_after: timedelta) -> bool:
    """Verified, but not checked again within ``stale_after`` (or never given a date)."""
    checked = row.last_verified_at
    return row.verification_status == "verified" and (checked is None or checked < datetime.now(timezone.utc) - stale_after)


def verification(row: Provider, stale_after: timedelta | None) -> Verification:
    """The listing's verification; ``stale_after`` None leaves ``stale`` false (the read model decides it when read)."""
    stale = stale_after is not None and is_stale(row, stale_after)
    return Verification(
        verified=row.verification_status == "verified",
        status=row.verification_status,
        last_verified_at=row.last_verified_at,
        stale=stale,
    )


def confirmation(row: Provider, unconfirmed_after: timedelta | None) -> Confirmation:
    """When the clinic last confirmed the listing; ``unconfirmed_after`` None leaves ``unconfirmed`` false (decided when read)."""
    unconfirmed = unconfirmed_after is not None and (
        row.confirmed_at is None or row.confirmed_at < datetime.now(timezone.utc) - unconfirmed_after
    )
    return Confirmation(confirmed_at=row.confirmed_at, unconfirmed=unconfirmed)


#: The listing's own fields, shown as stored.
_PROVIDER_FIELDS = (
    "id slug name description translations website phone email npi status accepting_new_patients telehealth telehealth_states "
    "payment_options insurance_carriers languages routes rems_certified created_at updated_at published_at version merged_into"
).split()


def provider(
    row: Provider, stale_after: timedelta | None = timedelta(days=365), unconfirmed_after: timedelta | None = timedelta(days=180)
) -> ProviderPublic:
    return ProviderPublic(
        **{name: getattr(row, name) for name in _PROVIDER_FIELDS},
        price=price(row),
        verification=verification(row, stale_after),
        confirmation=confirmation(row, unconfirmed_after),
        accepts_consultation_requests=bool(row.consultations_accepted and row.consultation_email),
        locations=[location(loc) for loc in row.locations],
        services=sorted(
            (
                ServicePublic(
                    code=offer.service_code,
                    name=offer.service.name,
                    price_min=offer.price_min,
                    price_max=offer.price_max,
                    session_minutes=offer.session_minutes,
                )
                for offer in row.services
            ),
            key=lambda s: s.code,
        ),
        conditions=sorted(
            (TaxonomyRef(code=link.condition_code, name=link.condition.name) for link in row.conditions),
            key=lambda c: c.code,
        ),
        clinicians=sorted(
            (clinician(role) for role in row.clinician_roles), key=lambda c: (c.last_name, c.first_name, str(c.id))
        ),
    )


def location(row: Location) -> LocationPublic:
    return LocationPublic.model_validate(row, from_attributes=True)


def location_input(row: Location) -> dict[str, Any]:
    """The stored location as the fields a client would send (JSON values), to merge a partial update into."""
    values = {name: getattr(row, name) for name in _LOCATION_INPUT if getattr(row, name) is not None}
    if "rems_certified_on" in values:
        values["rems_certified_on"] = values["rems_certified_on"].isoformat()
    return values


def clinician(role: ProviderClinician) -> ClinicianPublic:
    """The clinician as shown at this listing: their own fields and the role they hold here."""
    person = role.clinician
    return ClinicianPublic(**{name: getattr(person, name) for name in _CLINICIAN_FIELDS}, role=role.role)


_CLINICIAN_FIELDS = [name for name in ClinicianPublic.model_fields if name != "role"]
