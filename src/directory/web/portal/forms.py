"""The listing forms and the API's schemas, both ways: a listing as the form's values, and posted
values as the ``ProviderUpdate``, ``LocationCreate`` and ``ClinicianCreate`` the API takes, with
each schema error named after the form field it belongs to.

Weekly hours are edited a row per weekday with up to two intervals; an interval that closes at or
before it opens runs past midnight and is stored as one overnight interval (as the API takes it),
and such a pair is shown again as the one interval it was typed as.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from directory import i18n
from directory.errors import invalid_input
from directory.listings.models import ACCESSIBILITY_LABELS, AccessibilityFeature, Credential, PaymentOption, Route, Specialty
from directory.listings.schemas import ClinicianCreate, LocationCreate, ProviderUpdate
from directory.web.portal.visits import N_

# The words of the choices are marked for the catalog (N_) and said in the page's language there (|t).
DAYS = [("mon", N_("Monday")), ("tue", N_("Tuesday")), ("wed", N_("Wednesday")), ("thu", N_("Thursday")), ("fri", N_("Friday")), ("sat", N_("Saturday")), ("sun", N_("Sunday"))]
INTERVALS = (1, 2)
PAYMENT_WORDS = {"self_pay": N_("Self-pay"), "insurance": N_("Insurance"), "financing": N_("Financing"), "sliding_scale": N_("Sliding scale"), "hsa_fsa": N_("HSA or FSA")}
ROUTE_WORDS = {"iv": N_("IV infusion"), "im": N_("IM injection"), "intranasal": N_("Intranasal (esketamine)"), "oral": N_("Oral or sublingual")}
SPECIALTY_WORDS = {
    "psychiatry": N_("Psychiatry"), "anesthesiology": N_("Anesthesiology"), "emergency_medicine": N_("Emergency medicine"),
    "pain_medicine": N_("Pain medicine"), "family_medicine": N_("Family medicine"), "internal_medicine": N_("Internal medicine"),
    "nursing": N_("Nursing"), "psychology": N_("Psychology"), "social_work": N_("Social work"), "counseling": N_("Counseling"),
}  # fmt: skip
PAYMENTS = [(option.value, PAYMENT_WORDS.get(option.value, option.value)) for option in PaymentOption]
ROUTES = [(route.value, ROUTE_WORDS.get(route.value, route.value)) for route in Route]
CREDENTIALS = [(c.value, c.value) for c in Credential]
ACCESSIBILITY = [(feature.value, ACCESSIBILITY_LABELS[feature.value]) for feature in AccessibilityFeature]
SPECIALTIES = [("", N_("Not given"))] + [(s.value, SPECIALTY_WORDS.get(s.value, s.value.replace("_", " ").capitalize())) for s in Specialty]
TIMEZONES = [
    ("", N_("Not given")), ("America/New_York", N_("Eastern")), ("America/Chicago", N_("Central")), ("America/Denver", N_("Mountain")),
    ("America/Phoenix", N_("Arizona")), ("America/Los_Angeles", N_("Pacific")), ("America/Anchorage", N_("Alaska")), ("Pacific/Honolulu", N_("Hawaii")),
]  # fmt: skip
ACCEPTING = [("", N_("Not said")), ("yes", N_("Yes")), ("no", N_("No"))]
_SCALARS = ("name", "description", "phone", "website", "email", "npi")


def _words(text: Any) -> list[str]:
    """A comma- or space-separated list typed into one box."""
    return [word for word in str(text or "").replace(",", " ").split() if word]


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _many(values: dict[str, Any], name: str) -> list[str]:
    found = values.get(name, [])
    return [found] if isinstance(found, str) else list(found)


def _number(text: Any) -> Any:
    """A whole number as typed ("1,200" too); what is not one is passed on for the schema to name."""
    text = str(text or "").strip().replace(",", "").removeprefix("$")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _decimal(text: Any) -> Any:
    text = str(text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


class FormInvalid(Exception):
    """What is wrong with a posted form, by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors


def _errors(error: ValidationError, name_of: Any) -> FormInvalid:
    found: dict[str, str] = {}
    for item in invalid_input(error).errors:
        found.setdefault(name_of(item.field), item.reason)
    return FormInvalid(found)


# --- the listing's details ---------------------------------------------------------------------


