"""The OpenAPI document against the live app, checked with tools no one here wrote.

Schemathesis generates requests from the document (examples, boundary values, random and invalid
data, and stateful sequences through its links) and checks every answer against it: no 5xx, only
declared statuses and media types, bodies that match their schemas, invalid input refused, valid
input accepted, required headers required, Allow honest, authentication not ignored. It runs on the
sample directory, as an administrator, with a fixed seed and a bounded number of examples, on each
database. What the document cannot say about valid input is written down in
tests/contract/schemathesis.toml, with the rule behind each exception.

openapi-python-client generates a client from the same document with no warning, and that client
searches (JSON and GeoJSON), reads a problem, and changes a listing with If-Match.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN, LiveServer, empty_listings

from directory.app import create_app
from directory.seeding import seed

pytest.importorskip("schemathesis")

CONTRACT = Path(__file__).parent / "contract"
BIN = Path(sys.executable).parent
EXAMPLES = os.environ.get("DIRECTORY_CONTRACT_EXAMPLES", "40")


def _contract_settings(settings):
    return settings.model_copy(update={"anonymous_rate_limit": 1_000_000, "verification_worker": False, "webhook_worker": False})


async def test_schemathesis_with_every_check_finds_no_failure(settings, tmp_path):
    await empty_listings(settings.database_url)
    await seed(settings)
    with LiveServer(_contract_settings(settings)) as server:
        # A partner key of this directory's own (read and sync): the sync routes are called with it
        # (schemathesis.toml gives it to them), beside the administrator's token.
        import httpx

        made = httpx.post(
            f"{server.url}/v1/admin/api-keys",
            json={"name": "Contract", "owner_contact": "dev@contract.example", "scopes": ["read", "sync"], "rate_limit": 100_000},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert made.status_code == 201, made.text
        run = subprocess.run(
            [
                str(BIN / "schemathesis"), "--config-file", str(CONTRACT / "schemathesis.toml"),
                "run", f"{server.url}/schema/openapi.json",
                "--checks", "all", "--max-examples", EXAMPLES, "--seed", "1", "--workers", "1", "--no-shrink",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
                "--report", "junit", "--report-dir", str(tmp_path),
            ],
            capture_output=True, text=True, timeout=1200, cwd=tmp_path, env={**os.environ, "DIRECTORY_CONTRACT_KEY": made.json()["key"]},
        )  # fmt: skip
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)  # the whole report, kept with the test's files
    assert run.returncode == 0, f"the whole report: {tmp_path / 'schemathesis.txt'}\n" + run.stdout[-12000:] + run.stderr[-2000:]
    counted = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counted and counted.group(1) == counted.group(2) and int(counted.group(1)) >= 3000, run.stdout[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.stdout, run.stdout[-3000:]


def _generate_client(settings, folder: Path) -> tuple[Path, str]:
    document = create_app(settings).openapi_schema.to_schema()
    (folder / "openapi.json").write_text(json.dumps(document))
    config = folder / "config.yml"
    config.write_text((CONTRACT / "openapi-python-client.yml").read_text())
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--config", str(config), "--meta", "none", "--output-path", "directory_client"],
        capture_output=True, text=True, timeout=600, cwd=folder, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return folder / "directory_client", run.stdout + run.stderr


async def test_a_generated_client_has_no_warning_and_works(settings, tmp_path_factory):
    pytest.importorskip("openapi_python_client")
    await empty_listings(settings.database_url)
    await seed(settings)
    folder = tmp_path_factory.mktemp("generated")
    client_dir, output = _generate_client(_contract_settings(settings), folder)
    assert "Warning" not in output and "WARNING" not in output, output
    runner = CONTRACT / "use_generated_client.py"
    with LiveServer(_contract_settings(settings)) as server:
        run = subprocess.run(
            [sys.executable, str(runner), server.url, ADMIN_TOKEN],
            capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(folder)},
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "generated client: all good", run.stdout
