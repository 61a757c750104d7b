"""The public read model: what the public reads most, stored the way it is read.

Two tables, both derived from the listing tables and never written anywhere else:

- ``search_location``: one row per location of a published listing (one with no place for a
  listing that only offers telehealth: found by the states it serves), carrying everything search
  filters and sorts on as compact columns (bit masks for conditions, services, routes, payment,
  credentials and specialties; flags; JSON arrays of states, insurance carriers and languages; the
  words free text matches) and the ready-to-send JSON of the hit (provider summary and location).
  PostGIS indexes its point (geometry and geography), SQLite an R*Tree kept in step by triggers.
- ``listing_document``: the JSON that GET /v1/providers/{id or slug} answers, with its version.

``refresh`` brings the rows of some listings in step, inside the transaction that changed them (the
recorder in ``changes.py`` calls it); ``rebuild`` makes both tables again from scratch.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, SmallInteger, String, Table, Text, Uuid, delete, false, func, insert, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from directory.collector import bulk_work
from directory.columns import BigKey, UTCDateTime
from directory.listings import presenters
from directory.listings.models import ACCESSIBILITY_LABELS, AccessibilityFeature, Credential, PaymentOption, Provider, ProviderStatus, Route, Specialty
from directory.listings.queries import full_listing
from directory.listings.readwords import add_terms, folded, name_terms, search_term, words_index  # noqa: F401 (search_term re-exported)
from directory.listings.records import published_records
from directory.listings.schemas import LocationSummary, ProviderSummary, TaxonomyRef
from directory.taxonomy.models import Condition, Service, spoken
from directory.words import fold, tokens

search_location = Table(
    "search_location",
    SQLModel.metadata,
    Column("location_id", BigKey, primary_key=True, autoincrement=False),
    Column("provider_id", Uuid, nullable=False, index=True),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("conditions", BigInteger, nullable=False),
    Column("services", BigInteger, nullable=False),
    Column("routes", Integer, nullable=False),
    Column("payment", Integer, nullable=False),
    Column("credentials", Integer, nullable=False),
    Column("specialties", Integer, nullable=False),
    Column("clinicians", Text, nullable=False),
    Column("access", Integer, nullable=False),
    Column("rems", Boolean, nullable=False),
    Column("accepting", Boolean),
    Column("telehealth", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("verified_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("telehealth_states", Text, nullable=False),
    Column("insurance", Text, nullable=False),
    Column("languages", Text, nullable=False),
    Column("price_min", Integer),
    Column("words", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("timezone", String(64)),
    Column("hours", Text, nullable=False),
    Column("sample", SmallInteger, nullable=False),
    Column("summary", Text, nullable=False),
    Column("location", Text, nullable=False),
    #: The listing's only row (counting by listing reads it as it is, without grouping its rows).
    Column("alone", Boolean, nullable=False, server_default=false()),
)

listing_document = Table(
    "listing_document",
    SQLModel.metadata,
    Column("provider_id", Uuid, primary_key=True),
    Column("slug", String(120), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("stale_from", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("document", Text, nullable=False),
)

#: Bit positions of the enumerations: their order of declaration (members are only ever appended).
ENUM_BITS: dict[str, dict[str, int]] = {
    name: {member.value: i for i, member in enumerate(enum)}
    for name, enum in (
        ("routes", Route), ("payment", PaymentOption), ("credentials", Credential), ("specialties", Specialty),
        ("accessibility", AccessibilityFeature),
    )  # fmt: skip
}
#: The sample a provider falls in, 0-63 from a hash of its id; counts over huge areas read only ``sample < SAMPLED``.
SAMPLE_BUCKETS = 64
SAMPLED = 4


def mask(bits: dict[str, int], values: Iterable[str]) -> int:
    """The bit mask of these values; values without a bit are ignored."""
    total = 0
    for value in values:
        bit = bits.get(value)
        if bit is not None:
            total |= 1 << bit
    return total


def json_list(values: Iterable[str]) -> str:
    """A sorted JSON array of the strings as given: a value matches with LIKE on its own quoted JSON
    form in lower case (never by accident as part of another), and facets read the elements back."""
    return json.dumps(sorted({value.strip() for value in values if value.strip()}), separators=(",", ":"))


def sample_of(provider_id: uuid.UUID) -> int:
    return zlib.crc32(provider_id.bytes) % SAMPLE_BUCKETS


class TaxonomyBits:
    """Bit, name and the words of each condition and service code, read once per refresh."""

    def __init__(self, session: Session) -> None:
        self.bits: dict[str, dict[str, int]] = {}
        self.words: dict[str, dict[str, str]] = {}
        for kind, table in (("conditions", Condition), ("services", Service)):
            rows = session.execute(select(table.code, table.name, table.synonyms, table.translations, table.bit, table.parent)).all()
            self.bits[kind], self.words[kind] = _derived(tuple(json.dumps(list(row)) for row in rows))


@functools.lru_cache(maxsize=8)
def _derived(rows: tuple[str, ...]) -> tuple[dict[str, int], dict[str, str]]:
    """The bits and words of a taxonomy's entries (each row as JSON text), worked out once for the
    entries as they are: every change to a listing refreshes its read model, the taxonomy rarely
    changes, and its words took a twelfth of a PATCH."""
    entries = [json.loads(row) for row in rows]
    bits = {code: bit for code, _, _, _, bit, _ in entries if bit is not None}
    own = {code: " ".join([code, *spoken(name, synonyms, translations)]).lower() for code, name, synonyms, translations, _, _ in entries}
    parents = {code: parent for code, _, _, _, _, parent in entries}
    # A listing of an entry is found by the words of the entries above it too (fibromyalgia: chronic
    # pain). Each word once: free text asks whether a row's words contain a word of letters and
    # digits, which lies within one word of the row, so one copy answers as all did (an entry's
    # names, synonyms and translations, and its parents', repeat a great deal: the bench's rows
    # hold 560 characters of words instead of 1,160, the search table's heap a quarter smaller).
    return bits, {code: " ".join(dict.fromkeys(tokens(" ".join(own[above] for above in _lineage(code, parents))))) for code in own}


def _lineage(code: str, parents: dict[str, str | None]) -> list[str]:
    """The code and the codes above it, nearest first (a loop in the seed stops the walk)."""
    found = [code]
    while (parent := parents.get(found[-1])) is not None and parent not in found:
        found.append(parent)
    return found


def project(provider: Provider, taxonomy: TaxonomyBits) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored document and the search rows of one published listing (fully loaded)."""
    public = presenters.provider(provider, stale_after=None, unconfirmed_after=None)  # both decided when read
    document = {
        "provider_id": provider.id,
        "slug": provider.slug,
        "version": provider.version,
        "stale_from": _stale_from(provider),
        "confirmed_at": provider.confirmed_at,
        "document": public.model_dump_json(),
    }
    # By code: the projection must not depend on the order the links were loaded or added in.
    conditions = sorted(link.condition_code for link in provider.conditions)
    services = sorted(offer.service_code for offer in provider.services)
    summary = ProviderSummary(
        id=provider.id,
        slug=provider.slug,
        name=provider.name,
        verified=provider.verification_status == "verified",
        last_verified_at=provider.last_verified_at,
        accepting_new_patients=provider.accepting_new_patients,
        telehealth=provider.telehealth,
        price=presenters.price(provider),
        conditions=[TaxonomyRef(code=c.code, name=c.name) for c in public.conditions],
        services=[TaxonomyRef(code=s.code, name=s.name) for s in public.services],
        website=provider.website,
        phone=provider.phone,
        verification=public.verification,
        confirmation=public.confirmation,
        accepts_consultation_requests=public.accepts_consultation_requests,
    ).model_dump_json()
    clinicians = [role.clinician for role in provider.clinician_roles]
    # Folded words, a line per part: the name first, the description, the conditions and services
    # (with the entries above them), the clinicians' names.
    words = "\n".join(
        [folded(provider.name), folded(provider.description or "")]
        + [taxonomy.words["conditions"].get(code, code) for code in conditions]
        + [taxonomy.words["services"].get(code, code) for code in services]
        + [folded(f"{c.first_name} {c.last_name}") for c in clinicians]
    )
    common = {
        "provider_id": provider.id,
        "conditions": mask(taxonomy.bits["conditions"], conditions),
        "services": mask(taxonomy.bits["services"], services),
        "routes": mask(ENUM_BITS["routes"], provider.routes),
        "payment": mask(ENUM_BITS["payment"], provider.payment_options),
        "credentials": mask(ENUM_BITS["credentials"], [c.credential for c in clinicians]),
        "specialties": mask(ENUM_BITS["specialties"], [c.specialty for c in clinicians if c.specialty]),
        # One clinician with both: "md:anesthesiology" (a credential alone: "md:").
        "clinicians": json_list(clinician_pair(c.credential, c.specialty) for c in clinicians),
        "accepting": provider.accepting_new_patients,
        "telehealth": provider.telehealth,
        "verified": provider.verification_status == "verified",
        "verified_at": provider.last_verified_at if provider.verification_status == "verified" else None,
        "confirmed_at": provider.confirmed_at,
        "telehealth_states": json_list(provider.telehealth_states),
        "insurance": json_list(provider.insurance_carriers),
        "languages": json_list(provider.languages),
        "price_min": provider.price_min,
        "words": words,
        "name_key": fold(provider.name),
        "updated_at": provider.updated_at,
        "sample": sample_of(provider.id),
        "summary": summary,
    }
    rows = [
        {
            **common,
            "location_id": location.id,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "timezone": location.timezone,
            "hours": json.dumps(location.hours, separators=(",", ":")),
            "access": mask(ENUM_BITS["accessibility"], location.accessibility_features or []),
            "rems": bool(location.rems_certified),
            # Free text finds a location by its accessibility terms and note too.
            "words": "\n".join([words, *(folded(ACCESSIBILITY_LABELS.get(f, f)) for f in location.accessibility_features or []), folded(location.accessibility or "")]),
            "location": LocationSummary.model_validate(location, from_attributes=True).model_dump_json(),
        }
        for location in provider.locations
    ]
    if not rows and provider.telehealth and provider.telehealth_states:
        # A telehealth-only listing: one row with no place, found by the states it serves (a remote hit).
        rows.append(
            {**common, "location_id": remote_row_id(provider.id), "latitude": None, "longitude": None, "timezone": None, "hours": "[]", "location": "null", "access": 0, "rems": False}
        )
    for row in rows:
        row["alone"] = len(rows) == 1
    return document, rows


