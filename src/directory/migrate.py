"""Schema migrations, driven from the command line and the test suite.

Alembic is imported where it is used, not with this module: a worker that serves requests and the
command line's other commands never load it (it is a fifth of the command line's start-up)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from directory.database import create_engine
from directory.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def _in_thread(function, *args) -> None:  # noqa: ANN001
    # env.py runs its own event loop; keep it off any loop the caller is running.
    if _loop_running():
        import threading

        errors: list[BaseException] = []

        def target() -> None:
            try:
                function(*args)
            except BaseException as error:  # noqa: BLE001 - re-raised below
                errors.append(error)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if errors:
            raise errors[0]
    else:
        function(*args)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate, then fill the read model if the schema now has one and it is still empty."""
    from alembic import command

    _in_thread(command.upgrade, alembic_config(database_url), revision)
    if revision == "head":
        _in_thread(asyncio.run, _fill_read_model(database_url))


async def _fill_read_model(database_url: str) -> None:
    # Built with the code of the schema's head (not inside a migration, whose code would have to
    # match its own revision forever).
    from directory.listings import readmodel

    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        await readmodel.reindex(engine, only_if_missing=True)
    finally:
        await engine.dispose()


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    _in_thread(command.downgrade, alembic_config(database_url), revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(settings: Settings, database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url, settings, read_only=True)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
