"""Services of a test's own: a redis-server on a free port, started and stopped on purpose."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

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
