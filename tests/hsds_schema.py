"""Every HSDS answer the suite receives is checked against Open Referral's own HSDS 3.0 schema files.

The schema files are not kept in this repository: they are Open Referral's work (HSDS, licensed
CC BY-SA 4.0, https://github.com/openreferral/specification). A copy of the 3.0 `schema/` folder is
published on PyPI inside the source distribution of `hsds-validator` 0.1.2 (in
`examples/json_schema/`); the suite downloads that file once, checks its SHA-256, and keeps the
schemas under `.cache/hsds-3.0/` (ignored by git). Without network access and without that cache the
check is off (the report header says so), unless DIRECTORY_TEST_REQUIRE_HSDS_SCHEMA is set, as CI does.

Which schema answers which route follows HSDS 3.0's own openapi.json: a record route returns the
record's schema, a list route the `Page` envelope with the records in `contents`. (HSDS's openapi.json
gives `/service_at_locations/{id}` the service schema; this checks it against the service_at_location
schema, which is what that route returns in every HSDS implementation.) The schemas' `$ref`s name
sibling files; they are resolved from the same folder, which is what HSDS's "compiled" schemas are.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

SOURCE = (
    "https://files.pythonhosted.org/packages/65/f2/2fbdf6db5e04edf19666e274f781372489de2d7228dc60afcfe39dde4b70/"
    "hsds_validator-0.1.2.tar.gz"
)
SHA256 = "ce6e7060818b5e06b15f0e491dfacb764e5bf9fefc6cf2f582f296c837cec63c"
MEMBER = re.compile(r"^hsds_validator-0\.1\.2/examples/json_schema/([a-z_]+\.json)$")
FOLDER = Path(__file__).resolve().parent.parent / ".cache" / "hsds-3.0"
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"

#: The record schema each HSDS route returns; list routes return a Page of the same records.
ROUTES = (
    (re.compile(r"^/hsds/organizations(/[^/]+)?$"), "organization.json"),
    (re.compile(r"^/hsds/services(/[^/]+)?$"), "service.json"),
    (re.compile(r"^/hsds/service_at_locations(/[^/]+)?$"), "service_at_location.json"),
    (re.compile(r"^/hsds/taxonomies(/[^/]+)?$"), "taxonomy.json"),
    (re.compile(r"^/hsds/taxonomy_terms(/[^/]+)?$"), "taxonomy_term.json"),
)


class Unavailable(Exception):
    """The schema files could not be had: not cached here, and not downloadable."""


def fetch() -> None:
    """Download the published copy once, check it, and keep its schema files in FOLDER."""
    try:
        with urllib.request.urlopen(SOURCE, timeout=30) as answer:
            data = answer.read()
    except OSError as error:
        raise Unavailable(f"could not download the HSDS 3.0 schema files from {SOURCE}: {error}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise Unavailable(f"{SOURCE} has SHA-256 {digest}, not the expected {SHA256}")
    FOLDER.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            match = MEMBER.match(member.name)
            if match and member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                (FOLDER / match.group(1)).write_bytes(extracted.read())


@cache
def schemas() -> dict[str, dict[str, Any]]:
    if not (FOLDER / "service.json").exists():
        fetch()
    return {path.name: json.loads(path.read_text()) for path in FOLDER.glob("*.json")}


def available() -> bool:
    try:
        schemas()
    except Unavailable:
        if os.environ.get("DIRECTORY_TEST_REQUIRE_HSDS_SCHEMA"):
            raise
        return False
    return True


@cache
def validators() -> dict[str, Any]:
    """A validator per record schema and per page of it, every `$ref` resolved among the files."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    files = schemas()
    registry = Registry().with_resources((BASE + name, Resource(contents=schema, specification=DRAFT202012)) for name, schema in files.items())
    page = files["openapi.json"]["components"]["schemas"]["Page"]
    checker = FormatChecker()
    built = {}
    for _, name in ROUTES:
        built[name] = Draft202012Validator({"$ref": BASE + name}, registry=registry, format_checker=checker)
        envelope = {**page, "properties": {**page["properties"], "contents": {"type": "array", "items": {"$ref": BASE + name}}}}
        built["page:" + name] = Draft202012Validator(envelope, registry=registry, format_checker=checker)
    about = files["openapi.json"]["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    built["about"] = Draft202012Validator(about, format_checker=checker)
    return built


def problems(path: str, body: Any) -> list[str]:
    """What in an HSDS answer breaks its schema (an empty list when it validates)."""
    if path == "/hsds/":
        return [f"{path}: {error.message}" for error in validators()["about"].iter_errors(body)]
    for pattern, name in ROUTES:
        match = pattern.match(path)
        if match:
            validator = validators()[name if match.group(1) else "page:" + name]
            return [f"{path}: {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in validator.iter_errors(body)]
    return []
