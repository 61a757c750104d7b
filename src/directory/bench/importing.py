"""The CSV import's rate: a file of new listings, imported the way ``directory import`` does it.

The file comes from the bench's own synthetic listings, placed at real ZIP codes of the offline
place index: a street address, city, state and ZIP on every location, coordinates given on half of
them (the other half placed from the ZIP code, as a partner's file without coordinates is), hours
on half. It is written into a scratch database of its own (fresh schema and taxonomies), so the
figure does not depend on what the bench's main database holds.
"""

from __future__ import annotations

import csv
import io
import random
import time
from typing import Any

from directory.bench.data import listings
from directory.imports.csvfile import COLUMNS


def csv_file(count: int, seed: int = 11) -> bytes:
    """``count`` new listings as an import file, one row per location."""
    from directory.geocoding.offline import zip_codes

    zips = [(code, point) for code, point in zip_codes() if point.latitude or point.longitude]
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for number, item in enumerate(listings(count, seed)):
        for position in range(len(item.locations)):
            code, point = rng.choice(zips)
            city, _, rest = point.label.partition(", ")
            row: dict[str, Any] = {
                "location_name": f"Office {position + 1}",
                "address_line1": f"{100 + number % 900} Main Street",
                "city": city,
                "state": rest.split()[0],
                "postal_code": code,
                "hours": "mon 09:00-17:00; wed 09:00-17:00" if number % 2 else "",
            }
            if rng.random() < 0.5:
                row.update(latitude=round(point.latitude + rng.uniform(-0.01, 0.01), 6), longitude=round(point.longitude + rng.uniform(-0.01, 0.01), 6))
            row["external_id"] = f"import-{number:07d}"
            if position == 0:
                row.update(
                    name=f"Imported Clinic {number:07d}",
                    description="IV ketamine infusions.",
                    phone=f"(555) 555-{number % 10_000:04d}",
                    status="published",
                    accepting_new_patients="true" if item.accepting else "false",
                    telehealth="true" if item.telehealth else "false",
                    telehealth_states="; ".join(item.states),
                    payment_options="self_pay",
                    price_min=item.price_min,
                    price_max=item.price_min + 200,
                    languages="; ".join(item.languages),
                    routes="iv",
                    services="; ".join(item.services),
                    conditions="; ".join(item.conditions),
                )
            writer.writerow(row)
    return out.getvalue().encode()


async def measure(url: str, count: int) -> dict[str, Any]:
    """Import ``count`` new listings into the database at ``url`` (made fresh) and time it."""
    from directory.accounts.callers import ADMIN
    from directory.bench.load import prepare
    from directory.database import Database
    from directory.geocoding import Geocoder
    from directory.imports.service import ImportService
    from directory.listings.service import ListingService
    from directory.recording import standard_recorder
    from directory.settings import Settings

    data = csv_file(count)
    await prepare(url)
    settings = Settings(database_url=url, secret_key="bench-import-" + "x" * 40)
    database = Database.from_settings(settings)
    geocoder = Geocoder(settings, database.writer)
    service = ImportService(ListingService(geocoder, settings.secret_key, standard_recorder(), settings.verification_max_age_days, settings.confirmation_max_age_days))
    try:
        started = time.perf_counter()
        report = await service.run(database.writer, ADMIN, data, atomic=True)
        seconds = time.perf_counter() - started
    finally:
        await geocoder.close()
        await database.dispose()
    created = len({row.id for row in report.rows if row.result == "created"})
    rows = len(report.rows)
    return {"listings": created, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1), "listings_per_s": round(created / seconds, 1)}


async def in_bench(url: str) -> dict[str, Any] | None:
    """The bench's import step: ``BENCH_IMPORT`` new listings (2,000 by default; 0 leaves it out)
    into a scratch database beside the bench's own (``<name>_import`` on PostgreSQL,
    ``var/bench-import.db`` on SQLite)."""
    import os

    from sqlalchemy.engine import make_url

    count = int(os.environ.get("BENCH_IMPORT", 2000))
    if count <= 0:
        return None
    parsed = make_url(url)
    scratch = parsed.set(database=f"{parsed.database}_import") if parsed.get_backend_name() == "postgresql" else parsed.set(database="./var/bench-import.db")
    print(f"importing {count:,} new listings from CSV into a scratch database ...", flush=True)
    figures = await measure(scratch.render_as_string(hide_password=False), count)
    print(f"  import: {figures}", flush=True)
    return figures


def line(figures: dict[str, Any] | None) -> str | None:
    if not figures:
        return None
    return (
        f"CSV import: {figures['rows']:,} rows ({figures['listings']:,} new listings) in {figures['seconds']} s: "
        f"{figures['rows_per_s']} rows/s, {figures['listings_per_s']} listings/s"
    )


if __name__ == "__main__":  # python -m directory.bench.importing <database url> <listings>
    import asyncio
    import sys

    print(asyncio.run(measure(sys.argv[1], int(sys.argv[2]))))
