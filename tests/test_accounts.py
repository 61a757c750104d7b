"""Provider accounts: signing up, logging in, who am I, and the administrator's role changes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid

import pytest
from conftest import ADMIN, bare_env
from factories import account, assert_problem, create, listing


async def test_sign_up_log_in_and_see_yourself(client):
    response = await client.post("/v1/accounts", json={"email": "Owner@Clinic.example", "password": "a long passphrase 1"})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "owner@clinic.example" and body["role"] == "provider" and body["listings"] == []
    assert "password" not in response.text and "argon2" not in response.text
    token = await client.post("/v1/auth/token", json={"email": "owner@clinic.example", "password": "a long passphrase 1"})
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["id"] == body["id"] and "password_hash" not in me.text


async def test_an_email_signs_up_once(client):
    first = {"email": "a@b.example", "password": "a long passphrase 1"}
    assert (await client.post("/v1/accounts", json=first)).status_code == 201
    assert_problem(await client.post("/v1/accounts", json={**first, "email": "A@B.example"}), 409)


async def test_weak_passwords_and_bad_emails_are_refused(client):
    for password in ("short", "aaaaaaaaaaaaaa", "password123", "someone@clinic.example"):
        response = await client.post("/v1/accounts", json={"email": "someone@clinic.example", "password": password})
        assert_problem(response, 422, "password")
    assert_problem(await client.post("/v1/accounts", json={"email": "nope", "password": "a long passphrase 1"}), 422, "email")
    assert_problem(
        await client.post("/v1/accounts", json={"email": "x@y.example", "password": "a long passphrase 1", "role": "admin"}),
        422,
        "role",
    )


async def test_wrong_passwords_are_throttled(client):
    await client.post("/v1/accounts", json={"email": "t@t.example", "password": "a long passphrase 1"})
    for _ in range(5):
        assert_problem(await client.post("/v1/auth/token", json={"email": "t@t.example", "password": "wrong one"}), 401)
    refused = await client.post("/v1/auth/token", json={"email": "t@t.example", "password": "a long passphrase 1"})
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) > 0


async def test_tokens_that_are_forged_or_unknown_are_refused(client):
    headers = await account(client)
    forged = headers["Authorization"][:-4] + "abcd"
    assert_problem(await client.get("/v1/me", headers={"Authorization": forged}), 401)
    assert_problem(await client.get("/v1/me"), 401)
    assert_problem(await client.get("/v1/me", headers=ADMIN), 404)


async def test_only_an_admin_changes_roles(client):
    provider = await account(client)
    me = (await client.get("/v1/me", headers=provider)).json()
    assert_problem(await client.patch(f"/v1/admin/accounts/{me['id']}", json={"role": "admin"}, headers=provider), 403)
    moderator = await account(client, role="moderator")
    assert (await client.get("/v1/me", headers=moderator)).json()["role"] == "moderator"


async def test_me_lists_the_listings_an_account_owns(client):
    owner = await account(client)
    response = await client.post("/v1/providers", json=listing(status="draft"), headers=owner)
    assert response.status_code == 201, response.text
    await create(client)  # the admin's, owned by no account
    assert (await client.get("/v1/me", headers=owner)).json()["listings"] == [response.json()["id"]]


def test_the_first_admin_is_made_on_the_command_line(tmp_path):
    env = bare_env(DIRECTORY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "directory", *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
        )

    assert run("db", "upgrade").returncode == 0
    created = run("users", "create-admin", "--email", "root@directory.example", stdin="a long passphrase 1\n")
    assert created.returncode == 0, created.stderr
    again = run("users", "create-admin", "--email", "root@directory.example", stdin="a long passphrase 1\n")
    assert again.returncode == 1 and "exists" in again.stderr
    weak = run("users", "create-admin", "--email", "other@directory.example", stdin="short\n")
    assert weak.returncode == 1 and "characters" in weak.stderr


async def test_parallel_guesses_are_counted_before_the_password_is_checked(client):
    import asyncio

    await client.post("/v1/accounts", json={"email": "p@p.example", "password": "a long passphrase 1"})
    guesses = [client.post("/v1/auth/token", json={"email": "p@p.example", "password": f"guess number {n}"}) for n in range(20)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*guesses))
    assert statuses.count(401) <= 5 and statuses.count(429) >= 15, statuses
    assert_problem(await client.post("/v1/auth/token", json={"email": "p@p.example", "password": "a long passphrase 1"}), 429)


async def test_strangers_cannot_lock_the_owner_out_and_unknown_emails_cost_a_password_check(client):
    from directory.accounts.schemas import Credentials
    from directory.errors import NotAuthenticated, TooManyRequests

    await client.post("/v1/accounts", json={"email": "o@o.example", "password": "a long passphrase 1"})
    accounts, database = client.app.state.accounts, client.app.state.database
    checks: list[str] = []
    verify = accounts.passwords.verify
    accounts.passwords.verify = lambda stored, password: checks.append(password) or verify(stored, password)

    async def log_in(password: str, address: str, email: str = "o@o.example"):
        async with database.reader() as session:
            return await accounts.log_in(session, Credentials(email=email, password=password), address)

    for n in range(5):  # a stranger's address runs out of tries for this account
        with pytest.raises(NotAuthenticated):
            await log_in(f"wrong {n}", "203.0.113.7")
    with pytest.raises(TooManyRequests):
        await log_in("a long passphrase 1", "203.0.113.7")
    assert (await log_in("a long passphrase 1", "198.51.100.20")).access_token  # the owner, elsewhere, gets in
    checks.clear()
    with pytest.raises(NotAuthenticated):
        await log_in("anything at all", "198.51.100.21", email="nobody@o.example")
    assert checks == ["anything at all"]  # checked against a hash of no one's password, like a known email


async def test_a_token_is_worth_what_its_account_is_now(client, database, monkeypatch):
    """Demoting, disabling or deleting an account takes effect on its tokens at once in the process
    that did it, and within seconds in the others (each remembers an account for a few seconds)."""
    from sqlalchemy import delete, update

    from directory.accounts import standing
    from directory.accounts.models import Account

    moderator = await account(client, role="moderator")
    me = (await client.get("/v1/me", headers=moderator)).json()
    assert me["role"] == "moderator" and (await client.get("/v1/moderation/queue", headers=moderator)).status_code == 200
    demoted = await client.patch(f"/v1/admin/accounts/{me['id']}", json={"role": "provider"}, headers=ADMIN)
    assert demoted.status_code == 200
    assert_problem(await client.get("/v1/moderation/queue", headers=moderator), 403)  # at once, same token

    now = [0.0]
    client.app.state.standing.clock = lambda: now[0]  # the process's clock, moved by the test
    owner = await account(client)
    owner_id = uuid.UUID((await client.get("/v1/me", headers=owner)).json()["id"])
    async with database.writer() as session, session.begin():
        await session.execute(update(Account).where(Account.id == owner_id).values(disabled=True))  # as another process would
    now[0] += standing.SECONDS + 0.001
    problem = assert_problem(await client.post("/v1/providers", json={"name": "Still here?", "locations": [{"postal_code": "10001"}]}, headers=owner), 401)
    assert "disabled" in problem["detail"]
    async with database.writer() as session, session.begin():
        await session.execute(delete(Account).where(Account.id == owner_id))
    now[0] += standing.SECONDS + 0.001
    assert "no longer exists" in assert_problem(await client.get("/v1/me", headers=owner), 401)["detail"]


@pytest.mark.parametrize("password", ["Password12", "qwerty12345", "ketamine2026", "Ketamine!2026", "directory123"])
async def test_common_and_guessable_passwords_are_refused(client, password):
    problem = assert_problem(await client.post("/v1/accounts", json={"email": "g@g.example", "password": password}), 422, "password")
    assert "too easy to guess" in problem["errors"][0]["reason"]


async def test_password_hashing_takes_turns_and_says_so_when_it_cannot():
    from directory.accounts.passwords import Passwords
    from directory.errors import ServiceUnavailable

    passwords = Passwords(8, 1, concurrency=1, wait_seconds=0.05)
    plain = passwords.hash
    started, release = threading.Event(), threading.Event()

    def held(password: str) -> str:
        """Takes the only turn and keeps it until the test lets go."""
        started.set()
        release.wait(timeout=60)
        return plain(password)

    passwords.hash = held
    first = asyncio.create_task(passwords.hashed("a long passphrase 1"))
    assert await asyncio.to_thread(started.wait, 60)
    with pytest.raises(ServiceUnavailable) as refused:
        await passwords.hashed("another long passphrase")
    assert refused.value.headers["Retry-After"] == "2"
    release.set()
    assert passwords.verify(await first, "a long passphrase 1")
    assert await passwords.matches(await first, "a long passphrase 1")  # a turn is free again
