"""The command line: migrate and seed a fresh embedded database."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

from conftest import bare_env

from directory import migrate
from directory.progress import Progress


def test_db_upgrade_then_seed_on_a_fresh_sqlite_file(tmp_path):
    env = bare_env(DIRECTORY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "directory", *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    head = migrate.head_revision()
    assert run("db", "upgrade").strip() == f"database upgraded from empty to revision {head}"
    assert run("db", "upgrade").strip() == f"database already at revision {head}: nothing to do"
    assert f"database: {head}; code: {head}" in run("db", "current")
    assert "sample listings added: 0" in run("seed", "--taxonomy-only")
    first = run("seed", "--if-empty")
    samples = len(json.loads((Path(__file__).resolve().parents[1] / "seed" / "sample_providers.json").read_text()))
    assert re.search(rf"sample listings added: {samples}\b", first), first
    assert f"the directory already has {samples} listings: no sample listings added" in run("seed", "--if-empty")

    # The import template loads, and loading it again changes nothing.
    template = str(Path(__file__).resolve().parents[1] / "seed" / "import-template.csv")
    assert "dry run, nothing written; rows valid: 3" in run("import", "--dry-run", template)
    imported = subprocess.run([sys.executable, "-m", "directory", "import", template], env=env, capture_output=True, text=True, timeout=300)
    assert "rows created: 3" in imported.stdout and re.search(r"^3 rows in [\d.]+ s \([\d,]+ rows/s\)$", imported.stdout, re.M), imported.stdout
    assert "2 of 2 listings written" in imported.stderr  # the progress (the template: 3 rows, 2 listings), on standard error
    assert "rows unchanged: 3" in run("import", template)
    rebuilt = run("reindex")  # its progress goes to standard error, its result to standard output
    assert "read model rebuilt:" in rebuilt and "published listings" in rebuilt
    broken = tmp_path / "broken.csv"
    broken.write_text("external_id,name,postal_code\nx-1,Broken Clinic,ABCDE\n")
    done = subprocess.run([sys.executable, "-m", "directory", "import", str(broken)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "line 2 (x-1): invalid: postal_code" in done.stdout, done.stdout + done.stderr


def test_serve_refuses_to_start_on_postgresql_without_a_secret():
    env = bare_env(DIRECTORY_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/unused")
    done = subprocess.run([sys.executable, "-m", "directory", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "DIRECTORY_SECRET_KEY" in done.stderr


def _fails(tmp_path, *args: str, **env: str) -> str:
    """The command's one or two lines on stderr, and its exit status 1."""
    environment = bare_env(**{"DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", **env})
    done = subprocess.run([sys.executable, "-m", "directory", *args], env=environment, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    return done.stderr


def test_start_up_failures_are_one_or_two_lines_that_say_what_to_do(tmp_path):
    secret = {"DIRECTORY_SECRET_KEY": "k" * 40}
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/directory"
    assert "cannot reach PostgreSQL at 127.0.0.1" in _fails(tmp_path, "db", "upgrade", DIRECTORY_DATABASE_URL=unreachable, **secret)
    for url in ("postgres://user@host/db", "mysql://user@host/db"):
        assert "DIRECTORY_DATABASE_URL" in _fails(tmp_path, "db", "upgrade", DIRECTORY_DATABASE_URL=url, **secret)
    assert "DIRECTORY_GEOCODER" in _fails(tmp_path, "seed", DIRECTORY_GEOCODER="bogus")
    # On PostgreSQL, a missing secret is refused before anything is migrated (here, before connecting).
    assert "DIRECTORY_SECRET_KEY" in _fails(tmp_path, "db", "upgrade", DIRECTORY_DATABASE_URL=unreachable)
    # A database behind the code is refused by serve, with the command that fixes it.
    assert "run directory db upgrade" in _fails(tmp_path, "serve", "--port", str(port))
    # --debug shows the traceback.
    debug = subprocess.run(
        [sys.executable, "-m", "directory", "--debug", "db", "upgrade"],
        env=bare_env(DIRECTORY_DATABASE_URL=unreachable, **secret), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_help_is_plain_and_serve_shows_its_defaults():
    done = subprocess.run([sys.executable, "-m", "directory", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "``" not in done.stdout and ".venv/bin/directory" in done.stdout
    serve = subprocess.run([sys.executable, "-m", "directory", "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "(default: 8000)" in serve and "worker processes" in serve


def test_serve_on_a_port_in_use_says_so_in_one_line_before_starting_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stderr = _fails(tmp_path, "serve", "--port", str(port), DIRECTORY_SECRET_KEY="k" * 40)
    assert stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use (another server?): stop it, or serve elsewhere with --port or PORT."


def test_every_command_describes_itself_and_the_activation_hint_is_whole():
    def help_of(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "directory", *args, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "  . .venv/bin/activate\n" in help_of()
    for command, words in {
        "db": ("upgrade: migrate", "downgrade:", "current:"),
        "users": ("create-admin:",),
        "reindex": ("Rebuild the read model",),
        "bench": ("BENCH_BACKEND",),
        "serve": ("DIRECTORY_WORKER_HEALTHCHECK_SECONDS",),
        "seed": ("Load the taxonomies",),
    }.items():
        text = " ".join(help_of(command).split())
        for word in words:
            assert word in text, (command, word, text)


def test_serve_passes_the_worker_health_check_timeout_to_uvicorn(monkeypatch, tmp_path):
    """uvicorn's own 5 s killed workers in a loop on a loaded machine; the setting's default is 60 s.
    With several workers the supervisor is a fresh interpreter given uvicorn's options (it holds
    uvicorn alone); one worker is served in the process itself."""
    import os

    import uvicorn

    from directory import cli
    from directory.settings import Settings, get_settings

    assert Settings().worker_healthcheck_seconds == 60
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    migrate.upgrade(url)
    seen, started = {}, []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(os, "execv", lambda path, argv: started.append((path, argv)))
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    monkeypatch.setenv("DIRECTORY_WORKER_HEALTHCHECK_SECONDS", "90")
    get_settings.cache_clear()
    try:
        cli.main(["serve", "--port", "0", "--workers", "2"])
        assert cli.main(["serve", "--port", "0"]) == 0
    finally:
        get_settings.cache_clear()
    (path, argv), = started
    assert path == sys.executable and argv[:2] == [sys.executable, "-c"]
    options = json.loads(argv[3])
    assert options["timeout_worker_healthcheck"] == 90 and options["workers"] == 2 and options["app"] == "directory.app:create_app"
    assert seen["timeout_worker_healthcheck"] == 90 and seen["workers"] == 1
    probe = f"import json, sys, uvicorn; uvicorn.run = lambda **kw: print(json.dumps(kw)); exec({argv[2]!r})"
    done = subprocess.run([sys.executable, "-c", probe, argv[3]], capture_output=True, text=True, timeout=60, env=bare_env())
    assert done.returncode == 0 and json.loads(done.stdout) == options, done.stderr


def test_a_server_worker_and_the_command_line_start_without_what_they_do_not_use():
    """Importing the app (what each uvicorn worker does) and the command line loads neither Alembic,
    zxcvbn's word lists, OpenTelemetry nor the benchmark: they come when first used."""
    probe = (
        "import sys, directory.app, directory.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'zxcvbn', 'opentelemetry') or m.startswith('directory.bench')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=bare_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal_and_writes_tenths_into_a_log():
    terminal = _Terminal()
    bar = Progress("listings", terminal)
    bar(0, 40)
    bar(40, 40)
    drawn = terminal.getvalue()
    assert drawn.startswith("\r[------------------------] 0 of 40 listings") and "\r[########################] 40 of 40 listings" in drawn
    assert drawn.endswith("\n") and drawn.count("\n") == 1
    log = io.StringIO()
    bar = Progress("rows", log)
    for done in range(0, 1001):
        bar(done, 1000)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("  1,000 of 1,000 rows") and all("\r" not in line for line in lines)
