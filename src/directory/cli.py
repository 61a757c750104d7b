"""The directory command: serve the API, migrate the database, load the seed data, and more.

Each command imports what it needs when it runs, so that the command line (and every server
worker) starts without loading what it does not use."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from datetime import timedelta

from directory import upkeep
from directory.settings import get_settings, with_secret


def _port_taken(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, or None when it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot listen on {host}: {error.strerror or error}"
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a port in TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == 98:  # EADDRINUSE
                return f"port {port} on {host} is already in use (another server?): stop it, or serve elsewhere with --port or PORT"
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def _serve(args: argparse.Namespace) -> int:
    from directory import migrate

    settings = with_secret(get_settings())  # refuse to start without a secret before any worker does
    if (taken := _port_taken(args.host, args.port)) is not None:
        print(f"error: {taken}.", file=sys.stderr)
        return 1
    current, head = asyncio.run(migrate.current_revision(settings, settings.database_url)), migrate.head_revision()
    if current != head:
        where = f"at revision {current}" if current else "empty"
        print(f"error: the database is {where}, the code needs {head}: run directory db upgrade (make run does it).", file=sys.stderr)
        return 1
    options = {
        "app": "directory.app:create_app",
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        # uvicorn's access log writes each path with its query (a patient's place and condition, a
        # link's token): the app logs each answer itself, with the route's template only.
        "access_log": False,
        "timeout_worker_healthcheck": settings.worker_healthcheck_seconds,
    }
    if args.workers > 1:
        # The supervisor only starts, watches and stops the workers, which import the app themselves:
        # it becomes a fresh interpreter holding uvicorn alone (16 MB), not the 56 MB that the checks
        # above loaded (the settings, SQLAlchemy and Alembic). The same process id, so signals reach it.
        os.execv(sys.executable, [sys.executable, "-c", _SUPERVISOR, json.dumps(options)])
    import uvicorn

    uvicorn.run(**options)
    return 0


_SUPERVISOR = "import json, sys, uvicorn; uvicorn.run(**json.loads(sys.argv[1]))"


def _db(args: argparse.Namespace) -> int:
    from directory import migrate

    settings = get_settings()
    if args.action == "upgrade":
        with_secret(settings)  # a deployment that cannot start is refused before anything is written
        before = asyncio.run(migrate.current_revision(settings, settings.database_url))
        migrate.upgrade(settings.database_url, args.revision or "head")
        after = asyncio.run(migrate.current_revision(settings, settings.database_url))
        if before == after:
            print(f"database already at revision {after or 'base'}: nothing to do")
        else:
            print(f"database upgraded from {before or 'empty'} to revision {after}")
    elif args.action == "downgrade":
        before = asyncio.run(migrate.current_revision(settings, settings.database_url))
        migrate.downgrade(settings.database_url, args.revision or "base")
        after = asyncio.run(migrate.current_revision(settings, settings.database_url))
        print(f"database downgraded from revision {before or 'base'} to {after or 'empty (base)'}" if before != after else f"database already at {after or 'base'}: nothing to do")
    else:
        current = asyncio.run(migrate.current_revision(settings, settings.database_url))
        print(f"database: {current or 'empty'}; code: {migrate.head_revision()}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from directory.seeding import seed

    settings = with_secret(get_settings())
    report = asyncio.run(seed(settings, samples=not args.taxonomy_only, only_if_empty=args.if_empty))
    if report.already_listed:
        print(f"taxonomy entries changed: {report.taxonomy_changed}; the directory already has {report.already_listed} listings: no sample listings added")
        return 0
    print(
        f"taxonomy entries changed: {report.taxonomy_changed}; sample listings added: {report.providers_added}, "
        f"already there: {report.providers_skipped}"
    )
    return 0


def _users(args: argparse.Namespace) -> int:
    import getpass

    from pydantic import ValidationError

    from directory.accounts.callers import Role
    from directory.accounts.schemas import AccountCreate
    from directory.accounts.service import AccountService
    from directory.database import Database
    from directory.errors import DirectoryError
    from directory.ratelimit import MemoryLimitStore

    password = os.environ.get("DIRECTORY_NEW_ADMIN_PASSWORD")
    if password is None:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")

    async def create() -> str:
        settings = get_settings()
        database = Database.from_settings(settings)
        try:
            async with database.writer() as session:
                data = AccountCreate(email=args.email, password=password)
                account = await AccountService(settings, MemoryLimitStore()).sign_up(session, data, role=Role.admin)
                return str(account.id)
        finally:
            await database.dispose()

    try:
        account_id = asyncio.run(create())
    except DirectoryError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    except ValidationError as error:
        fields = "; ".join(f"{'.'.join(map(str, problem['loc'])) or 'input'}: {problem['msg']}" for problem in error.errors())
        print(f"error: {fields}", file=sys.stderr)
        return 1
    print(f"admin account {args.email} created: {account_id}")
    return 0


def _duration(text: str) -> timedelta:
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError("a duration such as 365d, 12h or 30m")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def _verify(args: argparse.Namespace) -> int:
    from directory.database import Database
    from directory.recording import standard_recorder
    from directory.verification.registry import RegistryClient
    from directory.verification.service import VerificationService

    settings = get_settings()

    async def run() -> tuple[int, int, VerificationService]:
        database = Database.from_settings(settings)
        registry = RegistryClient(settings.npi_registry_url, timeout=settings.npi_timeout, retries=settings.npi_retries)
        service = VerificationService(database.writer, registry, standard_recorder(settings.webhook_queue_limit))
        try:
            queued = await service.queue_older_than(args.older_than)
            checked = 0
            while done := await service.run_due():
                checked += done
            return queued, checked, service
        finally:
            await registry.close()
            await database.dispose()

    queued, checked, service = asyncio.run(run())
    print(f"queued for re-verification: {queued}; checked now: {checked}")
    if service.unreachable:
        print(
            f"error: the NPI registry at {settings.npi_registry_url} could not be reached for {service.unreachable} check(s) "
            f"({service.unreachable_reason}); they stay queued and the worker retries them. Check DIRECTORY_NPI_REGISTRY_URL.",
            file=sys.stderr,
        )
        return 1
    return 0


def _import(args: argparse.Namespace) -> int:
    from directory.accounts.callers import ADMIN
    from directory.database import Database
    from directory.errors import DirectoryError
    from directory.geocoding import Geocoder
    from directory.imports.service import ImportService
    from directory.listings.service import ListingService
    from directory.progress import Progress
    from directory.recording import standard_recorder
    from directory.settings import with_secret

    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2

    async def run() -> dict:
        settings = with_secret(get_settings())
        database = Database.from_settings(settings)
        geocoder = Geocoder(settings, database.writer)
        service = ImportService(ListingService(geocoder, settings.secret_key, standard_recorder(settings.webhook_queue_limit), settings.verification_max_age_days, settings.confirmation_max_age_days))
        try:
            progress = None if args.dry_run else Progress("listings written")
            report = await service.run(database.writer, ADMIN, data, atomic=not args.partial, dry_run=args.dry_run, progress=progress)
            return report.as_json()
        finally:
            await geocoder.close()
            await database.dispose()

    started = time.perf_counter()
    try:
        report = asyncio.run(run())
    except DirectoryError as error:
        report = getattr(error, "extra", {}).get("report")
        print(f"import rejected, nothing written: {error.detail}", file=sys.stderr)
        if report is None:
            return 1
        _print_import(report, args.json)
        return 1
    _print_import(report, args.json)
    if not args.json and not args.dry_run:
        took = time.perf_counter() - started
        print(f"{len(report['rows']):,} rows in {took:.1f} s ({len(report['rows']) / max(took, 0.001):,.0f} rows/s)")
    return 1 if any(row["result"] in ("invalid", "failed") for row in report["rows"]) else 0


def _print_import(report: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(report, indent=2))
        return
    for row in report["rows"]:
        if row["errors"]:
            for error in row["errors"]:
                print(f"line {row['line']} ({row['external_id']}): {row['result']}: {error['field']}: {error['reason']}")
    counts = ", ".join(f"{name}: {count}" for name, count in sorted(report["counts"].items()))
    print(("dry run, nothing written; " if report["dry_run"] else "") + f"rows {counts}")


def _bench(_args: argparse.Namespace) -> int:
    from directory.bench.run import main as bench_main

    return bench_main()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="directory",
        description=__doc__.split("\n\n")[0],
        # Raw: the epilog's lines are kept as written, so the commands in it are never wrapped mid-path.
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Settings come from DIRECTORY_* environment variables (README, Configuration).\n"
        "In a checkout, run it as .venv/bin/directory, or activate the environment first:\n"
        "  . .venv/bin/activate",
    )
    root.add_argument("--debug", action="store_true", help="show the traceback of a failure (or set DIRECTORY_DEBUG=1)")
    commands = root.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, summary: str, description: str | None = None, **options: object) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=description or summary[0].upper() + summary[1:] + ".", **options)

    serve = command(
        "serve",
        "serve the API, the pages and the embed",
        "Serve the API, the pages and the embed with uvicorn. Refuses to start, in one line, when the port "
        "is taken or the database is behind the code. DIRECTORY_WORKER_HEALTHCHECK_SECONDS bounds how long "
        "a worker may take to answer the supervisor before it is replaced.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to listen on (HOST)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port to listen on (PORT)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (more than one needs DIRECTORY_REDIS_URL)")
    serve.set_defaults(run=_serve)

    db = command(
        "db",
        "migrate the database schema",
        "The database schema. upgrade: migrate to a revision (the newest, head, by default), creating the "
        "tables, indexes and PostGIS on a new database; downgrade: back to a revision (base, empty, by "
        "default); current: the database's revision beside the code's. Each says what it did in one line.",
    )
    db.add_argument("action", choices=["upgrade", "downgrade", "current"], help="upgrade, downgrade or current")
    db.add_argument("revision", nargs="?", help="target revision (head for upgrade, base for downgrade)")
    db.set_defaults(run=_db)

    seed = command("seed", "load the taxonomies and the sample directory (idempotent)")
    seed.add_argument("--taxonomy-only", action="store_true", help="skip the sample listings")
    seed.add_argument("--if-empty", action="store_true", help="add sample listings only to an empty directory")
    seed.set_defaults(run=_seed)
    verify = command("verify", "re-verify listings against the NPI registry, and run what is due")
    verify.add_argument("--older-than", type=_duration, default=timedelta(days=365), help="re-check listings last checked before this (365d)")
    verify.set_defaults(run=_verify)

    upkeep.add_commands(command)

    bench = command(
        "bench",
        "benchmark search and reads (settings from BENCH_* variables)",
        "Benchmark the API on a generated directory and print a table of requests per second and latencies. "
        "BENCH_BACKEND (postgres or sqlite), BENCH_LISTINGS, BENCH_SECONDS, BENCH_WORKERS and BENCH_REUSE "
        "come from the environment (README, Performance).",
    )
    bench.set_defaults(run=_bench)

    importing = command("import", "import listings from a CSV file (layout: README, seed/import-template.csv)")
    importing.add_argument("file", help="the CSV file")
    importing.add_argument("--partial", action="store_true", help="write every valid listing even if other rows are invalid")
    importing.add_argument("--dry-run", action="store_true", help="check every row without writing")
    importing.add_argument("--json", action="store_true", help="print the whole report as JSON")
    importing.set_defaults(run=_import)

    users = command(
        "users",
        "manage accounts from the server",
        "Accounts, from the server itself. create-admin: make an administrator account with this email "
        "(the password is read from DIRECTORY_NEW_ADMIN_PASSWORD, else asked for, or read from standard input).",
    )
    users.add_argument("action", choices=["create-admin"], help="create-admin")
    users.add_argument("--email", required=True, help="the account's email address")
    users.set_defaults(run=_users)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    debug = args.debug or os.environ.get("DIRECTORY_DEBUG", "").lower() not in ("", "0", "false", "no")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            raise
        from directory.failures import describe, explain

        database_url = os.environ.get("DIRECTORY_DATABASE_URL", "sqlite+aiosqlite:///./var/directory.db")
        print(explain(error, database_url) or f"error: {describe(error)} (run with --debug to see where)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
