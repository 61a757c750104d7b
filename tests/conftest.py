"""Test harness: every API test runs once on SQLite and once on PostgreSQL+PostGIS.

PostgreSQL comes from DIRECTORY_TEST_POSTGRES_URL (skipped when unset, unless
DIRECTORY_TEST_REQUIRE_POSTGRES is set, as CI does). Each test starts from a database holding only
the taxonomies: it owns whatever listings it creates.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import hsds_schema
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from directory import migrate
from directory.app import create_app
from directory.database import Database
from directory.seeding import load_taxonomy
from directory.settings import Settings

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
#: The admin, changing a listing whatever its current version (If-Match: *).
ADMIN_ANY = {**ADMIN, "If-Match": "*"}
LISTING_TABLES = (
    "consultation_access",
    "consultation_tally",
    "consultation_request",
    "duplicate_candidate",
    "mail_queue",
    "web_session",
    "account_token",
    "listing_invitation",
    "listing_report",
    "search_location",
    "listing_document",
    "webhook_delivery",
    "webhook_subscription",
    "feed_entry",
    "verification_record",
    "api_key",
    "pending_change",
    "claim",
    "account_npi",
    "listing_change",
    "provider_owner",
    "account",
    "provider_clinician",
    "provider_condition",
    "provider_service",
    "location",
    "clinician",
    "provider",
    "geocode_cache",
)


def postgres_url() -> str:
    url = os.environ.get("DIRECTORY_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_POSTGRES"):
            pytest.fail("DIRECTORY_TEST_REQUIRE_POSTGRES is set but DIRECTORY_TEST_POSTGRES_URL is not")
        pytest.skip("set DIRECTORY_TEST_POSTGRES_URL to run the PostgreSQL+PostGIS half of the suite")
    return url


def make_settings(database_url: str, **overrides: object) -> Settings:
    values = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "secret_key": "test-secret-that-is-at-least-32-characters-long",
        "geocoder": "offline",
        # Cheap password hashing: the suite signs up many accounts.
        "argon2_memory_kib": 8,
        "argon2_time_cost": 1,
        # Tests make many requests a minute from one address; the rate-limit tests lower this.
        "anonymous_rate_limit": 1_000_000,
        "verification_worker": False,
        "webhook_worker": False,
        "mail_worker": False,
        "consultation_worker": False,
        # A full collection and a freeze at every app's start cost a test process far more than they
        # save: test_metrics turns it on to check it.
        "gc_freeze": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
async def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "directory.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = postgres_url()
        migrate.downgrade(url, "base")
    return await prepared(url)


async def prepared(url: str) -> str:
    """The database at ``url`` migrated to head with the taxonomies loaded (both idempotent)."""
    migrate.upgrade(url)
    database = Database.from_settings(make_settings(url))
    try:
        await load_taxonomy(database)
    finally:
        await database.dispose()
    return url


def bare_env(**values: str) -> dict[str, str]:
    """An environment for a command the tests run: nothing of the caller's but the system PATH and,
    under ``make coverage``, coverage's own variable (so that the command is measured too)."""
    kept = {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
    return {"PATH": "/usr/bin:/bin", **kept, **values}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


async def empty_listings(database_url: str) -> None:
    database = Database.from_settings(make_settings(database_url))
    try:
        async with database.write_engine.begin() as connection:
            if database.dialect == "postgresql":
                await connection.execute(text(f"TRUNCATE {', '.join(LISTING_TABLES)} CASCADE"))
            else:
                for table in LISTING_TABLES:
                    await connection.execute(text(f"DELETE FROM {table}"))
                # The read model's FTS5 index goes with its rows (the read model keeps it in step itself).
                await connection.execute(text("INSERT INTO search_location_words(search_location_words) VALUES ('delete-all')"))
    finally:
        await database.dispose()


#: Every error answer the suite's test clients received: (method, path, status).
ERRORS_SEEN: set[tuple[str, str, int]] = set()


def watch(test_client: AsyncTestClient) -> AsyncTestClient:
    """Note each error answer, to check at the end that its route declares it (see pytest_sessionfinish),
    and check each HSDS answer against Open Referral's HSDS 3.0 schemas (see hsds_schema)."""

    async def note(response: Any) -> None:
        path = response.request.url.path
        if response.status_code >= 400:
            ERRORS_SEEN.add((response.request.method, path, response.status_code))
        elif response.status_code == 200 and path.startswith("/hsds/") and hsds_schema.available():
            await response.aread()
            broken = hsds_schema.problems(path, response.json())
            assert not broken, "the answer breaks HSDS 3.0's schema:\n  " + "\n  ".join(broken[:20])

    test_client.event_hooks["response"].append(note)
    return test_client


#: One app per distinct settings, built once: building one (routes, signature models, the OpenAPI
#: document it checks itself against) costs more than most tests. Each test still gets a fresh start:
#: its client runs the app's lifespan, which builds every service, engine and cache anew.
_APPS: dict[str, Any] = {}


def app_for(settings: Settings) -> Any:
    key = settings.model_dump_json()
    if key not in _APPS:
        _APPS[key] = create_app(settings)
    return _APPS[key]


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    await empty_listings(settings.database_url)
    async with AsyncTestClient(app=app_for(settings)) as test_client:
        yield watch(test_client)


def undeclared_errors(seen: set[tuple[str, str, int]]) -> list[str]:
    """The errors seen whose route's OpenAPI entry does not declare that status (500 is never declared:
    it must not happen, and is caught by the tests that provoked it)."""
    import re

    from directory import problems

    declared = problems.declared(create_app(make_settings("sqlite+aiosqlite:///:memory:")))
    patterns = sorted(
        ((method, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path.count("{"), status) for (method, path), status in declared.items()),
        key=lambda item: item[2],
    )
    missing = []
    for method, path, status in sorted(seen):
        route = next(((p, statuses) for m, p, _, statuses in patterns if m == method and p.match(path)), None)
        if route is not None and status not in route[1] and status != 500:
            missing.append(f"{method} {path} answered {status}, which {route[0].pattern} does not declare")
    return missing


def pytest_report_header(config: pytest.Config) -> list[str]:
    if os.environ.get("DIRECTORY_TEST_POSTGRES_URL"):
        lines = ["directory: every API test runs on SQLite and on PostgreSQL+PostGIS (DIRECTORY_TEST_POSTGRES_URL)"]
    else:
        lines = [
            "directory: SQLite only; the PostgreSQL+PostGIS half is skipped. To run it: createdb directory_test, then "
            "DIRECTORY_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/directory_test make test"
        ]
    if hsds_schema.available():
        lines.append(f"directory: every HSDS answer is checked against HSDS 3.0's schema files ({hsds_schema.FOLDER.name})")
    else:
        lines.append(f"directory: HSDS answers are NOT checked against HSDS 3.0's schemas (offline, and no copy in {hsds_schema.FOLDER})")
    return lines


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not ERRORS_SEEN or exitstatus != 0:
        return
    missing = undeclared_errors(ERRORS_SEEN)
    if missing:
        print("\nerrors answered but not declared in the OpenAPI document:\n  " + "\n  ".join(missing))
        session.exitstatus = 1


class LiveServer:
    """The app served by uvicorn on a loopback port in a thread of its own: real concurrency."""

    def __init__(self, settings: Settings) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
async def live_url(settings: Settings) -> AsyncIterator[str]:
    await empty_listings(settings.database_url)
    with LiveServer(settings) as server:
        yield server.url


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Direct access to the same database the client's app uses, to check what was stored."""
    db = Database.from_settings(settings)
    yield db
    await db.dispose()


async def write_directly(database: Database, statement: object, *provider_ids: object) -> None:
    """A test's own write to the tables, around the API, with the read-model refresh the recorder
    would have made (the public reads come from the read model)."""
    from directory.listings.changes import Recorder

    async with database.writer() as session, session.begin():
        await session.execute(statement)  # type: ignore[arg-type]
        await Recorder().refresh(session, provider_ids)  # type: ignore[arg-type]


@pytest.fixture
def own_redis(tmp_path: Path):
    """A Redis of the test's own on a free port (nothing shared with other runs), stopped at the end."""
    from own_services import OwnRedis, redis_or_skip

    redis_or_skip()
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
