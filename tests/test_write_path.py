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
