"""Inputs found from outside that once made a 500: each is now a clear problem naming its field."""

from __future__ import annotations

from factories import assert_problem, create


async def test_a_bearer_token_of_any_characters_is_refused_not_a_crash(client):
    await create(client)
    odd = {"Authorization": "Bearer t\u00f6ken-\u2603".encode()}
    for path in ("/v1/me", "/v1/providers/harbor-ketamine-clinic-new-york", "/v1/search?lat=40.7&lon=-74", "/v1/conditions", "/hsds/services"):
        assert_problem(await client.get(path, headers=odd), 401)
    # Without a token the public routes answer as to anyone.
    assert (await client.get("/v1/search", params={"lat": 40.7, "lon": -74})).status_code == 200


async def test_a_radius_too_small_to_find_anything_is_a_bad_parameter(client):
    await create(client)
    for params in ({"lat": 40.7, "lon": -74.0, "radius": 1e-15, "unit": "km"}, {"lat": 40.7, "lon": -74.0, "radius": 0.0004, "unit": "mi"}):
        assert_problem(await client.get("/v1/search", params=params), 400, "radius")
    response = await client.get("/fhir/Location", params={"near": "40.7|-74.0|0.000000000000001|km"})
    assert response.status_code == 400 and response.json()["issue"][0]["expression"] == ["near"], response.text
    tiny = await client.get("/hsds/service_at_locations", params={"lat": 40.7, "lon": -74.0, "proximity": 1.1754943508222875e-38})
    assert_problem(tiny, 400, "proximity")


async def test_a_price_beyond_any_column_is_a_bad_parameter(client):
    await create(client)
    for price in ("9223372036854775808", "2147483648", "1000001"):
        assert_problem(await client.get("/v1/search", params={"lat": 40.7, "lon": -74.0, "max_price": price}), 400, "max_price")
    assert (await client.get("/v1/search", params={"lat": 40.7, "lon": -74.0, "max_price": "1000000"})).status_code == 200


async def test_a_nul_character_anywhere_is_refused_naming_where_on_both_databases(client):
    created = await create(client)
    for path, params, field in (
        ("/v1/search", {"lat": 40.7, "lon": -74.0, "insurance": "Aet\x00na"}, "insurance"),
        ("/fhir/Organization", {"name": "Hud\x00"}, "name"),
        ("/hsds/services", {"search": "x\x00y"}, "search"),
        ("/hsds/service_at_locations", {"postcode": "100\x0001"}, "postcode"),
    ):
        assert_problem(await client.get(path, params=params), 400, field)
    assert_problem(await client.get("/v1/providers/abc%00def"), 400, "path")
    from conftest import ADMIN

    body = {"name": "Sample\x00Clinic", "locations": [{"postal_code": "10001"}]}
    assert_problem(await client.post("/v1/providers", json=body, headers=ADMIN), 422, "name")
    changed = await client.patch(
        f"/v1/providers/{created['id']}", json={"languages": ["en", "e\x00s"]}, headers={**ADMIN, "If-Match": "*"}
    )
    assert_problem(changed, 422, "languages")


async def test_json_nested_past_the_limit_is_a_bad_request_on_every_json_route(client):
    from conftest import ADMIN

    from directory.intake import MAX_JSON_DEPTH, json_too_deep

    deep = "[" * 1000 + "]" * 1000
    for path, headers in (("/v1/accounts", {}), ("/v1/auth/token", {}), ("/v1/providers", ADMIN)):
        response = await client.post(path, content=deep, headers={**headers, "Content-Type": "application/json"})
        assert_problem(response, 400, "body")
    # Brackets inside strings do not count; nesting up to the limit passes.
    assert not json_too_deep(('{"name": "' + "[" * 500 + '"}').encode())
    assert not json_too_deep(("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode())
    assert json_too_deep(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    assert not json_too_deep(('["\\\\", "\\"[[[", ' + "[]," * 100 + "[]]").encode())


async def test_true_or_false_is_not_a_price(client):
    from conftest import ADMIN
    from factories import listing

    for price in ({"min": False, "max": 500}, {"min": 100, "max": True}):
        assert_problem(await client.post("/v1/providers", json=listing(price=price), headers=ADMIN), 422, "price." + next(k for k, v in price.items() if isinstance(v, bool)))
    body = listing(services=[{"code": "ketamine-iv", "price_max": False}])
    assert_problem(await client.post("/v1/providers", json=body, headers=ADMIN), 422, "services.0.price_max")


async def test_a_cursor_from_another_query_is_the_same_400_everywhere(client):
    """One mistake, one status: a cursor of the search given to the listing list (and the other way
    round, and to a listing's history) is a 400 naming ``cursor`` on each."""
    from conftest import ADMIN

    for n in range(3):
        await create(client, name=f"Cursor Clinic {n}")
    search_cursor = (await client.get("/v1/search", params={"lat": 40.7, "lon": -74.0, "limit": 1})).json()["next_cursor"]
    list_cursor = (await client.get("/v1/providers", params={"limit": 1})).json()["next_cursor"]
    assert search_cursor and list_cursor
    assert_problem(await client.get("/v1/providers", params={"cursor": search_cursor}), 400, "cursor")
    assert_problem(await client.get("/v1/search", params={"lat": 40.7, "lon": -74.0, "cursor": list_cursor}), 400, "cursor")
    assert_problem(await client.get("/v1/search", params={"lat": 41.7, "lon": -74.0, "cursor": search_cursor}), 400, "cursor")
    history = "/v1/providers/cursor-clinic-0-new-york/history"
    assert_problem(await client.get(history, params={"cursor": list_cursor}, headers=ADMIN), 400, "cursor")