def clinician_pair(credential: str, specialty: str | None) -> str:
    return f"{credential}:{specialty or ''}".lower()


def remote_row_id(provider_id: uuid.UUID) -> int:
    """The key of a telehealth-only listing's row: negative, so never a location's id, and stable."""
    return -1 - (provider_id.int & (2**62 - 1))


def _stale_from(provider: Provider) -> datetime | None:
    """When a verified listing's check was made (it turns stale some days later); None if not verified."""
    if provider.verification_status != "verified":
        return None
    return provider.last_verified_at or datetime(1970, 1, 1, tzinfo=timezone.utc)


def refresh(session: Session, provider_ids: Iterable[uuid.UUID], loaded: dict[uuid.UUID, Provider] | None = None) -> None:
    """Bring the read model of these listings in step with the tables, in the caller's transaction.

    ``loaded``: listings already in hand, whole and current, projected as they are; the others are read.
    """
    ids = sorted(set(provider_ids))
    if not ids:
        return
    loaded = loaded or {}
    session.flush()
    words_index(session, search_location, "delete", ids)
    session.execute(delete(search_location).where(search_location.c.provider_id.in_(ids)))
    session.execute(delete(listing_document).where(listing_document.c.provider_id.in_(ids)))
    unread = [key for key in ids if key not in loaded]
    published = [provider for provider in loaded.values() if provider.status == ProviderStatus.published.value]
    if unread:
        published += (
            session.execute(
                full_listing()
                .where(Provider.id.in_(unread), Provider.status == ProviderStatus.published.value)
                .execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
    _write(session, published, TaxonomyBits(session))


def _write(session: Session, providers: Iterable[Provider], taxonomy: TaxonomyBits, *, index_words: bool = True) -> int:
    documents, rows, terms = [], [], set()
    for provider in providers:
        document, locations = project(provider, taxonomy)
        documents.append(document)
        rows += locations
        terms |= name_terms(provider)
    if documents:
        session.execute(insert(listing_document), documents)
    if rows:
        session.execute(insert(search_location), rows)
        if index_words:
            words_index(session, search_location, "insert", sorted({row["provider_id"] for row in rows}))
    if terms:
        add_terms(session, terms)
    return len(documents)


def _emptied(session: Session, only_if_missing: bool) -> TaxonomyBits | None:
    """The read model emptied for a rebuild, and the taxonomy's bits to write it with; with
    ``only_if_missing``, None (and nothing touched) unless published listings have no stored
    documents yet (a database just migrated to the read model)."""
    if only_if_missing:
        published = select(Provider.id).where(Provider.status == ProviderStatus.published.value).limit(1)
        if session.execute(published).first() is None or session.execute(select(listing_document.c.provider_id).limit(1)).first():
            return None
    session.execute(delete(search_location))
    session.execute(delete(listing_document))
    return TaxonomyBits(session)


def _rewrite(session: Session, ids: list[uuid.UUID], taxonomy: TaxonomyBits) -> int:
    # Read as plain records: the ORM's objects cost more than projecting them (``records``).
    return _write(session, published_records(session, ids), taxonomy, index_words=False)


async def reindex(
    engine: Any, progress: Callable[[int, int], None] | None = None, *, only_if_missing: bool = False, jobs: int | None = None, batch: int = 500
) -> int | None:
    """Make the whole read model again from the tables; how many listings it holds (None if skipped,
    see ``_emptied``). Batches of ``batch`` listings, each committed; on PostgreSQL ``jobs`` (2 by
    default) write at once on connections of their own, so that one builds its batch in Python while
    the database stores another's (SQLite has one writer: one job)."""
    async with engine.connect() as connection:
        taxonomy = await connection.run_sync(lambda sync: _emptied(Session(bind=sync), only_if_missing))
        total = (await connection.execute(select(func.count()).select_from(Provider).where(Provider.status == ProviderStatus.published.value))).scalar_one()
        await connection.commit()
    if taxonomy is None:
        return None
    jobs = jobs or (2 if engine.dialect.name == "postgresql" else 1)
    turn, done, last = asyncio.Lock(), 0, None

    async def work() -> None:
        nonlocal done, last
        async with engine.connect() as connection:
            while True:
                async with turn:  # the next batch of ids, in order, to one job only
                    query = select(Provider.id).where(Provider.status == ProviderStatus.published.value).order_by(Provider.id).limit(batch)
                    ids = list((await connection.execute(query if last is None else query.where(Provider.id > last))).scalars())
                    last = ids[-1] if ids else last
                if not ids:
                    return
                written = await connection.run_sync(lambda sync: _rewrite(Session(bind=sync, expire_on_commit=False), ids, taxonomy))
                await connection.commit()
                done += written
                if progress:
                    progress(done, total)

    with bulk_work():  # full collections walk a batch, not the whole process
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, jobs)):
                group.create_task(work())
    # SQLite's words index made again in one pass at the end, five times faster than batch by batch
    # (until then its entries are those from before the rebuild: the locations keep their ids).
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: words_index(Session(bind=sync), search_location, "rebuild"))
        await connection.commit()
    if engine.dialect.name == "postgresql":
        await _vacuumed(engine)
    return done


async def _vacuumed(engine: Any) -> None:
    """Every row of the read model was replaced: vacuumed and analysed at once, so that searches do not
    walk the dead ones (index entries included) until autovacuum comes round. After five rebuilds
    of 100,000 listings with autovacuum off, search A's statement through pgbench ran at 233 a
    second against 2,218; not blocking reads or writes (not FULL), so safe while the server runs."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
        # search_count: the narrow copy the triggers keep (readcount.py), rewritten with the rows.
        await autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {search_location.name}, search_count, {listing_document.name}")


def decided(document: str, stale: bool, unconfirmed: bool) -> str:
    """A stored document or summary with its ``stale`` and ``unconfirmed`` flags as of now. Both are
    stored false; the keys' quoted forms cannot occur inside a JSON string, so each is found once."""
    if stale:
        document = document.replace('"stale":false', '"stale":true', 1)
    if unconfirmed:
        document = document.replace('"unconfirmed":false', '"unconfirmed":true', 1)
    return document
