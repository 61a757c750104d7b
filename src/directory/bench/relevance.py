"""The search judgement set: searches a patient would make, each with the listings a careful person
expects first, and how well the API answers them (recall@10 and nDCG@10). ``make relevance``.

The cases live in ``seed/judgements/cases.json``: the place and the words as a patient gives them,
the filters the page would add, and the listings expected, nearest or best first (written by
``seed/generate_judgements.py`` from each case's ``intent``, by brute force over the listings,
never by asking the search). Each case runs against a fresh directory served by ``directory
serve`` on SQLite: the sample directory (``seed/sample_providers.json``) or the synthetic one
(``seed/judgements/synthetic_providers.json``: rural places, telehealth-only clinics, accents,
clinician teams, accessibility and REMS).

A search is sent as the page sends it: the condition box's words become ``condition`` when they
name a condition exactly, ``q`` otherwise; ``beyond_radius=true``; the first ten of the hits (the near ones, then the
remote telehealth ones), then the nearest beyond the radius, count as the answer.

``--src DIR`` serves another checkout's code (its ``src``) with this checkout's cases: how the
figures were before a change. Listing fields that code does not know are left out (and counted).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from directory.bench import serving

SEED = Path(__file__).resolve().parents[3] / "seed"
CASES = SEED / "judgements" / "cases.json"
SYNTHETIC = SEED / "judgements" / "synthetic_providers.json"
TOP = 10
TOKEN = "relevance-" + secrets.token_hex(8)


@dataclass
class Served:
    url: str
    database: Path
    left_out: dict[str, int] = field(default_factory=dict)
    """Listing fields the served code refused, and how many listings lost them."""


@contextmanager
def served(directory: str, src: Path | None = None) -> Iterator[Served]:
    """A scratch SQLite directory (``sample`` or ``synthetic``) served on a free port of 127.0.0.1."""
    scratch = Path(tempfile.mkdtemp(prefix="relevance-"))
    database = scratch / "directory.db"
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "DIRECTORY_MAIL_OUTBOX": str(scratch / "outbox"),
        "DIRECTORY_ADMIN_TOKEN": TOKEN,
        "DIRECTORY_SECRET_KEY": secrets.token_urlsafe(48),
        "DIRECTORY_ANONYMOUS_RATE_LIMIT": str(10**9),
        "DIRECTORY_VERIFICATION_WORKER": "false",
        "DIRECTORY_WEBHOOK_WORKER": "false",
        "DIRECTORY_LOG_LEVEL": "WARNING",
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    command = [sys.executable, "-m", "directory"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*command, "seed", *([] if directory == "sample" else ["--taxonomy-only"])], env=env, check=True, capture_output=True)
    try:
        with serving.served(lambda port: [*command, "serve", "--port", str(port)], env) as (_, url), httpx.Client(base_url=url, timeout=30) as client:
            found = Served(url, database)
            if directory == "synthetic":
                for listing in json.loads(SYNTHETIC.read_text()):
                    _create(client, listing, found.left_out)
            yield found
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _create(client: httpx.Client, listing: dict[str, Any], left_out: dict[str, int]) -> None:
    """POST the listing; fields the served code refuses as unknown are left out and counted."""
    body = json.loads(json.dumps(listing))
    for _ in range(10):
        response = client.post("/v1/providers", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        if response.status_code == 201:
            return
        problem = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        fields = [error.get("field", "") for error in problem.get("errors", [])]
        # From the last to the first: removing an element shifts the indexes of those after it.
        ordered = sorted(fields, key=lambda path: [int(p) if p.isdigit() else -1 for p in path.replace("[", ".").replace("]", "").split(".")], reverse=True)
        if response.status_code not in (400, 422) or not fields or not all(_drop(body, path) for path in ordered):
            raise RuntimeError(f"could not create {listing['name']!r}: {response.status_code} {response.text[:500]}")
        for path in fields:
            name = "".join(c for c in path if not c.isdigit() and c not in "[]").replace("..", ".").strip(".")
            left_out[name] = left_out.get(name, 0) + 1
    raise RuntimeError(f"could not create {listing['name']!r}")


def _drop(body: Any, path: str) -> bool:
    """Remove what a problem's field path names (``locations.0.rems_certified_on``, ``conditions[2]``)."""
    steps: list[str | int] = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        if part:
            steps.append(int(part) if part.isdigit() else part)
    target = body
    for step in steps[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1] if steps else None
    if isinstance(target, dict) and last in target:
        del target[last]
        return True
    if isinstance(target, list) and isinstance(last, int) and last < len(target):
        del target[last]
        return True
    return False


