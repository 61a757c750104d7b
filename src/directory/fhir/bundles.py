"""FHIR searchset Bundles: the matches with their distances, the includes, the paging links."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from directory.fhir import resources
from directory.fhir.resources import Systems


def with_cursor(self_url: str, cursor: str) -> str:
    base, _, query = self_url.partition("?")
    pairs = [pair for pair in query.split("&") if pair and not pair.startswith("_cursor=")]
    pairs.append(urlencode({"_cursor": cursor}))
    return f"{base}?{'&'.join(pairs)}"


def bundle(
    systems: Systems,
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]],
    self_url: str,
    next_url: str | None,
    total: int | None,
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = []
    for resource in matches:
        distance = resource.pop("_distance", None)
        search: dict[str, Any] = {"mode": "match"}
        if distance is not None:
            search["extension"] = [{"url": resources.DISTANCE_URL, "valueDistance": distance}]
        entries.append(_entry(systems, resource, search))
    entries.extend(_entry(systems, resource, {"mode": "include"}) for resource in included)
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": resources.instant(datetime.now(timezone.utc)),
    }
    if total is not None:
        result["total"] = total
    result["link"] = links
    if entries:
        result["entry"] = entries
    return result


def _entry(systems: Systems, resource: dict[str, Any], search: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{systems.base}/{resource['resourceType']}/{resource['id']}", "resource": resource, "search": search}
