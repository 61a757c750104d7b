"""What a registry record must say for a listing's or a clinician's NPI to pass."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from directory.verification.registry import RegistryRecord

_SUFFIXES = {"llc", "pllc", "inc", "pc", "pa", "corp", "co", "ltd", "lp", "llp", "the", "of", "and", "md"}


@dataclass
class Outcome:
    passed: bool
    details: list[str] = field(default_factory=list)


def name_tokens(name: str) -> set[str]:
    """Lower case, no punctuation, no legal suffixes: "Harbor Ketamine, PLLC" -> {harbor, ketamine}."""
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower().replace("&", " and ")).split()
    return {word for word in words if word not in _SUFFIXES}


def names_match(listed: str, registered: str) -> bool:
    mine, theirs = name_tokens(listed), name_tokens(registered)
    return bool(mine and theirs) and (mine <= theirs or theirs <= mine)


def _exists_active_and(record: RegistryRecord | None, kind: str, wrong_kind: str) -> Outcome:
    """The checks every NPI needs: known to the registry, active, of the expected type."""
    if record is None:
        return Outcome(False, ["the NPI is not in the registry"])
    outcome = Outcome(True)
    if record.enumeration_type != kind:
        outcome.passed = False
        outcome.details.append(wrong_kind)
    if record.basic.status != "A":
        outcome.passed = False
        outcome.details.append("the NPI is not active")
    return outcome


def check_organization(record: RegistryRecord | None, name: str) -> Outcome:
    outcome = _exists_active_and(
        record, "NPI-2", "a listing needs an organisation NPI (NPI-2); this one is an individual's (NPI-1)"
    )
    if record is None:
        return outcome
    registered = record.basic.organization_name or ""
    if not names_match(name, registered):
        outcome.passed = False
        outcome.details.append(f"the registry's name {registered!r} does not match {name!r}")
    return outcome


def check_clinician(record: RegistryRecord | None, first_name: str, last_name: str, licenses: list[dict[str, Any]]) -> Outcome:
    outcome = _exists_active_and(
        record, "NPI-1", "a clinician needs an individual NPI (NPI-1); this one is an organisation's (NPI-2)"
    )
    if record is None:
        return outcome
    if name_tokens(last_name) != name_tokens(record.basic.last_name or "") or (
        name_tokens(first_name) and name_tokens(record.basic.first_name or "") and not names_match(first_name, record.basic.first_name or "")
    ):
        outcome.passed = False
        outcome.details.append(
            f"the registry's name {record.basic.first_name} {record.basic.last_name} does not match {first_name} {last_name}"
        )
    claimed = {(str(item.get("state", "")).upper(), _license(item.get("number"))) for item in licenses}
    registered = {(str(t.state or "").upper(), _license(t.license)) for t in record.taxonomies if t.license}
    if not claimed & registered:
        outcome.passed = False
        outcome.details.append("none of the claimed state licenses is on the registry's record")
    return outcome


def _license(number: object) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(number or "").upper())
