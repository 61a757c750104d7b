"""A JSON body key named like one of the app's dependencies or state entries (``listings``, ``caller``,
``writer``...) once answered 500: Litestar took pydantic's "extra field" for an error of its own. Every
JSON route now answers the documented 422 naming that key, and a 500 that can still happen is logged
with its traceback and request id."""

from __future__ import annotations

import logging
import uuid

import pytest
from conftest import ADMIN
from factories import assert_problem, listing
from litestar.handlers import HTTPRouteHandler

from directory.dependencies import DEPENDENCIES

#: Names Litestar itself may inject into a handler or a dependency.
LITESTAR_NAMES = ("state", "request", "headers", "cookies", "query", "scope", "socket", "body", "data")
ANY_ID = str(uuid.uuid4())

#: A valid body per JSON route (path with placeholders filled): only the extra key makes it invalid.
VALID_BODIES = {
    ("POST", "/v1/webhooks"): {"url": "https://hooks.example/directory"},
    ("PATCH", "/v1/webhooks/{subscription_id:uuid}"): {"status": "paused"},
    ("POST", "/v1/providers/{key:str}/clinicians"): {"first_name": "Ana", "last_name": "Ruiz", "credential": "MD"},
    ("POST", "/v1/providers/{key:str}/locations"): {"city": "New York", "state": "NY"},
    ("PATCH", "/v1/providers/{key:str}"): {"description": "New words."},
    ("POST", "/v1/providers"): listing(),
    ("PATCH", "/v1/providers/{key:str}/locations/{location_id:int}"): {"phone": "(212) 555-0101"},
    ("PATCH", "/v1/providers/{key:str}/clinicians/{clinician_id:uuid}"): {"specialty": "psychiatry"},
    ("POST", "/v1/me/npis"): {"npi": "1234567893"},
    ("POST", "/v1/auth/token"): {"email": "a@x.example", "password": "correct horse battery staple 9"},
    ("PATCH", "/v1/admin/accounts/{account_id:uuid}"): {"role": "moderator"},
    ("PATCH", "/v1/me"): {"language": "es"},
    ("POST", "/v1/accounts"): {"email": "a@x.example", "password": "correct horse battery staple 9"},
    ("POST", "/v1/moderation/listings/{key:str}/actions"): {"action": "suspend", "reason": "test"},
    ("POST", "/v1/moderation/changes/{change_id:uuid}/decision"): {"decision": "approve"},
    ("POST", "/v1/moderation/claims/{claim_id:uuid}/decision"): {"decision": "approve"},
    ("POST", "/v1/providers/{key:str}/claims"): {},
    ("POST", "/v1/providers/{key:str}/reports"): {"kind": "wrong_phone"},
    ("POST", "/v1/moderation/reports/{report_id:uuid}/decision"): {"decision": "dismiss"},
    ("POST", "/v1/moderation/duplicates/{candidate_id:uuid}/decision"): {"decision": "dismiss"},
    ("POST", "/v1/providers/{key:str}/consultation-requests"): {"name": "Sam", "phone": "(303) 555-0142", "consent": True, "form_token": "x"},
    ("PATCH", "/v1/providers/{key:str}/consultation-requests/{request_id:uuid}"): {"status": "contacted"},
    ("PUT", "/v1/providers/{key:str}/consultation-settings"): {"accepting": False},
    ("POST", "/v1/consultation-requests/{request_id:uuid}/withdrawal"): {"token": "a-token-of-the-link"},
    ("POST", "/v1/moderation/consultation-requests/{request_id:uuid}/reading"): {"reason": "looking into abuse"},
    ("POST", "/v1/admin/api-keys"): {"name": "Partner", "owner_contact": "dev@partner.example"},
}


def json_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "data" in handler.parsed_fn_signature.parameters:
                found.extend((method, route.path) for method in sorted(handler.http_methods))
    return found


def filled(path: str) -> str:
    return (
        path.replace("{key:str}", "some-listing").replace("{location_id:int}", "1")
        .replace("{subscription_id:uuid}", ANY_ID).replace("{clinician_id:uuid}", ANY_ID)
        .replace("{account_id:uuid}", ANY_ID).replace("{change_id:uuid}", ANY_ID).replace("{claim_id:uuid}", ANY_ID).replace("{report_id:uuid}", ANY_ID)
        .replace("{candidate_id:uuid}", ANY_ID).replace("{request_id:uuid}", ANY_ID)
    )  # fmt: skip


def reserved_names(app) -> list[str]:
    state = [name for name in app.state.dict() if not name.startswith("_")]
    return sorted({*DEPENDENCIES, *LITESTAR_NAMES, *state})


async def test_every_json_route_has_a_valid_body_here(client):
    assert sorted(json_routes(client.app)) == sorted(VALID_BODIES), "a JSON route was added or removed: give it a valid body above"


async def test_a_body_key_named_like_a_dependency_is_a_422_naming_it_on_every_json_route(client):
    names = reserved_names(client.app)
    assert {"listings", "caller", "writer", "verification", "accounts", "settings", "database"} <= set(names)
    for method, path in json_routes(client.app):
        for name in names:
            body = {**VALID_BODIES[(method, path)], name: 1}
            response = await client.request(method, filled(path), json=body, headers={**ADMIN, "If-Match": "*"})
            assert_problem(response, 422, name)


async def test_a_server_error_is_logged_with_its_traceback_and_request_id(client, caplog, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("a bug on purpose")

    monkeypatch.setattr(client.app.state.taxonomy, "entries", broken)
    with caplog.at_level(logging.ERROR, logger="directory"):
        response = await client.get("/v1/conditions", headers={"X-Request-Id": "req-500-test"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info and "a bug on purpose" in str(record.exc_info[1])
    assert record.request_id == "req-500-test"


@pytest.mark.parametrize("status_route", ["/v1/accounts"])
async def test_the_reported_sign_up_body_is_the_documented_422(client, status_route):
    response = await client.post(status_route, json={"email": "a@x.example", "password": "correct horse battery staple 9", "listings": 1})
    assert_problem(response, 422, "listings")
