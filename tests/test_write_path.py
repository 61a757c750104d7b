"""A change to a listing asks who may make it once, loads the listing once, and does not reload it."""

from __future__ import annotations

import re

from factories import account, changing
from sqlalchemy import event


def _statements(client) -> list[str]:
    statements: list[str] = []
    engine = client.app.state.database.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *rest: statements.append(" ".join(statement.split())))
    return statements


async def test_a_patch_loads_and_checks_the_listing_once(client):
    owner = await account(client)
    created = await client.post(
        "/v1/providers",
        json={"name": "Owned Clinic", "status": "draft", "conditions": ["ptsd"], "locations": [{"postal_code": "10001"}]},
        headers=owner,
    )
    assert created.status_code == 201, created.text
    statements = _statements(client)
    patched = await client.patch(
        f"/v1/providers/{created.json()['id']}",
        json={"description": "Now with evening hours.", "conditions": ["ptsd", "ocd"]},
        headers=changing(owner, created.headers["etag"]),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "Now with evening hours."
    assert [c["code"] for c in patched.json()["conditions"]] == ["ocd", "ptsd"]
    loads = [s for s in statements if re.search(r"^SELECT .* FROM provider\b", s)]
    ownership = [s for s in statements if "provider_owner" in s]
    assert len(loads) == 1, loads
    assert len(ownership) == 1 and ownership[0] == loads[0], ownership
    bump = next(i for i, s in enumerate(statements) if s.startswith("UPDATE provider SET") and "version=" in s)
    assert not [s for s in statements[bump:] if re.search(r"FROM provider\b", s)], "the listing was read again after the change"


async def test_a_patch_reaches_three_modules_below_its_route(settings):
    """The route calls the service; the service calls the policy (who may change it, which status),
    the changes (transaction, version, history, trust holds) and the presenters, and nothing else of
    the app's (the read model and the change feed follow through the recorder, not the service).
    Definitions the service constructs (models, schemas, columns) are data, not steps, and are not counted;
    nor is the database's own plumbing the driver calls back into (SQLite's turns to write)."""
    import sys
    import threading

    from litestar.testing import AsyncTestClient

    from directory.app import create_app

    called: set[str] = set()
    tracing = threading.Event()

    def profile(frame, event, _arg):
        if event != "call" or not tracing.is_set():
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("directory."):
            return
        back = frame.f_back
        while back is not None and not back.f_globals.get("__name__", "").startswith("directory."):
            back = back.f_back
        if back is not None and back.f_globals["__name__"] == "directory.listings.service" and module != "directory.listings.service":
            called.add(module)

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            owner = await account(client)
            created = await client.post(
                "/v1/providers", json={"name": "Traced Clinic", "status": "draft", "locations": [{"postal_code": "10001"}]}, headers=owner
            )
            tracing.set()
            patched = await client.patch(
                f"/v1/providers/{created.json()['id']}",
                json={"name": "Traced Clinic East", "conditions": ["ptsd"], "status": "pending_review"},
                headers=changing(owner, created.headers["etag"]),
            )
            tracing.clear()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert patched.status_code == 200, patched.text
    data = {"directory.listings.models", "directory.listings.schemas", "directory.columns", "directory.validation", "directory.writeturns"}
    assert called - data == {"directory.listings.policy", "directory.listings.changes", "directory.listings.presenters"}, called
