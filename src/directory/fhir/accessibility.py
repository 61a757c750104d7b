"""A location's accessibility terms as NDH's accessibility extension: each term in our own code
system and, where one fits, NDH's general category (mobility, handicap accessible, cognitive,
public transit options)."""

from __future__ import annotations

from typing import Any

from directory.listings.models import ACCESSIBILITY_LABELS

#: NDH's accessibility extension and its general categories; each of our terms is also given in our own system.
NDH_ACCESSIBILITY_URL = "http://hl7.org/fhir/us/ndh/StructureDefinition/base-ext-accessibility"
NDH_ACCESSIBILITY_SYSTEM = "http://hl7.org/fhir/us/ndh/CodeSystem/AccessibilityCS"
_NDH_ACCESSIBILITY = {
    "step_free_entrance": ("mobility", "mobility"),
    "accessible_restroom": ("mobility", "mobility"),
    "elevator": ("mobility", "mobility"),
    "accessible_parking": ("mobility", "mobility"),
    "sign_language_interpreter": ("handiaccess", "handicap accessible"),
    "service_animals_welcome": ("handiaccess", "handicap accessible"),
    "hearing_loop": ("handiaccess", "handicap accessible"),
    "large_print": ("handiaccess", "handicap accessible"),
    "quiet_room": ("cognitive", "cognitive"),
    "near_public_transit": ("pubtrans", "public transit options"),
}


def accessibility_extension(feature: str, systems: Any) -> dict[str, Any]:
    label = ACCESSIBILITY_LABELS.get(feature, feature)
    coding = [{"system": systems.accessibility, "code": feature, "display": label}]
    if feature in _NDH_ACCESSIBILITY:
        code, display = _NDH_ACCESSIBILITY[feature]
        coding.append({"system": NDH_ACCESSIBILITY_SYSTEM, "code": code, "display": display})
    return {"url": NDH_ACCESSIBILITY_URL, "valueCodeableConcept": {"coding": coding, "text": label}}
