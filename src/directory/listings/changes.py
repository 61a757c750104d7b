"""The one place where a change to what the public sees is recorded, and the steps of a change.

Every write that can change a published listing (API writes, moderation, verification, claims,
imports, taxonomy renames) runs inside ``Recorder.transaction`` and notes the listings it touched
with ``touch``. Just before the transaction commits, the recorder brings the read model of those
listings in step (``readmodel.refresh``) and hands them to its followers (the change feed and
webhook deliveries, registered by the app), all in the same transaction: a change is either
recorded everywhere or nowhere.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from directory.accounts.callers import Caller
from directory.columns import new_row, utcnow
from directory.errors import Conflict, InvalidInput, PreconditionFailed, PreconditionRequired
from directory.listings import readmodel
from directory.listings.held import PendingChange
from directory.listings.models import (
    Clinician,
    ListingChange,
    Location,
    Provider,
    ProviderClinician,
    ProviderCondition,
    ProviderService,
    ProviderStatus,
    VerificationStatus,
)
from directory.listings.placement import PlacedLocation, inherit_rems
from directory.listings.schemas import ProviderCreate
from directory.listings.slugs import named_slug
from directory.taxonomy.models import Condition, Service

#: Called inside the transaction with the synchronous session, the touched listing ids, and those of
#: them already in hand (whole and current: their state may be read from them).
Follower = Callable[[Session, set[uuid.UUID], dict[uuid.UUID, Provider]], object]

_TOUCHED = "listings_touched"
_LOADED = "listings_loaded"
RECORD_BATCH = 500


def touch(session: AsyncSession | Session, listing: uuid.UUID | Provider) -> None:
    """Note that this listing changed in the current transaction.

    Given the listing itself, loaded whole and changed through its relationships (as
    ``ListingService.changing`` does), the read model is projected from it without loading it again.
    """
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if isinstance(listing, Provider):
        sync.info.setdefault(_LOADED, {})[listing.id] = listing
        listing = listing.id
    sync.info.setdefault(_TOUCHED, set()).add(listing)


class Recorder:
    def __init__(self, followers: Iterable[Follower] = ()) -> None:
        self.followers = list(followers)

    @asynccontextmanager
    async def transaction(self, session: AsyncSession) -> AsyncIterator[AsyncSession]:
        """``session.begin()`` that records every touched listing before it commits."""
        info = session.sync_session.info
        info.pop(_TOUCHED, None), info.pop(_LOADED, None)
        try:
            async with session.begin():
                yield session
                touched: set[uuid.UUID] | None = info.pop(_TOUCHED, None)
                if touched:
                    await session.run_sync(self._record, touched, info.pop(_LOADED, {}))
        finally:
            info.pop(_TOUCHED, None), info.pop(_LOADED, None)

    def _record(self, session: Session, touched: set[uuid.UUID], loaded: dict[uuid.UUID, Provider]) -> None:
        session.flush()
        ordered = sorted(touched)
        # In slices: a change can touch very many listings (re-queueing old verifications), and
        # SQLite takes at most 32,766 parameters in a statement.
        for start in range(0, len(ordered), RECORD_BATCH):
            batch = set(ordered[start : start + RECORD_BATCH])
            in_hand = {key: loaded[key] for key in batch if key in loaded}
            readmodel.refresh(session, batch, in_hand)
            for follower in self.followers:
                follower(session, batch, in_hand)
        session.flush()

    async def refresh(self, session: AsyncSession, provider_ids: Iterable[uuid.UUID]) -> None:
        """Only the read model, for changes that are not the listing's own (a taxonomy entry renamed)."""
        ordered = sorted(set(provider_ids))
        for start in range(0, len(ordered), RECORD_BATCH):
            await session.run_sync(readmodel.refresh, ordered[start : start + RECORD_BATCH])


# --- the steps of a change --------------------------------------------------------------------

PROVIDER_SCALARS = (
    "name description translations website phone email npi status accepting_new_patients telehealth telehealth_states "
    "payment_options insurance_carriers languages routes rems_certified"
).split()
CLINICIAN_SCALARS = "first_name last_name credential specialty npi board_certifications".split()


def check_if_match(provider: Provider, if_match: str | None, *, required: bool = True) -> None:
    """If-Match is required to change or remove anything; adding a location or clinician
    overwrites nothing, so there it is checked only when sent. ``*`` matches any version. An empty
    If-Match names no version at all: it is as if none were sent."""
    if if_match is not None and not if_match.strip():
        if_match = None
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f'send If-Match with the listing\'s ETag (now "{provider.version}") so that no one else\'s change is overwritten'
            )
        return
    candidates = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if if_match.strip() != "*" and str(provider.version) not in candidates:
        raise PreconditionFailed(f"the listing is at version {provider.version}; reload it and apply your change again")


