"""The whole-directory duplicate check (``directory duplicates``): every pair of listings the rules of
``duplicates`` make, found in one pass and stored for the moderators.

Shared keys are grouped by the database (NPI, phone, domain); locations are put on a grid of cells
at least 50 m on a side and compared with the neighbouring cells' only; names are read only for the
pairs that are near. At 1,000,000 listings it takes about half a minute (README, Performance).
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, select, union_all, update
from sqlalchemy.orm import Session

from directory.columns import utcnow
from directory.database import create_engine
from directory.listings.duplicates import (
    CROWD,
    LEFT_OUT,
    NEARBY_M,
    PRECISE,
    DuplicateCandidate,
    metres,
    pair,
    place_key,
    same_place,
    score,
    similar_names,
    site_domain,
)
from directory.listings.models import Location, Provider


@dataclass
class ScanReport:
    listings: int = 0
    locations: int = 0
    pairs: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    new: int = 0
    crowded: int = 0
    """Phone numbers and domains shared by more than ``CROWD`` listings (no pairs made of them)."""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 1)}


async def scan_database(url: str, settings: Any, progress: Callable[[str], None] | None = None) -> ScanReport:
    """``scan`` over the database at ``url`` (``directory duplicates``)."""
    engine = create_engine(url, settings)
    try:
        async with engine.connect() as connection:
            report = await connection.run_sync(lambda sync: scan(Session(bind=sync), progress))
            await connection.commit()
            return report
    finally:
        await engine.dispose()


def scan(session: Session, progress: Callable[[str], None] | None = None) -> ScanReport:
    """Every candidate in the directory, stored (new pairs open; open pairs no longer found dropped).

    Shared keys are grouped by the database (NPI, phone, domain); locations are put on a grid of
    cells at least 50 m on a side and compared with the neighbouring cells' only; names are read
    only for the pairs that are near. Commits at the end."""
    started = time.perf_counter()
    report = ScanReport()
    say = progress or (lambda _text: None)
    live = Provider.status.not_in(LEFT_OUT)
    report.listings = session.execute(select(func.count()).select_from(Provider).where(live)).scalar_one()
    _refresh_domains(session)
    found: dict[tuple[uuid.UUID, uuid.UUID], list[dict[str, str]]] = defaultdict(list)
    phones = union_all(
        select(Provider.id.label("id"), Provider.phone.label("key")).where(live, Provider.phone.is_not(None)),
        select(Location.provider_id, Location.phone).join(Provider, Provider.id == Location.provider_id).where(live, Location.phone.is_not(None)),
    ).subquery()
    for reason, ids, key, crowd in (
        ("npi", Provider.id, Provider.npi, None),
        ("website", Provider.id, Provider.site_domain, CROWD),
        ("phone", phones.c.id, phones.c.key, CROWD),
    ):
        source: Any = phones if reason == "phone" else Provider
        where = [key.is_not(None)] if reason == "phone" else [live, key.is_not(None)]
        shared = select(key).select_from(source).where(*where).group_by(key).having(func.count(func.distinct(ids)) > 1).subquery()
        groups: dict[str, set[uuid.UUID]] = defaultdict(set)
        for value, member in session.execute(select(key, ids).select_from(source).where(*where, key.in_(select(shared)))):
            groups[value].add(member)
        for value, members in groups.items():
            if crowd is not None and len(members) > crowd:
                report.crowded += 1
                continue
            detail = {"npi": f"both list NPI {value}", "website": f"both have a website on {value}", "phone": f"both list the phone number {value}"}[reason]
            ordered = sorted(members, key=str)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    found[(a, b)].append({"reason": reason, "detail": detail})
        say(f"{reason}: {len(groups)} shared values")
    near = _near_pairs(session, live, report)
    say(f"nearby: {len(near)} pairs of locations within {NEARBY_M:.0f} m")
    names = _names(session, {member for key in near for member in key})
    for key, distance in near.items():
        if similar_names(names[key[0]], names[key[1]]):
            found[key].append({"reason": "nearby", "detail": f"a location {distance:.0f} m from one of the other's, under a similar name"})
    report.pairs = len(found)
    for reasons in found.values():
        for reason in reasons:
            report.by_reason[reason["reason"]] = report.by_reason.get(reason["reason"], 0) + 1
    report.new = _store(session, found)
    session.commit()
    report.seconds = time.perf_counter() - started
    return report


def _refresh_domains(session: Session) -> None:
    """Domains are kept as listings change; this catches rows written around the API (bulk loads)."""
    rows = session.execute(select(Provider.id, Provider.website, Provider.site_domain).where(Provider.website.is_not(None))).all()
    stale = [{"key": row.id, "domain": domain} for row in rows if (domain := site_domain(row.website)) != row.site_domain]
    for start in range(0, len(stale), 1000):
        session.execute(
            update(Provider.__table__).where(Provider.__table__.c.id == bindparam("key")).values(site_domain=bindparam("domain")),  # type: ignore[attr-defined]
            stale[start : start + 1000],
        )


def _near_pairs(session: Session, live: Any, report: ScanReport) -> dict[tuple[uuid.UUID, uuid.UUID], float]:
    """Pairs of listings with locations within ``NEARBY_M``: a grid of cells 0.0005° of latitude
    (55 m) by 0.0016° of longitude (at least 50 m up to 72° N), each compared with its neighbours."""
    cells: dict[tuple[int, int], list[tuple[uuid.UUID, float, float, bool, str]]] = defaultdict(list)
    located = select(Location.provider_id, Location.latitude, Location.longitude, Location.coordinate_precision, Location.address_line1, Location.postal_code)
    rows = session.execute(located.join(Provider, Provider.id == Location.provider_id).where(live).execution_options(yield_per=20_000))
    for provider_id, lat, lon, precision, line1, postal in rows:
        cells[(math.floor(lat / 0.0005), math.floor(lon / 0.0016))].append((provider_id, lat, lon, precision in PRECISE, place_key(line1, postal)))
        report.locations += 1
    near: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
    for (y, x), members in cells.items():
        # Each pair of cells once: this cell with itself and with the four "later" neighbours.
        for dy, dx in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):
            others = members if (dy, dx) == (0, 0) else cells.get((y + dy, x + dx))
            if not others:
                continue
            for i, (a, lat_a, lon_a, precise_a, key_a) in enumerate(members):
                for b, lat_b, lon_b, precise_b, key_b in others[i + 1 :] if (dy, dx) == (0, 0) else others:
                    if a == b or not same_place(precise_a, key_a, precise_b, key_b):
                        continue
                    distance = metres(lat_a, lon_a, lat_b, lon_b)
                    if distance <= NEARBY_M:
                        key = pair(a, b)
                        near[key] = min(distance, near.get(key, math.inf))
    return near


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    names: dict[uuid.UUID, str] = {}
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), 500):
        names.update(session.execute(select(Provider.id, Provider.name).where(Provider.id.in_(ordered[start : start + 500]))).all())
    return names


def _store(session: Session, found: Mapping[tuple[uuid.UUID, uuid.UUID], list[dict[str, str]]]) -> int:
    """Found pairs stored; how many are new. Open pairs no longer found are dropped."""
    C = DuplicateCandidate
    existing = {(c.first_id, c.second_id): c for c in session.execute(select(C)).scalars()}
    new = []
    for key, reasons in found.items():
        candidate = existing.pop(key, None)
        if candidate is None:
            new.append({"id": uuid.uuid4(), "first_id": key[0], "second_id": key[1], "reasons": reasons, "score": score(reasons), "status": "open", "found_at": utcnow()})
        elif candidate.status == "open" and candidate.reasons != reasons:
            candidate.reasons, candidate.score = reasons, score(reasons)
    gone = [c.id for c in existing.values() if c.status == "open"]
    for start in range(0, len(gone), 500):
        session.execute(delete(C).where(C.id.in_(gone[start : start + 500])))
    for start in range(0, len(new), 1000):
        session.execute(C.__table__.insert(), new[start : start + 1000])  # type: ignore[attr-defined]
    session.flush()
    return len(new)
