"""Request bodies for tests: a complete, valid listing that each test adjusts."""

from __future__ import annotations

import copy
from typing import Any

from conftest import ADMIN

_LISTING: dict[str, Any] = {
    "name": "Harbor Ketamine Clinic",
    "description": "Test listing.",
    "website": "https://harbor.example",
    "phone": "(212) 555-0100",
    "email": "Intake@Harbor.example",
    "npi": "1234567893",
    "status": "published",
    "accepting_new_patients": True,
    "telehealth": True,
    "telehealth_states": ["NY", "NJ"],
    "payment_options": ["self_pay", "insurance"],
    "insurance_carriers": ["Aetna"],
    "price": {"min": 400, "max": 550},
    "languages": ["en", "es"],
    "routes": ["iv"],
    "locations": [
        {
            "address_line1": "350 Fifth Avenue",
            "city": "New York",
            "state": "NY",
            "postal_code": "10118",
            "hours": [{"day": "mon", "opens": "09:00", "closes": "17:00"}],
        }
    ],
    "services": [{"code": "ketamine-iv", "price_min": 400, "price_max": 550, "session_minutes": 50}],
    "conditions": ["ptsd", "treatment-resistant-depression"],
    "clinicians": [
        {
            "first_name": "Maya",
            "last_name": "Chen",
            "credential": "MD",
            "specialty": "anesthesiology",
            "npi": "1234567893",
            "licenses": [{"state": "NY", "number": "123456", "expires_on": "2027-06-30"}],
            "role": "Medical director",
        }
    ],
}


def listing(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(_LISTING)
    body.update(overrides)
    return body


def location(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(_LISTING["locations"][0])
    body.update(overrides)
    return body


async def create(client: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/providers", json=listing(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status, naming ``field`` if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert field in fields, f"{field!r} not named in {fields}"
    return body


_accounts = 0


async def account(client: Any, role: str = "provider") -> dict[str, str]:
    """Sign up a fresh account (made moderator or admin by the admin if asked); its bearer headers."""
    global _accounts
    _accounts += 1
    email = f"staff{_accounts}@clinic{_accounts}.example"
    response = await client.post("/v1/accounts", json={"email": email, "password": "a long passphrase 1"})
    assert response.status_code == 201, response.text
    if role != "provider":
        changed = await client.patch(f"/v1/admin/accounts/{response.json()['id']}", json={"role": role}, headers=ADMIN)
        assert changed.status_code == 200, changed.text
    token = await client.post("/v1/auth/token", json={"email": email, "password": "a long passphrase 1"})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def changing(headers: dict[str, str], etag: str = "*") -> dict[str, str]:
    return {**headers, "If-Match": etag}
