"""The command line: migrate and seed a fresh embedded database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from directory import migrate


def test_db_upgrade_then_seed_on_a_fresh_sqlite_file(tmp_path):
    env = {"DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "directory", *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    head = migrate.head_revision()
    assert f"database: {head}; code: {head}" in run("db", "current")
    assert "sample listings added: 0" in run("seed", "--taxonomy-only")
    first = run("seed", "--if-empty")
    assert "sample listings added: 8" in first  # 80-odd
    assert "sample listings added: 0" in run("seed", "--if-empty")

    # The import template loads, and loading it again changes nothing.
    template = str(Path(__file__).resolve().parents[1] / "seed" / "import-template.csv")
    assert "dry run, nothing written; rows valid: 3" in run("import", "--dry-run", template)
    assert "rows created: 3" in run("import", template)
    assert "rows unchanged: 3" in run("import", template)
    rebuilt = run("reindex")
    assert "read model rebuilt:" in rebuilt and "published listings" in rebuilt
    broken = tmp_path / "broken.csv"
    broken.write_text("external_id,name,postal_code\nx-1,Broken Clinic,ABCDE\n")
    done = subprocess.run([sys.executable, "-m", "directory", "import", str(broken)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "line 2 (x-1): invalid: postal_code" in done.stdout, done.stdout + done.stderr


def test_serve_refuses_to_start_on_postgresql_without_a_secret():
    env = {"DIRECTORY_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/unused", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "directory", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "DIRECTORY_SECRET_KEY" in done.stderr