async def bump_version(session: AsyncSession, provider: Provider) -> None:
    """Move the listing to its next version, only if no one else has since the caller read it.

    The conditional UPDATE is what makes concurrent edits safe on PostgreSQL (a second writer waits
    for the first and then finds the version moved); SQLite serialises write transactions anyway.
    """
    now = utcnow()
    moved = await session.execute(
        update(Provider)
        .where(Provider.id == provider.id, Provider.version == provider.version)
        .values(version=provider.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise PreconditionFailed("the listing was changed meanwhile; reload it and apply your change again")
    # As the database now holds them: the flush of the change itself does not write them again.
    set_committed_value(provider, "version", provider.version + 1)
    set_committed_value(provider, "updated_at", now)
    touch(session, provider.id)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose values differ, with both values."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


async def rename(session: AsyncSession, provider: Provider, name: str) -> None:
    """A new name; until the listing is first published its slug follows the name (links to a
    published listing are never broken: its slug stays)."""
    provider.name = name
    if provider.published_at is None:
        city = provider.locations[0].city if provider.locations else None
        provider.slug = await named_slug(session, name, city, exclude_id=provider.id)


def record_change(session: AsyncSession, provider_id: uuid.UUID, caller: Caller, action: str, changes: dict[str, Any], reason: str | None = None) -> None:
    session.add(new_row(ListingChange, provider_id=provider_id, actor=caller.label, action=action, changes=changes, reason=reason))


def due_now(provider: Provider) -> None:
    """Queue a listing for verification (its NPIs were added or changed, or a moderator asked)."""
    provider.verification_status = VerificationStatus.pending.value
    provider.verification_due_at = utcnow()
    provider.verification_attempts = 0


def hold_trust_changes(
    session: AsyncSession,
    caller: Caller,
    provider: Provider,
    clinician_id: uuid.UUID | None,
    changes: dict[str, Any],
    current: dict[str, Any],
) -> dict[str, Any]:
    """Take the changes to trust fields of a published listing out of ``changes`` and queue them.

    An owner's other changes go live at once; an NPI, credential or license waits for a moderator
    (and then for verification). Moderators' own changes apply directly.
    """
    if caller.moderates or provider.status != ProviderStatus.published.value:
        return {}
    held: dict[str, Any] = {}
    for field, value in current.items():
        if field in changes and changes[field] != value:
            proposed = changes.pop(field)
            session.add(
                PendingChange(
                    provider_id=provider.id, clinician_id=clinician_id, field=field, value=proposed, requested_by=caller.label
                )
            )
            name = f"clinicians.{clinician_id}.{field}" if clinician_id else field
            held[name] = {"before": value, "after": proposed}
    return held


def snapshot(provider: Provider) -> dict[str, Any]:
    """The listing's own fields as JSON values, to compare before and after a change."""
    values = {name: getattr(provider, name) for name in PROVIDER_SCALARS}
    values["status"] = str(getattr(provider.status, "value", provider.status))
    values["price"] = [provider.price_min, provider.price_max, provider.price_currency]
    values["conditions"] = sorted(link.condition_code for link in provider.conditions)
    values["services"] = sorted(
        [offer.service_code, offer.price_min, offer.price_max, offer.session_minutes] for offer in provider.services
    )
    return values


async def flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict("the change conflicts with another listing (a unique value is already taken)") from error


def set_price(provider: Provider, data: Any) -> None:
    price = data.price
    provider.price_min = price.min if price else None
    provider.price_max = price.max if price else None
    provider.price_currency = price.currency if price else "USD"


def offer(offer: Any) -> dict[str, Any]:
    return offer.model_dump(exclude={"code"})


def new_clinician(data: Any) -> Clinician:
    values = data.model_dump(include=set(CLINICIAN_SCALARS) | {"licenses"}, exclude_none=True, mode="json")
    return new_row(Clinician, **values)


def new_location(fields: dict[str, Any], **extra: Any) -> Location:
    """A location row from settled fields (see ``placement``), its hours as rows too."""
    values = dict(fields)
    hours = values.pop("hours")
    location = new_row(Location, **values, **extra)
    location.set_hours(hours)
    return location


async def taxonomy_entries(session: AsyncSession, conditions: list[str], services: list[str]) -> tuple[dict[str, Condition], dict[str, Service]]:
    """The taxonomy entries named, by code; an unknown code is a 422 naming its place in the body."""
    found: list[dict] = []
    for field, table, codes in (("conditions", Condition, conditions), ("services", Service, services)):
        known = {entry.code: entry for entry in (await session.execute(select(table).where(table.code.in_(codes)))).scalars()} if codes else {}
        for position, code in enumerate(codes):
            if code not in known:
                where = f"{field}.{position}" + (".code" if field == "services" else "")
                raise InvalidInput(where, f"unknown {table.__tablename__} code {code!r}; see GET /v1/{field}")
        found.append(known)
    return found[0], found[1]


def new_listing(
    session: AsyncSession,
    caller: Caller,
    data: ProviderCreate,
    placed: list[PlacedLocation],
    conditions: dict[str, Condition],
    services: dict[str, Service],
    slug: str,
    **columns: object,
) -> Provider:
    """A new listing added to the session, nothing asked of the database: its taxonomy entries
    (by code) and a free slug are given. Once it is flushed, ``record_created`` adds its history
    (the history's rows refer to it, and the flush does not order them after it)."""
    provider = new_row(Provider, **data.model_dump(include=set(PROVIDER_SCALARS), exclude_none=True, mode="json"), **columns)
    set_price(provider, data)
    if provider.status == ProviderStatus.published:
        provider.published_at = utcnow()
    if data.npi:
        due_now(provider)  # without an organisation NPI there is nothing to verify
    provider.slug = slug
    inherit_rems(data.rems_certified, data.locations, placed)
    provider.locations = [new_location(p.fields) for p in placed]
    provider.conditions = [new_row(ProviderCondition, condition_code=code, condition=conditions[code]) for code in data.conditions or []]
    provider.services = [new_row(ProviderService, service_code=s.code, service=services[s.code], **offer(s)) for s in data.services or []]
    provider.clinician_roles = [new_row(ProviderClinician, clinician=new_clinician(c), role=c.role) for c in data.clinicians]
    session.add(provider)
    return provider


def record_created(session: AsyncSession, caller: Caller, provider: Provider, reason: str | None = None) -> None:
    """The history entry of a listing just created, and the note that it changed."""
    record_change(session, provider.id, caller, "created", diff({}, snapshot(provider)), reason=reason)
    touch(session, provider)
