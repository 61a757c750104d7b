"""Who may write: only a caller with the admin token, until accounts exist."""

from __future__ import annotations

import pytest
from conftest import ADMIN
from factories import assert_problem, create, listing

WRITES = [
    ("post", "/v1/providers"),
    ("patch", "/v1/providers/{id}"),
    ("delete", "/v1/providers/{id}"),
    ("post", "/v1/providers/{id}/locations"),
    ("patch", "/v1/providers/{id}/locations/{location}"),
    ("delete", "/v1/providers/{id}/locations/{location}"),
    ("post", "/v1/providers/{id}/clinicians"),
    ("patch", "/v1/providers/{id}/clinicians/{clinician}"),
    ("delete", "/v1/providers/{id}/clinicians/{clinician}"),
]


@pytest.mark.parametrize(("method", "template"), WRITES)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}],
    ids=["no token", "wrong token", "not bearer", "empty token"],
)
async def test_every_write_needs_the_token(client, method, template, headers):
    body = await create(client)
    path = template.format(id=body["id"], location=body["locations"][0]["id"], clinician=body["clinicians"][0]["id"])
    kwargs = {"json": listing()} if method in ("post", "patch") else {}
    response = await getattr(client, method)(path, headers=headers, **kwargs)
    problem = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert problem["type"] == "/problems/not-authenticated"
    assert (await client.get(f"/v1/providers/{body['id']}")).json()["version"] == 1


async def test_without_a_configured_token_nobody_can_write(settings):
    from litestar.testing import AsyncTestClient

    from directory.app import create_app

    app = create_app(settings.model_copy(update={"admin_token": None}))
    async with AsyncTestClient(app=app) as anonymous_only:
        response = await anonymous_only.post("/v1/providers", json=listing(), headers=ADMIN)
        assert_problem(response, 401)


async def test_a_wrong_token_on_a_read_is_an_error_not_anonymity(client):
    assert_problem(await client.get("/v1/providers", headers={"Authorization": "Bearer nope"}), 401)


def test_a_postgresql_deployment_must_set_its_own_secret():
    from directory.settings import Settings, with_secret

    with pytest.raises(ValueError, match="DIRECTORY_SECRET_KEY"):
        with_secret(Settings(database_url="postgresql+asyncpg://db.example/directory"))
    with pytest.raises(ValueError):
        Settings(secret_key="too short")


def test_the_embedded_default_generates_one_secret_and_keeps_it(tmp_path):
    import stat

    from directory.settings import Settings, with_secret

    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'directory.db'}"
    first = with_secret(Settings(database_url=url)).secret_key
    again = with_secret(Settings(database_url=url)).secret_key
    assert first == again and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
