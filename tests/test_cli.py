"""The command line: migrate and seed a fresh embedded database."""

from __future__ import annotations

import subprocess
import sys


def test_db_upgrade_then_seed_on_a_fresh_sqlite_file(tmp_path):
    env = {"DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "directory", *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    assert "database: 0008; code: 0008" in run("db", "current")
    assert "sample listings added: 0" in run("seed", "--taxonomy-only")
    first = run("seed", "--if-empty")
    assert "sample listings added: 8" in first  # 80-odd
    assert "sample listings added: 0" in run("seed", "--if-empty")


def test_serve_refuses_to_start_on_postgresql_without_a_secret():
    env = {"DIRECTORY_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/unused", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "directory", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "DIRECTORY_SECRET_KEY" in done.stderr
