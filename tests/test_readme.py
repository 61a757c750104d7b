"""The README's curl examples, run as written against a live server on the sample directory.

Every `sh` block of the README that calls the API is run by bash as written, block by block, with
only what a reader fills in replaced: the server's address, `<admin token>` (and the example's
`dev-secret`), `<key>` (a key with the read and sync scopes), `<id>` and `<listing id>` (a sample
listing). Each curl must answer 2xx, except the one the README itself says is refused (a webhook
on a host that cannot resolve: 422).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN, LiveServer, make_settings

from directory.seeding import seed

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent
#: Examples the README says are refused, with the status they get: a webhook endpoint on a host
#: that cannot resolve (the README says production refuses it with 422 naming `url`).
REFUSED = {"https://partner.example/hooks/directory": 422}


def blocks() -> list[str]:
    """The README's sh blocks that call the API, with continued lines joined."""
    found = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    return [block.replace("\\\n", " ") for block in found if "curl " in block and "8000" in block]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    import asyncio

    from directory import migrate

    if shutil.which("curl") is None:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_CURL"):
            pytest.fail("DIRECTORY_TEST_REQUIRE_CURL is set but curl is not installed (apt-get install curl)")
        pytest.skip("curl is not installed (apt-get install curl)")
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('readme') / 'readme.db'}"
    migrate.upgrade(url)
    settings = make_settings(url)
    asyncio.run(seed(settings))
    with LiveServer(settings) as live:
        yield live.url


#: Put before each block: curl checks each answer's status (2xx, or the refusal the README
#: documents) and prints the body as curl would; `directory` (the command line, which these tests
#: do not cover) does nothing.
PRELUDE = r"""
set -u
curl() {
  local body status expect="2xx"
  body=$(mktemp)
  case "$*" in *partner.example*) expect=422 ;; esac
  status=$(command curl -o "$body" -w '%{http_code}' "$@") || { echo "curl failed: $*" >&2; exit 90; }
  if [ "$expect" = 2xx ]; then
    [ "$status" -ge 200 ] && [ "$status" -lt 300 ] || { echo "HTTP $status from: $* -- $(cat "$body")" >&2; exit 91; }
  else
    [ "$status" = "$expect" ] || { echo "HTTP $status, not $expect, from: $* -- $(cat "$body")" >&2; exit 92; }
  fi
  cat "$body"; rm -f "$body"
}
directory() { :; }
"""


def run(script: str, base: str, cwd: Path, **fill: str) -> subprocess.CompletedProcess[str]:
    for placeholder, value in fill.items():
        script = script.replace(placeholder, value)
    script = script.replace("http://127.0.0.1:8000", base).replace("localhost:8000", base).replace("@seed/", f"@{ROOT / 'seed'}/")
    return subprocess.run(["bash", "-c", PRELUDE + script], capture_output=True, text=True, timeout=120, cwd=cwd)


def curl(base: str, command: str, tmp_path: Path, **fill: str) -> str:
    done = run(command, base, tmp_path, **fill)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_has_curl_examples():
    assert sum(block.count("curl ") for block in blocks()) >= 25


def test_every_curl_example_in_the_readme_answers_as_documented(server, tmp_path):
    """Each block runs in one shell, as a reader pastes it (TOKEN=$(...) feeds its later lines)."""
    admin = {"<admin token>": ADMIN_TOKEN, "dev-secret": ADMIN_TOKEN}
    made = curl(
        server,
        """curl -s -X POST localhost:8000/v1/admin/api-keys -H 'Authorization: Bearer <admin token>' -H 'Content-Type: application/json' """
        """-d '{"name": "README", "owner_contact": "dev@readme.example", "scopes": ["read", "sync"], "rate_limit": 100000}'""",
        tmp_path,
        **admin,
    )
    key = json.loads(made)["key"]
    listing_id = json.loads(curl(server, "curl -s 'localhost:8000/v1/providers?limit=1'", tmp_path))["items"][0]["id"]
    fill = {**admin, "<key>": key, "<listing id>": listing_id, "<id>": listing_id}
    for block in blocks():
        done = run(block, server, tmp_path, **fill)
        assert done.returncode == 0, f"{block}\n{done.stderr}"


def test_the_first_examples_find_what_the_readme_says(server, tmp_path):
    body = curl(server, "curl -s 'http://127.0.0.1:8000/v1/search?near=10001&radius=25&unit=mi&condition=depression'", tmp_path)
    assert json.loads(body)["items"], body
    geojson = json.loads(
        curl(server, "curl -s -H 'Accept: application/geo+json' 'http://127.0.0.1:8000/v1/search?near=10001&radius=25&condition=depression&total=true&facets=true'", tmp_path)
    )
    assert geojson["type"] == "FeatureCollection" and geojson["features"]
    one = json.loads(curl(server, "curl -s http://127.0.0.1:8000/v1/providers/new-york-ketamine-wellness-new-york", tmp_path))
    assert one["slug"] == "new-york-ketamine-wellness-new-york"
    assert 1 <= len(json.loads(curl(server, "curl -s 'http://127.0.0.1:8000/v1/providers?state=AK&limit=5'", tmp_path))["items"]) <= 5


def test_the_settings_table_names_every_setting():
    from directory.settings import Settings

    documented = set(re.findall(r"`(DIRECTORY_[A-Z0-9_]+)`", README.read_text()))
    fields = {f"DIRECTORY_{name.upper()}" for name in Settings.model_fields}
    assert fields - documented == set(), "settings the README does not mention"


def test_the_settings_table_is_the_one_generated_from_the_settings():
    """One row per setting, its default and meaning from the code (make settings-table rewrites it):
    the table once listed the argon2 costs twice, with two different defaults."""
    from directory.settings import markdown_table

    text = README.read_text()
    start = text.index("| variable | default | meaning |")
    assert text[start : text.index("\n\n", start) + 1] == markdown_table(), "run make settings-table"
