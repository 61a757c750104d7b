"""How far the estimated totals and facets of D are from the exact ones, on the benchmark's data.

The same D searches are answered twice in this process, by an app that estimates beyond the
configured limit and by one that always counts exactly; the errors are relative to the exact counts.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

Search = tuple[str, dict[str, Any]]


async def answers(url: str, searches: list[Search], exact_count_limit: int) -> list[dict[str, Any]]:
    """The JSON answers of these searches from an app in this process counting exactly up to the limit."""
    from litestar.testing import AsyncTestClient

    from directory.app import create_app
    from directory.settings import Settings

    settings = Settings(
        database_url=url, exact_count_limit=exact_count_limit, verification_worker=False, webhook_worker=False,
        anonymous_rate_limit=10**9, log_level="WARNING", secret_key=os.environ.get("DIRECTORY_SECRET_KEY") or secrets.token_urlsafe(48),
    )  # fmt: skip
    answers = []
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path, params in searches:
            response = await client.get(path + "?" + urlencode(params))
            response.raise_for_status()
            answers.append(response.json())
    return answers


def _facet_counts(answer: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {
        (facet, entry["value"]): entry["count"]
        for facet, entries in (answer.get("facets") or {}).items()
        if isinstance(entries, list)
        for entry in entries
    }


def compare(estimated: list[dict[str, Any]], exact: list[dict[str, Any]], smallest: int = 1000) -> dict[str, Any]:
    """The largest relative error of a total, of a facet count of at least ``smallest``, and the
    error of all those facet counts together (sum of absolute errors over sum of counts)."""
    total_errors, facet_errors = [], []
    deviation = counted = 0
    for guess, truth in zip(estimated, exact, strict=True):
        if not guess.get("estimated"):
            continue
        total_errors.append(abs(guess["total"] - truth["total"]) / truth["total"])
        guessed = _facet_counts(guess)
        for key, count in _facet_counts(truth).items():
            if count >= smallest:
                facet_errors.append(abs(guessed.get(key, 0) - count) / count)
                deviation += abs(guessed.get(key, 0) - count)
                counted += count
    return {
        "searches_estimated": len(total_errors),
        "total_max_pct": round(100 * max(total_errors), 2) if total_errors else None,
        "facet_max_pct": round(100 * max(facet_errors), 2) if facet_errors else None,
        "facets_pooled_pct": round(100 * deviation / counted, 2) if counted else None,
        "facets_compared": len(facet_errors),
    }


async def estimate_error(url: str, searches: list[Search], exact_count_limit: int) -> dict[str, Any]:
    estimated = await answers(url, searches, exact_count_limit)
    exact = await answers(url, searches, 10**12)
    return compare(estimated, exact)
