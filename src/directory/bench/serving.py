"""The app served for a benchmark: a server process of its own on a free port of 127.0.0.1, waited
for until it answers /health, stopped afterwards; and what that process costs (CPU and memory)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ADMIN_TOKEN = "bench-admin-token-" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(url: str, **more: str) -> dict[str, str]:
    """The server's settings for a benchmark: this database, no background workers, no rate limit."""
    return {
        **os.environ,
        "DIRECTORY_DATABASE_URL": url,
        "DIRECTORY_VERIFICATION_WORKER": "false",
        "DIRECTORY_WEBHOOK_WORKER": "false",
        "DIRECTORY_ANONYMOUS_RATE_LIMIT": str(10**9),
        "DIRECTORY_LOG_LEVEL": "WARNING",
        "DIRECTORY_ADMIN_TOKEN": ADMIN_TOKEN,
        "DIRECTORY_SECRET_KEY": os.environ.get("DIRECTORY_SECRET_KEY") or secrets.token_urlsafe(48),
        **more,
    }


def serve_command(port: int, workers: int = 1) -> list[str]:
    """``directory serve`` (uvicorn) on this port."""
    return [sys.executable, "-m", "directory", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


def start(command: Callable[[int], list[str]], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """The server ``command(port)`` started and answering /health; its base URL."""
    port = free_port()
    process = subprocess.Popen(command(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(base + "/health", timeout=30).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        time.sleep(0.25)
    stop(process)
    raise RuntimeError("the server did not answer /health within a minute")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def served(command: Callable[[int], list[str]], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    process, base = start(command, env)
    try:
        yield process, base
    finally:
        stop(process)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc: their own pages (anonymous and
    shared memory), not the file pages they map (code, libraries and SQLite's memory map of the
    database), which are the operating system's page cache, counted once per mapping by VmRSS."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith(("RssAnon:", "RssShmem:")):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return round(total / 1024, 1)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of a process and all its descendants so far, from /proc: the
    server's own work, whatever else the machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / ticks
