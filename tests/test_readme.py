"""The README's shell examples, run as written against a live server on the sample directory.

Every `sh` block of the README that calls the API is run by bash as written, block by block, in
strict mode (`set -euo pipefail`), with only what a reader fills in replaced: the server's address,
`<admin token>` (and the example's `dev-secret`), `<key>` (a key with the read and sync scopes) and
`<listing id>` (a sample listing). `directory` is the real command line, on the server's database.
Each curl must answer 2xx, except those whose sample answer in the README is a problem (their
status must be the sample's). Where a curl is followed by a sample answer (`# {...}`), the answer
must have every field of the sample with the sample's values (`…` stands for any value, a list's
`…` for more items, and `"whsec_…"` for any string that starts so); where a `directory` command is
followed by `# some text`, it must print that text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_TOKEN, LiveServer, make_settings

from directory.seeding import seed

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent


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
    # As the README's webhook example says to start it: a local receiver may be registered.
    settings = make_settings(url, webhook_allow_http=True, webhook_allowed_networks=["127.0.0.1/32"])
    asyncio.run(seed(settings))
    with LiveServer(settings) as live:
        yield live.url, settings


#: Put before each block: curl keeps each answer (status, body) in $ANSWERS in the order called, and
#: fails the block on a status the README does not give; `directory` is the real command.
PRELUDE = r"""
set -euo pipefail
curl() {
  local n body status
  n=$(ls "$ANSWERS" | grep -c '\.status$' || true)
  body="$ANSWERS/$(printf %03d "$n").body"
  status=$(command curl -o "$body" -w '%{http_code}' "$@") || { echo "curl failed: $*" >&2; exit 90; }
  echo "$status" > "$ANSWERS/$(printf %03d "$n").status"
  if ! [ "$status" -ge 200 ] 2>/dev/null || ! [ "$status" -lt 300 ]; then
    grep -qx "$status" "$ANSWERS/expected.$(printf %03d "$n")" 2>/dev/null || { echo "HTTP $status from: $* -- $(cat "$body")" >&2; exit 91; }
  fi
  cat "$body"
}
directory() { "$DIRECTORY_PYTHON" -m directory "$@"; }
"""

#: A sample answer: a comment that opens a JSON object, and the comment lines that continue it.
_SAMPLE = re.compile(r"^# (\{.*?)$((?:\n#  .*$)*)", re.M)


def samples(block: str) -> list[tuple[int, Any]]:
    """(index of the curl it follows, the sample as JSON with "…" wildcards) for each sample answer."""
    found = []
    for match in _SAMPLE.finditer(block):
        text = match.group(1) + "".join(line[3:] for line in match.group(2).splitlines())
        text = text[: text.rindex("}") + 1]
        text = re.sub(r",\s*…\s*([\]}])", r"\1", text)  # "…" as more items or fields
        text = re.sub(r":\s*…", ': "…"', text)  # "…" as any value
        calls = sum(line.count("curl ") for line in block[: match.start()].splitlines() if not line.lstrip().startswith("#"))
        found.append((calls - 1, json.loads(text)))
    return found


def printed(block: str) -> list[str]:
    """What a `directory` command in the block is said to print (the comment line after it)."""
    return re.findall(r"^directory [^\n]*\n# ([^{\n][^\n]*)$", block, flags=re.M)


def differences(sample: Any, answer: Any, where: str = "") -> list[str]:
    if sample == "…":
        return []
    if isinstance(sample, str) and sample.endswith("…"):
        return [] if isinstance(answer, str) and answer.startswith(sample[:-1]) else [f"{where}: {answer!r} does not start with {sample[:-1]!r}"]
    if isinstance(sample, dict):
        if not isinstance(answer, dict):
            return [f"{where}: expected an object, got {answer!r}"]
        found = []
        for key, value in sample.items():
            if key not in answer:
                found.append(f"{where}.{key}: missing")
            else:
                found += differences(value, answer[key], f"{where}.{key}")
        return found
    if isinstance(sample, list):
        if not isinstance(answer, list) or len(answer) < len(sample) or (not sample and answer):
            return [f"{where}: expected {len(sample)} item(s) or more, got {answer!r}"[:300]]
        return [d for i, item in enumerate(sample) for d in differences(item, answer[i], f"{where}[{i}]")]
    return [] if sample == answer else [f"{where}: README says {sample!r}, the answer is {answer!r}"]


def run(script: str, base: str, cwd: Path, settings, **fill: str) -> subprocess.CompletedProcess[str]:
    for placeholder, value in fill.items():
        script = script.replace(placeholder, value)
    script = script.replace("http://127.0.0.1:8000", base).replace("localhost:8000", base).replace("@seed/", f"@{ROOT / 'seed'}/")
    script = script.replace(" seed/import-template.csv", f" {ROOT / 'seed' / 'import-template.csv'}")
    answers = cwd / "answers"
    shutil.rmtree(answers, ignore_errors=True)
    answers.mkdir()
    env = {
        "PATH": os.environ["PATH"], "ANSWERS": str(answers), "DIRECTORY_PYTHON": sys.executable,
        "DIRECTORY_DATABASE_URL": settings.database_url, "DIRECTORY_SECRET_KEY": settings.secret_key,
        **{name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")},
    }  # fmt: skip
    for index, sample in samples(script):
        if isinstance(sample, dict) and isinstance(sample.get("status"), int) and sample["status"] >= 400:
            (answers / f"expected.{index:03d}").write_text(f"{sample['status']}\n")
    return subprocess.run(["bash", "-c", PRELUDE + script], capture_output=True, text=True, timeout=180, cwd=cwd, env=env)


def answer(cwd: Path, index: int) -> tuple[int, Any]:
    body = (cwd / "answers" / f"{index:03d}.body").read_text()
    return int((cwd / "answers" / f"{index:03d}.status").read_text()), json.loads(body)


def curl(base: str, command: str, tmp_path: Path, settings, **fill: str) -> str:
    done = run(command, base, tmp_path, settings, **fill)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_has_curl_examples_with_sample_answers():
    assert sum(block.count("curl ") for block in blocks()) >= 25
    assert sum(len(samples(block)) for block in blocks()) >= 10


def test_every_example_in_the_readme_runs_strictly_and_answers_as_its_sample_says(server, tmp_path):
    """Each block runs in one shell, as a reader pastes it (TOKEN=$(...) feeds its later lines)."""
    base, settings = server
    admin = {"<admin token>": ADMIN_TOKEN, "dev-secret": ADMIN_TOKEN}
    made = curl(
        base,
        """curl -s -X POST localhost:8000/v1/admin/api-keys -H 'Authorization: Bearer <admin token>' -H 'Content-Type: application/json' """
        """-d '{"name": "README", "owner_contact": "dev@readme.example", "scopes": ["read", "sync"], "rate_limit": 100000}'""",
        tmp_path,
        settings,
        **admin,
    )
    key = json.loads(made)["key"]
    listing_id = json.loads(curl(base, "curl -s 'localhost:8000/v1/providers?limit=1'", tmp_path, settings))["items"][0]["id"]
    fill = {**admin, "<key>": key, "<listing id>": listing_id}
    compared = 0
    for block in blocks():
        done = run(block, base, tmp_path, settings, **fill)
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        for index, sample in samples(block):
            status, body = answer(tmp_path, index)
            assert differences(sample, body) == [], (block.splitlines()[0], sample, status)
            compared += 1
        for text in printed(block):
            assert text in done.stdout, (text, done.stdout)
    assert compared >= 10


def test_the_samples_are_checked_for_real():
    """The comparison can fail: a wrong name, a missing field, a count that differs."""
    sample = {"items": [{"name": "Anchorage Infusion Therapy"}], "next_cursor": None, "secret": "whsec_…", "id": "…"}
    good = {"items": [{"name": "Anchorage Infusion Therapy", "x": 1}, {"name": "Other"}], "next_cursor": None, "secret": "whsec_abc", "id": "1"}
    assert differences(sample, good) == []
    assert differences(sample, {**good, "items": [{"name": "Fairbanks"}]})
    assert differences(sample, {k: v for k, v in good.items() if k != "id"})
    assert differences(sample, {**good, "secret": "abc"})
    assert differences({"items": []}, {"items": [1]}) and differences({"counts": {"created": 3}}, {"counts": {"created": 2}})


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
