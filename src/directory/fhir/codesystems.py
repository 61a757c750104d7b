"""Our two taxonomies as FHIR CodeSystem resources, at the addresses their ``system`` URLs name:
the hierarchy nested (``hierarchyMeaning: is-a``, each narrower concept also naming its parent),
synonyms as designations, and the standard codes of each concept as properties."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import NotFound
from directory.fhir.resources import Systems
from directory.taxonomy.models import Condition, Service

TABLES = {"condition": (Condition, "Conditions treated"), "service": (Service, "Services offered")}
PARENT_PROPERTY = "http://hl7.org/fhir/concept-properties#parent"
#: SNOMED CT's designation use "Synonym".
SYNONYM_USE = {"system": "http://snomed.info/sct", "code": "900000000000013009", "display": "Synonym"}
STANDARD = {"http://hl7.org/fhir/sid/icd-10-cm": "icd-10-cm", "http://snomed.info/sct": "snomed-ct"}


async def code_system(session: AsyncSession, systems: Systems, name: str) -> dict[str, Any]:
    if name not in TABLES:
        raise NotFound(f"CodeSystem/{name} is not known: this server has CodeSystem/condition and CodeSystem/service")
    table, title = TABLES[name]
    entries = list((await session.execute(select(table).order_by(table.code))).scalars())
    concepts = {entry.code: _concept(entry) for entry in entries}
    roots = []
    for entry in entries:
        if entry.parent in concepts:
            concepts[entry.parent].setdefault("concept", []).append(concepts[entry.code])
        else:
            roots.append(concepts[entry.code])
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": getattr(systems, name),
        "name": title.replace(" ", ""),
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "Infusion provider directory",
        "caseSensitive": True,
        "hierarchyMeaning": "is-a",
        "content": "complete",
        "count": len(entries),
        "property": [
            {"code": "parent", "uri": PARENT_PROPERTY, "description": "the broader concept", "type": "code"},
            *({"code": code, "uri": system, "description": f"the same concept in {code.upper()}", "type": "code"} for system, code in STANDARD.items()),
        ],
        "concept": roots,
    }


def _concept(entry: Condition | Service) -> dict[str, Any]:
    concept: dict[str, Any] = {"code": entry.code, "display": entry.name}
    if entry.description:
        concept["definition"] = entry.description
    designations = [{"language": "en", "use": SYNONYM_USE, "value": synonym} for synonym in entry.synonyms or []]
    for language, words in sorted((entry.translations or {}).items()):  # the display in another language, then its synonyms
        designations += [{"language": language, "value": words["name"]}] if words.get("name") else []
        designations += [{"language": language, "use": SYNONYM_USE, "value": synonym} for synonym in words.get("synonyms", [])]
    if designations:
        concept["designation"] = designations
    properties = [{"code": "parent", "valueCode": entry.parent}] if entry.parent else []
    properties += [{"code": STANDARD[c["system"]], "valueCode": c["code"]} for c in entry.codings or [] if c.get("system") in STANDARD]
    if properties:
        concept["property"] = properties
    return concept
