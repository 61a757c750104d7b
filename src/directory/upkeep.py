"""The upkeep commands of the command line: rebuild the read model, find duplicate listings, and
seal consultation requests again with a new key."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from directory.settings import get_settings


def _duplicates(args: argparse.Namespace) -> int:
    import json

    from directory.listings import duplicate_scan

    settings = get_settings()
    report = asyncio.run(duplicate_scan.scan_database(settings.database_url, settings, None if args.json else print))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    reasons = ", ".join(f"{name}: {count:,}" for name, count in sorted(report.by_reason.items())) or "none"
    crowded = f"; {report.crowded:,} phone numbers or domains shared too widely to pair" if report.crowded else ""
    print(f"{report.pairs:,} possible duplicate pairs ({report.new:,} new) among {report.listings:,} listings in {report.seconds:.1f} s; reasons {reasons}{crowded}")
    print("review them: GET /v1/moderation/duplicates, or the portal's moderation page")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    import time

    from directory.database import create_engine
    from directory.listings import readmodel
    from directory.progress import Progress

    settings = get_settings()
    started = time.perf_counter()
    progress = Progress("listings")

    async def run() -> int:
        engine = create_engine(settings.database_url, settings)
        try:
            postgres = engine.dialect.name == "postgresql"
            return await readmodel.reindex(engine, progress, jobs=(args.jobs or 2) if postgres else 1) or 0
        finally:
            await engine.dispose()

    done = asyncio.run(run())
    took = time.perf_counter() - started
    print(f"read model rebuilt: {done:,} published listings in {took:.0f} s ({done / max(took, 0.001):,.0f} listings/s)")
    return 0


def _consultations(args: argparse.Namespace) -> int:
    from directory.consultations.sealing import reseal_database

    settings = get_settings()
    count = asyncio.run(reseal_database(settings))
    print(f"{count:,} consultation requests sealed again with the first key of DIRECTORY_CONSULTATION_KEYS; older keys may now be dropped")
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    reindex = command(
        "reindex",
        "rebuild the read model (search projection, stored listings) from the tables",
        "Rebuild the read model that search and listing reads use (the search projection and the stored "
        "listing documents) from the listing tables, printing its progress; on PostgreSQL its tables are then "
        "vacuumed and analysed (every row was replaced). Safe while the server runs.",
    )
    reindex.add_argument(
        "--jobs", type=int, default=None, choices=range(1, 9), metavar="N",
        help="batches written at once, each on a connection of its own (PostgreSQL: 2 by default; SQLite: always 1)",
    )  # fmt: skip
    reindex.set_defaults(run=_reindex)

    dupes = command(
        "duplicates",
        "find every possible duplicate listing in the directory",
        "Check the whole directory for pairs of listings that may be one clinic (a shared NPI, phone "
        "number or website domain, or a location within 50 m under a similar name) and store them for "
        "the moderators (GET /v1/moderation/duplicates). Pairs already decided stay decided. Safe while "
        "the server runs; pairs are also found as listings change.",
    )
    dupes.add_argument("--json", action="store_true", help="print the report as JSON")
    dupes.set_defaults(run=_duplicates)

    consultations = command(
        "consultations",
        "upkeep of consultation requests: reseal them with a new key",
        "reseal: seal every stored consultation request again with the first key of "
        "DIRECTORY_CONSULTATION_KEYS (after putting a new key first), so that older keys can be dropped.",
    )
    consultations.add_argument("action", choices=["reseal"], help="reseal")
    consultations.set_defaults(run=_consultations)
