"""Services of a test's own, started and stopped on purpose: a redis-server on a free port, and a
PostgreSQL cluster (initdb in a temporary folder, PostGIS available from the installed packages)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REDIS = shutil.which("redis-server")


class OwnRedis:
    def __init__(self, folder) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def redis_or_skip() -> None:
    """Without redis-server the Redis tests are skipped, unless DIRECTORY_TEST_REQUIRE_REDIS is set (CI sets it)."""
    if REDIS is None:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_REDIS"):
            pytest.fail("DIRECTORY_TEST_REQUIRE_REDIS is set but redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")


def _postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL server's programs (initdb, pg_ctl)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    return versions[-1].parent if versions else None


def postgres_or_skip() -> Path:
    """initdb and pg_ctl, or a skip (a failure where DIRECTORY_TEST_REQUIRE_POSTGRES is set, as in CI)."""
    folder = _postgres_bin()
    if folder is None:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_POSTGRES"):
            pytest.fail("DIRECTORY_TEST_REQUIRE_POSTGRES is set but PostgreSQL's server programs (initdb) are not installed")
        pytest.skip("PostgreSQL's server programs (initdb) are not installed")
    return folder


class OwnPostgres:
    """A PostgreSQL cluster of the test's own on a free port, trust authentication, no JIT. As root
    (CI), its programs run as the postgres system user, since PostgreSQL refuses to run as root."""

    def __init__(self, programs: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.programs = programs
        # In the system's temporary folder: the postgres user must reach it (pytest's tmp_path is root's alone).
        self.folder = Path(tempfile.mkdtemp(prefix="own-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.programs / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)  # a folder the postgres user may enter
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off -c jit=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clients cut off, a clean shutdown) or ``immediate`` (as a crash: recovery at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
