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


def test_a_row_made_quickly_is_the_row_the_constructor_makes():
    """``new_row`` (the write path's quick constructor) gives a table model the same values,
    defaults, set fields and relationships as its constructor; a field the model lacks is an error."""
    import uuid

    import pytest

    from directory.columns import new_row
    from directory.listings.models import Clinician, ListingChange, Location, OpeningInterval, Provider, ProviderCondition, ProviderService
    from directory.taxonomy.models import Condition

    random = {"id", "created_at", "updated_at", "at"}  # a new id, the time now
    cases = [
        (Provider, {"name": "Quick Clinic", "slug": "quick-clinic", "status": "published", "languages": ["en", "es"], "telehealth": True}),
        (Location, {"name": "Main", "city": "Austin", "state": "TX", "postal_code": "78701", "latitude": 30.27, "longitude": -97.74, "hours": []}),
        (OpeningInterval, {"day": 1, "opens": 540, "closes": 1020}),
        (ProviderService, {"service_code": "iv_ketamine", "price_min": 400}),
        (Clinician, {"first_name": "Ana", "last_name": "Ruiz", "credential": "MD"}),
        (ListingChange, {"provider_id": uuid.uuid4(), "actor": "admin", "action": "created", "changes": {"name": {"before": None, "after": "x"}}}),
    ]
    for model, values in cases:
        made, quick = model(**values), new_row(model, **values)
        kept = {key: value for key, value in vars(made).items() if key != "_sa_instance_state" and key not in random}
        assert {key: value for key, value in vars(quick).items() if key != "_sa_instance_state" and key not in random} == kept, model
        assert set(vars(quick)) == set(vars(made)), model
        assert quick.model_fields_set == made.model_fields_set, model
        for key in random & set(vars(made)):
            assert type(getattr(quick, key)) is type(getattr(made, key)), (model, key)
    quick_list, made_list = new_row(Provider, name="A"), Provider(name="A")
    assert quick_list.languages == made_list.languages == [] and quick_list.languages is not new_row(Provider, name="B").languages
    entry = Condition(code="ptsd", name="PTSD")
    link = new_row(ProviderCondition, condition_code="ptsd", condition=entry)
    assert link.condition is entry
    with pytest.raises(TypeError, match="no field 'colour'"):
        new_row(Location, colour="blue")
