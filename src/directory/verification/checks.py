"""What a registry record must say for a listing's or a clinician's NPI to pass."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from directory.verification.names import organisation_matches, person_matches
from directory.verification.registry import RegistryRecord


@dataclass
class Outcome:
    passed: bool
    details: list[str] = field(default_factory=list)


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


def check_organization(record: RegistryRecord | None, name: str, places: list[tuple[str, str]]) -> Outcome:
    """An organisation NPI: known, active, an organisation's; the listing's name is its legal name or
    one of its other names (see ``names``); and a place where the registry says patients are seen is
    in a state of the listing's ``places`` ((state, ZIP) of each location), at the same ZIP code
    when the location gives one."""
    outcome = _exists_active_and(
        record, "NPI-2", "a listing needs an organisation NPI (NPI-2); this one is an individual's (NPI-1)"
    )
    if record is None:
        return outcome
    registered = [record.basic.organization_name or "", *(other.organization_name for other in record.other_names if other.organization_name)]
    if not any(organisation_matches(name, one) for one in registered if one):
        outcome.passed = False
        others = f" or its other names ({', '.join(repr(one) for one in registered[1:])})" if len(registered) > 1 else ""
        outcome.details.append(f"the registry's name {registered[0]!r}{others} does not match {name!r}")
    practice = record.practice_places()
    if practice:
        listed_states = {state for state, _ in places}
        same_state = [(state, zip_code) for state, zip_code in practice if state in listed_states]
        if not same_state:
            outcome.passed = False
            outcome.details.append(
                f"the registry's practice location is in {', '.join(sorted({s for s, _ in practice}))}, "
                f"not in a state of the listing's locations ({', '.join(sorted(listed_states)) or 'none'})"
            )
        elif not any(not zip_code or not listed_zip or zip_code == listed_zip for state, zip_code in same_state for s, listed_zip in places if s == state):
            outcome.passed = False
            outcome.details.append(f"the registry's practice location's ZIP code ({same_state[0][1]}) is none of the listing's in {same_state[0][0]}")
    return outcome


def check_clinician(
    record: RegistryRecord | None, first_name: str, last_name: str, licenses: list[dict[str, Any]], credential: str | None = None
) -> Outcome:
    """An individual NPI: known, active, a person's; the same first and last name; the same
    credential when the registry gives one; and one of the claimed state licenses among the
    registry's taxonomies."""
    outcome = _exists_active_and(
        record, "NPI-1", "a clinician needs an individual NPI (NPI-1); this one is an organisation's (NPI-2)"
    )
    if record is None:
        return outcome
    if not person_matches(first_name, last_name, record.basic.first_name or "", record.basic.last_name or ""):
        outcome.passed = False
        outcome.details.append(
            f"the registry's name {record.basic.first_name} {record.basic.last_name} does not match {first_name} {last_name}"
        )
    registered_credentials = {_license(part) for part in re.split(r"[,;/ ]+", record.basic.credential or "") if _license(part)}
    if credential and registered_credentials and _license(credential) not in registered_credentials:
        outcome.passed = False
        outcome.details.append(f"the registry's credential {record.basic.credential!r} is not {credential}")
    claimed = {(str(item.get("state", "")).upper(), _license(item.get("number"))) for item in licenses}
    registered = {(str(t.state or "").upper(), _license(t.license)) for t in record.taxonomies if t.license}
    if not claimed & registered:
        outcome.passed = False
        outcome.details.append("none of the claimed state licenses is on the registry's record")
    return outcome


def _license(number: object) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(number or "").upper())
