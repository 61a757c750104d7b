"""What went wrong when a command could not start or finish, said in a line or two with what to do.

The command line shows these instead of a traceback (``--debug`` or DIRECTORY_DEBUG=1 shows the
traceback too). Each explanation names the setting or command that fixes it.
"""

from __future__ import annotations

import socket
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from directory.errors import causes

URL_SHAPES = "sqlite+aiosqlite:///./var/directory.db or postgresql+asyncpg://user@host:5432/database"


def _where(database_url: str) -> str:
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "the database"
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}, database {url.database!r}"


def explain(error: BaseException, database_url: str) -> str | None:
    """One or two lines for a failure we know; None for one we do not (it keeps its traceback)."""
    chain = causes(error)
    text = " ".join(str(e) for e in chain).lower()
    names = {type(e).__name__ for e in chain}
    if isinstance(error, ValidationError) and error.title == "Settings":
        problems = "; ".join(f"DIRECTORY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors())
        return f"error: a setting is invalid: {problems}"
    if any(isinstance(e, (ArgumentError, NoSuchModuleError)) for e in chain) or "could not parse sqlalchemy url" in text:
        return f"error: DIRECTORY_DATABASE_URL is not a database URL this service uses ({database_url!r}).\nUse {URL_SHAPES}."
    if "postgis" in text or "geometry" in text and "does not exist" in text or "extension control file" in text:
        return (
            f"error: PostGIS is not available in {_where(database_url)}.\n"
            "Install it (Debian: apt-get install postgresql-15-postgis-3) and, as a superuser, run CREATE EXTENSION postgis; in that database."
        )
    if "InvalidCatalogNameError" in names or ("database" in text and "does not exist" in text):
        return f"error: {_where(database_url)} does not exist. Create it (createdb), or fix DIRECTORY_DATABASE_URL."
    if "InvalidPasswordError" in names or "password authentication failed" in text or "InvalidAuthorizationSpecificationError" in names:
        return f"error: {_where(database_url)} refused the login: check the user and password in DIRECTORY_DATABASE_URL."
    if any(isinstance(e, (ConnectionError, socket.gaierror, TimeoutError)) for e in chain) or isinstance(error, OperationalError) and "connect" in text:
        reason = next((str(e) for e in chain if isinstance(e, (OSError, socket.gaierror))), (str(error).splitlines() or [type(error).__name__])[0])
        return f"error: cannot reach {_where(database_url)} ({reason}).\nCheck DIRECTORY_DATABASE_URL, and that the database server runs."
    if "unable to open database file" in text:
        return f"error: cannot open {_where(database_url)}: check that its folder exists and may be written."
    if isinstance(error, DBAPIError) and ("no such table" in text or "undefinedtable" in " ".join(names).lower()):
        return "error: the database has no tables yet or is behind the code: run directory db upgrade."
    if isinstance(error, ValueError) and "DIRECTORY_" in str(error):
        return f"error: {error}"
    if isinstance(error, ValueError) and "unsupported database" in str(error):
        return f"error: DIRECTORY_DATABASE_URL: {error}.\nFor example {URL_SHAPES}."
    return None


def describe(error: Any) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
