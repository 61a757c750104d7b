"""What the browser tests share: Debian's Chromium launched by its path (Playwright downloads
nothing), a visit that records every request and script error, the directory served by its own
command on a free port, axe-core's serious findings, screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = os.environ.get("DIRECTORY_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("DIRECTORY_TEST_REQUIRE_BROWSER"):
        raise RuntimeError(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

# Chromium's own background traffic (updates, sync, safe browsing) is turned off: the only requests
# a page makes are its own.
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
ADMIN_TOKEN = "browser-tests-admin-token"
SHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]




def serve(folder: Path, env: dict[str, str], seed: bool = True) -> tuple[str, subprocess.Popen]:
    """``directory db upgrade``, ``seed`` and ``serve`` on a free port, as `make run` does; the URL."""
    command = [sys.executable, "-m", "directory"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    if seed:
        subprocess.run([*command, "seed"], env=env, check=True, capture_output=True)
    port = free_port()
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url, server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the server did not start:\n" + (folder / "serve.log").read_text())
        time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page with everything it requested and every script error it raised."""

    def __init__(self, browser: object, size: dict[str, int], **context: object) -> None:
        self.context = browser.new_context(viewport=size, **context)  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)

    def open(self, url: str) -> object:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=20_000)
        return self.page

    def settled(self) -> None:
        expect(self.page.locator("#status")).not_to_have_text("Searching…", timeout=20_000)

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.requests if not url.startswith(("data:", "blob:"))}


@pytest.fixture
def visit(browser: object) -> Iterator[object]:
    visits: list[Visit] = []

    def make(size: dict[str, int] = DESKTOP, **context: object) -> Visit:
        visits.append(Visit(browser, size, **context))
        return visits[-1]

    yield make
    for one in visits:
        one.context.close()


def serious_violations(page: object) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shoot(page: object, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def no_horizontal_scroll(page: object) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # type: ignore[attr-defined]