def details_values(listing: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(listing, name) or "" for name in _SCALARS}
    values.update(
        accepting_new_patients={True: "yes", False: "no"}.get(listing.accepting_new_patients, ""),
        telehealth=listing.telehealth, rems_certified=listing.rems_certified,
        telehealth_states=", ".join(listing.telehealth_states), languages=", ".join(listing.languages),
        insurance_carriers="\n".join(listing.insurance_carriers), payment_options=list(listing.payment_options),
        routes=list(listing.routes), conditions=[c.code for c in listing.conditions],
        price_min=listing.price.min if listing.price else "", price_max=listing.price.max if listing.price else "",
    )  # fmt: skip
    for code in i18n.OTHERS:  # the clinic's own words in each other language: description_es, ...
        words = listing.translations.get(code)
        values[f"description_{code}"] = (words.description if words else None) or ""
    for offer in listing.services:
        values[f"service-{offer.code}"] = True
        for part in ("price_min", "price_max", "session_minutes"):
            values[f"service-{offer.code}-{part}"] = getattr(offer, part) if getattr(offer, part) is not None else ""
    return values


def details_update(form: dict[str, Any], service_codes: list[str]) -> ProviderUpdate:
    offered = [code for code in service_codes if form.get(f"service-{code}")]
    price_min, price_max = _number(form.get("price_min")), _number(form.get("price_max"))
    data: dict[str, Any] = {name: (str(form.get(name, "")).strip() or None) for name in _SCALARS}
    data.update(
        accepting_new_patients={"yes": True, "no": False}.get(str(form.get("accepting_new_patients", ""))),
        telehealth=bool(form.get("telehealth")), rems_certified=bool(form.get("rems_certified")),
        telehealth_states=_words(form.get("telehealth_states")), languages=_words(form.get("languages")),
        insurance_carriers=_lines(form.get("insurance_carriers")), payment_options=_many(form, "payment_options"),
        routes=_many(form, "routes"), conditions=_many(form, "conditions"),
        price={"min": price_min, "max": price_max} if price_min is not None or price_max is not None else None,
        translations={code: {"description": str(form.get(f"description_{code}", "")).strip() or None} for code in i18n.OTHERS},
        services=[
            {"code": code, **{part: _number(form.get(f"service-{code}-{part}")) for part in ("price_min", "price_max", "session_minutes")}}
            for code in offered
        ],
    )  # fmt: skip
    if data["name"] is None:
        raise FormInvalid({"name": N_("give the clinic's name")})
    if data["price"] is not None and (price_min is None or price_max is None):
        raise FormInvalid({"price_min": N_("give both the lowest and the highest price, or neither")})

    def name_of(field: str) -> str:
        parts = field.split(".")
        if parts[0] == "services" and len(parts) > 1 and parts[1].isdigit():
            code = offered[int(parts[1])]
            return f"service-{code}-{parts[2]}" if len(parts) > 2 else f"service-{code}"
        if parts[0] == "price":
            return "price_max" if parts[-1] == "max" else "price_min"
        if parts[0] == "translations" and len(parts) > 2:
            return f"{parts[2]}_{parts[1]}"  # translations.es.description is the field description_es
        return parts[0]

    try:
        return ProviderUpdate.model_validate(data)
    except ValidationError as error:
        raise _errors(error, name_of) from None


# --- a location ---------------------------------------------------------------------------------

_LOCATION_TEXT = ("name", "address_line1", "address_line2", "city", "state", "postal_code", "phone", "timezone", "accessibility")


def hours_values(hours: list[dict[str, str]]) -> dict[str, str]:
    """Stored intervals as the editor's rows: an interval until 24:00 followed by one from 00:00
    the next day is shown as one overnight interval."""
    by_day: dict[str, list[list[str]]] = {day: [] for day, _ in DAYS}
    for slot in sorted(hours, key=lambda s: ([d for d, _ in DAYS].index(s["day"]), s["opens"])):
        by_day[slot["day"]].append([slot["opens"], slot["closes"]])
    order = [day for day, _ in DAYS]
    for index, day in enumerate(order):
        following = by_day[order[(index + 1) % 7]]
        for slot in by_day[day]:
            carry = next((other for other in following if other[0] == "00:00"), None)
            if slot[1] == "24:00" and carry is not None and carry is not slot:
                slot[1] = carry[1]
                following.remove(carry)
    values: dict[str, str] = {}
    for day in order:
        for number, (opens, closes) in enumerate(by_day[day][: len(INTERVALS)], start=1):
            values[f"hours-{day}-opens-{number}"], values[f"hours-{day}-closes-{number}"] = opens, closes
    return values