# --- asking as the page asks ---------------------------------------------------------------------


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)).strip()


def condition_words(client: httpx.Client) -> dict[str, str]:
    """The condition box's vocabulary, as the page reads it: codes and names, then synonyms."""
    items = client.get("/v1/conditions").json()["items"]
    words: dict[str, str] = {}
    for item in items:
        for word in (item["code"], item["name"]):
            words.setdefault(word.lower(), item["code"])
    for item in items:
        for word in item.get("synonyms", []):
            words.setdefault(word.lower(), item["code"])
    return words


def page_request(case: dict[str, Any], vocabulary: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": TOP, "beyond_radius": "true"}
    if case.get("place"):
        params["near"] = case["place"]
    words = (case.get("words") or "").strip()
    if words:
        if words.lower() in vocabulary:
            params["condition"] = vocabulary[words.lower()]
        else:
            params["q"] = words
    params.update(case.get("filters", {}))
    return params


def answer(client: httpx.Client, params: dict[str, Any]) -> tuple[list[str], int]:
    response = client.get("/v1/search", params=params)
    if response.status_code != 200:
        return [], response.status_code
    body = response.json()
    hits = [hit["provider"]["slug"] for hit in body.get("items", [])]
    hits += [hit["provider"]["slug"] for hit in body.get("beyond_radius", []) or []]
    return list(dict.fromkeys(hits))[:TOP], 200


# --- the measures --------------------------------------------------------------------------------


def recall(found: list[str], expected: list[str]) -> float:
    wanted = expected[:TOP]
    return 1.0 if not wanted else len(set(found[:TOP]) & set(wanted)) / len(wanted)


def ndcg(found: list[str], expected: list[str]) -> float:
    """Graded by the expected order: the first expected listing counts most (gains n..1)."""
    wanted = expected[:TOP]
    if not wanted:
        return 1.0 if not found else 0.0
    gain = {slug: len(wanted) - i for i, slug in enumerate(wanted)}
    dcg = sum(gain.get(slug, 0) / math.log2(i + 2) for i, slug in enumerate(found[:TOP]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(gain.values(), reverse=True)))
    return dcg / ideal


def run(src: Path | None = None, only: str | None = None) -> dict[str, Any]:
    cases = json.loads(CASES.read_text())["cases"]
    results: dict[str, Any] = {"cases": [], "directories": {}}
    for directory in ("sample", "synthetic"):
        mine = [case for case in cases if case["directory"] == directory and (only is None or only in case["id"])]
        if not mine:
            continue
        with served(directory, src) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            vocabulary = condition_words(client)
            for case in mine:
                params = page_request(case, vocabulary)
                found, status = answer(client, params)
                results["cases"].append(
                    {"id": case["id"], "directory": directory, "status": status, "recall": recall(found, case["expect"]),
                     "ndcg": ndcg(found, case["expect"]), "found": found, "expect": case["expect"][:TOP], "params": params}
                )  # fmt: skip
            results["directories"][directory] = {"left_out": server.left_out}
    return results


def summary(results: dict[str, Any]) -> list[str]:
    lines = [f"{'set':<10} {'cases':>5} {'recall@10':>10} {'nDCG@10':>9}"]
    for name in ("sample", "synthetic", "all"):
        rows = [c for c in results["cases"] if name in ("all", c["directory"])]
        if rows:
            mean_recall = sum(c["recall"] for c in rows) / len(rows)
            mean_ndcg = sum(c["ndcg"] for c in rows) / len(rows)
            lines.append(f"{name:<10} {len(rows):>5} {mean_recall:>10.3f} {mean_ndcg:>9.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relevance", description="Recall@10 and nDCG@10 of the search judgement set.")
    parser.add_argument("--src", type=Path, help="serve this checkout's src directory instead (a before figure)")
    parser.add_argument("--only", help="only the cases whose id contains this")
    parser.add_argument("--json", type=Path, help="also write every case's answer to this file")
    parser.add_argument("--misses", action="store_true", help="list the cases below recall 1 or nDCG 0.9")
    options = parser.parse_args(argv)
    results = run(options.src, options.only)
    for line in summary(results):
        print(line)
    for directory, info in results["directories"].items():
        if info["left_out"]:
            print(f"{directory}: listing fields the served code refused and left out: {info['left_out']}")
    if options.misses:
        for case in results["cases"]:
            if case["recall"] < 1 or case["ndcg"] < 0.9:
                print(f"  {case['id']}: recall {case['recall']:.2f} nDCG {case['ndcg']:.2f} status {case['status']}")
                print(f"    expected {case['expect']}\n    found    {case['found']}")
    if options.json:
        options.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
