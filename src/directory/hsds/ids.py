"""HSDS identifiers are UUIDs. Ours are UUIDs for listings and integers for locations, so each
HSDS id is derived from ours by a reversible rule (ids of child records, which are never looked up,
are name-based UUIDs):

- organization: the listing's id, as in /v1 and /fhir;
- service: the listing's id with a fixed mask XORed in (a listing is one organization and one service);
- location and service_at_location: the location's integer id in the low 64 bits under a fixed tag.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c1bde-4a53-4b6b-9d0e-2f7f1a2c9e40")
_SERVICE_MASK = 0x5E1C_E000_0000_0000_0000_0000_0000_5E1C
_LOCATION_TAG = 0x10CA_7100_0000_8000
_SERVICE_AT_LOCATION_TAG = 0x5A17_0C00_0000_8000


def service_id(provider_id: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=provider_id.int ^ _SERVICE_MASK)


def provider_of_service(service: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=service.int ^ _SERVICE_MASK)


def _tagged(tag: int, number: int) -> uuid.UUID:
    return uuid.UUID(int=(tag << 64) | number)


def _untagged(tag: int, value: uuid.UUID) -> int | None:
    return value.int & ((1 << 64) - 1) if value.int >> 64 == tag else None


def location_id(location: int) -> uuid.UUID:
    return _tagged(_LOCATION_TAG, location)


def service_at_location_id(location: int) -> uuid.UUID:
    return _tagged(_SERVICE_AT_LOCATION_TAG, location)


def location_of(value: uuid.UUID) -> int | None:
    return _untagged(_LOCATION_TAG, value)


def location_of_service_at_location(value: uuid.UUID) -> int | None:
    return _untagged(_SERVICE_AT_LOCATION_TAG, value)


def child(*parts: object) -> str:
    """A stable id for a record that only exists inside another (a phone, an address...)."""
    return str(uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts)))


def taxonomy_id(kind: str) -> str:
    return child("taxonomy", kind)


def term_id(kind: str, code: str) -> str:
    return child("term", kind, code)


def parse(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