def _hours(form: dict[str, Any]) -> list[dict[str, str]]:
    order = [day for day, _ in DAYS]
    hours: list[dict[str, str]] = []
    problems: dict[str, str] = {}
    for day in order:
        for number in INTERVALS:
            opens, closes = (str(form.get(f"hours-{day}-{end}-{number}", "")).strip()[:5] for end in ("opens", "closes"))
            if not opens and not closes:
                continue
            if not opens or not closes:
                problems[f"hours-{day}-opens-{number}"] = f"give both times of {dict(DAYS)[day]}'s hours, or neither"
                continue
            # One interval, overnight when it closes before it opens (the API's own rule).
            hours.append({"day": day, "opens": opens, "closes": "24:00" if closes == "00:00" else closes})
    if problems:
        raise FormInvalid(problems)
    return hours


def location_values(location: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(location, name) or "" for name in _LOCATION_TEXT}
    values.update(latitude=location.latitude, longitude=location.longitude, **hours_values(location.hours))
    values.update(
        accessibility_features=list(location.accessibility_features or []),
        rems_certified=bool(location.rems_certified),
        rems_certified_on=location.rems_certified_on.isoformat() if location.rems_certified_on else "",
    )
    return values


def location_input(form: dict[str, Any], moved: bool) -> LocationCreate:
    """The location as posted; its coordinates only when the pin was moved by hand (else the
    address is placed by the geocoder)."""
    data: dict[str, Any] = {name: (str(form.get(name, "")).strip() or None) for name in _LOCATION_TEXT}
    data["hours"] = _hours(form)
    data["accessibility_features"] = _many(form, "accessibility_features")
    data["rems_certified_on"] = str(form.get("rems_certified_on", "")).strip() or None
    data["rems_certified"] = bool(form.get("rems_certified")) or data["rems_certified_on"] is not None
    if moved:
        data["latitude"], data["longitude"] = _decimal(form.get("latitude")), _decimal(form.get("longitude"))

    def name_of(field: str) -> str:
        parts = field.split(".")
        if parts[0] == "hours" and len(parts) > 1 and parts[1].isdigit():
            slot = data["hours"][int(parts[1])]
            return f"hours-{slot['day']}-opens-1"
        return "postal_code" if parts[0] in ("body", "") else parts[0]

    try:
        return LocationCreate.model_validate(data)
    except ValidationError as error:
        raise _errors(error, name_of) from None


# --- a clinician --------------------------------------------------------------------------------


def clinician_values(clinician: Any) -> dict[str, Any]:
    return {
        "first_name": clinician.first_name, "last_name": clinician.last_name, "credential": clinician.credential,
        "specialty": clinician.specialty or "", "npi": clinician.npi or "", "role": clinician.role or "",
        "licenses": "\n".join(" ".join(str(v) for v in (l["state"], l["number"], l.get("expires_on") or "") if v) for l in clinician.licenses),
        "board_certifications": "\n".join(clinician.board_certifications),
    }  # fmt: skip


def clinician_input(form: dict[str, Any]) -> ClinicianCreate:
    licenses = []
    for number, line in enumerate(_lines(form.get("licenses"))):
        parts = line.split()
        if len(parts) < 2:
            raise FormInvalid({"licenses": f"line {number + 1}: write the state, the number and, if you like, the expiry date (NY 123456 2027-06-30)"})
        licenses.append({"state": parts[0], "number": parts[1], **({"expires_on": parts[2]} if len(parts) > 2 else {})})
    data = {
        **{name: (str(form.get(name, "")).strip() or None) for name in ("first_name", "last_name", "credential", "specialty", "npi", "role")},
        "licenses": licenses, "board_certifications": _lines(form.get("board_certifications")),
    }  # fmt: skip
    try:
        return ClinicianCreate.model_validate(data)
    except ValidationError as error:
        raise _errors(error, lambda field: field.split(".")[0]) from None
