"""Reading and changing listings. Every change runs in one transaction and bumps the listing's version."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory import access, cursors
from directory.access import Caller
from directory.columns import utcnow
from directory.accounts.models import ProviderOwner
from directory.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    invalid_input,
)
from directory.geocoding import Geocoder
from directory.listings import presenters
from directory.listings.changes import Recorder, touch
from directory.listings.history import ListingChange, diff
from directory.listings.queries import full_listing
from directory.listings.readmodel import listing_document
from directory.moderation.models import Decision, PendingChange
from directory.moderation.schemas import PendingChangePublic
from directory.verification.models import VerificationRecord
from directory.verification.service import due_now
from directory.listings.models import (
    Clinician,
    Location,
    Provider,
    ProviderClinician,
    ProviderCondition,
    ProviderService,
    ProviderStatus,
)
from directory.listings.schemas import (
    ClinicianCreate,
    ClinicianPublic,
    ClinicianUpdate,
    HistoryEntry,
    HistoryPage,
    LocationCreate,
    VerificationRecordPublic,
    LocationFields,
    LocationPublic,
    LocationUpdate,
    ProviderCreate,
    ProviderPage,
    ProviderPublic,
    ProviderUpdate,
)
from directory.listings.slugs import slugify, unique_slug
from directory.taxonomy.models import Condition, Service

_PROVIDER_SCALARS = (
    "name description website phone email npi status accepting_new_patients telehealth telehealth_states "
    "payment_options insurance_carriers languages routes rems_certified"
).split()
_LOCATION_SCALARS = (
    "name address_line1 address_line2 city state postal_code country phone timezone accessibility"
).split()
_CLINICIAN_SCALARS = "first_name last_name credential specialty npi board_certifications".split()


@dataclass
class PlacedLocation:
    """A location's fields with its coordinates settled (given or geocoded) before the transaction."""

    fields: dict[str, Any]


class ListingService:
    def __init__(self, geocoder: Geocoder, secret_key: str, recorder: Recorder, stale_after_days: int = 365) -> None:
        self.geocoder = geocoder
        self.recorder = recorder
        self.secret_key = secret_key
        self.stale_after = timedelta(days=stale_after_days)

    # --- reads ---------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, caller: Caller, key: str) -> ProviderPublic:
        """A listing by id or slug, if this caller may see it; owners also see what awaits review."""
        provider = await self._load(session, caller, key)
        public = presenters.provider(provider, self.stale_after)
        if caller.role is not access.Role.anonymous and await access.can_change(session, caller, provider.id):
            pending = await session.execute(
                select(PendingChange)
                .where(PendingChange.provider_id == provider.id, PendingChange.status == Decision.pending.value)
                .order_by(PendingChange.requested_at)
            )
            public.pending_changes = [
                PendingChangePublic.model_validate(change, from_attributes=True) for change in pending.scalars()
            ]
        return public

    async def published_document(self, session: AsyncSession | AsyncConnection, key: str) -> tuple[bytes, int]:
        """The stored public document of a published listing, by id or slug: one indexed row.

        What anonymous callers and partner keys read; its ``stale`` flag is decided now.
        """
        documents = listing_document.c
        provider_id = _as_uuid(key)
        where = documents.provider_id == provider_id if provider_id else documents.slug == key
        row = (await session.execute(select(documents.document, documents.version, documents.stale_from).where(where))).first()
        if row is None:
            raise NotFound(f"no listing {key}")
        document = row.document
        if row.stale_from is not None and row.stale_from < utcnow() - self.stale_after:
            public = json.loads(document)
            public["verification"]["stale"] = True
            document = json.dumps(public, separators=(",", ":"))
        return document.encode(), row.version

    async def list(
        self,
        session: AsyncSession,
        caller: Caller,
        *,
        status: list[ProviderStatus],
        state: str | None,
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> ProviderPage:
        query = full_listing().where(access.readable_providers(caller))
        if status:
            query = query.where(Provider.status.in_([s.value for s in status]))
        if state:
            query = query.where(Provider.id.in_(select(Location.provider_id).where(Location.state == state)))
        if updated_since:
            query = query.where(Provider.updated_at >= updated_since)
        if cursor:
            after_time, after_id = self._decode_list_cursor(cursor)
            query = query.where(tuple_(Provider.updated_at, Provider.id) > tuple_(after_time, after_id))
        rows = (await session.execute(query.order_by(Provider.updated_at, Provider.id).limit(limit + 1))).scalars()
        providers = list(rows)
        next_cursor = None
        if len(providers) > limit:
            providers = providers[:limit]
            last = providers[-1]
            next_cursor = cursors.encode([last.updated_at.isoformat(), str(last.id)], self.secret_key)
        return ProviderPage(items=[presenters.provider(p, self.stale_after) for p in providers], next_cursor=next_cursor)

    def _decode_list_cursor(self, cursor: str) -> tuple[datetime, uuid.UUID]:
        values = cursors.decode(cursor, self.secret_key)
        try:
            return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, TypeError, ValueError):
            raise InvalidInput("cursor", "not a cursor of this list") from None

    async def _load(
        self, session: AsyncSession, caller: Caller, key: str | uuid.UUID, *, for_change: bool = False
    ) -> Provider:
        query = full_listing(for_change).where(access.readable_providers(caller))
        if for_change:
            # Lock the row (PostgreSQL; SQLite serialises writers anyway): a concurrent change waits,
            # and the version checked against If-Match is the one this change will move from.
            query = query.with_for_update(of=Provider).execution_options(populate_existing=True)
        provider_id = _as_uuid(key)
        query = query.where(Provider.id == provider_id) if provider_id else query.where(Provider.slug == str(key))
        provider = (await session.execute(query)).scalar_one_or_none()
        if provider is None:
            raise NotFound(f"no listing {key}")
        return provider

    async def history(
        self, session: AsyncSession, caller: Caller, key: str, limit: int, cursor: str | None
    ) -> HistoryPage:
        """Every recorded change of a listing, newest first: for its owners and moderators."""
        provider = await self._load(session, caller, key)
        await access.ensure_can_change(session, caller, provider)
        query = select(ListingChange).where(ListingChange.provider_id == provider.id)
        if cursor:
            values = cursors.decode(cursor, self.secret_key)
            if len(values) != 2 or values[0] != str(provider.id) or not isinstance(values[1], int):
                raise InvalidInput("cursor", "not a cursor of this listing's history")
            query = query.where(ListingChange.id < values[1])
        rows = list((await session.execute(query.order_by(ListingChange.id.desc()).limit(limit + 1))).scalars())
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = cursors.encode([str(provider.id), rows[-1].id], self.secret_key)
        return HistoryPage(
            items=[HistoryEntry.model_validate(row, from_attributes=True) for row in rows], next_cursor=next_cursor
        )

    # --- provider writes -----------------------------------------------------------------------

    async def create(self, session: AsyncSession, caller: Caller, data: ProviderCreate) -> ProviderPublic:
        """A new listing, owned by the account that created it."""
        access.ensure_can_write(caller)
        access.ensure_status_allowed(caller, data.status.value if data.status else None)
        placed = [await self.place(location, f"locations.{i}") for i, location in enumerate(data.locations)]
        async with self.recorder.transaction(session):
            await self._check_codes(session, data.conditions or [], [s.code for s in data.services or []])
            provider = await self.insert(session, caller, data, placed)
            if caller.account_id is not None:
                session.add(ProviderOwner(provider_id=provider.id, account_id=caller.account_id))
                await _flush(session)
            provider_id = provider.id
        return await self.get(session, caller, str(provider_id))

    async def insert(
        self,
        session: AsyncSession,
        caller: Caller,
        data: ProviderCreate,
        placed: list[PlacedLocation],
        reason: str | None = None,
        **columns: Any,
    ) -> Provider:
        """Add a checked listing inside the caller's transaction, with its history and feed entry."""
        provider = Provider(**data.model_dump(include=set(_PROVIDER_SCALARS), exclude_none=True, mode="json"), **columns)
        _set_price(provider, data)
        if provider.status == ProviderStatus.published:
            provider.published_at = utcnow()
        if data.npi:
            due_now(provider)  # without an organisation NPI there is nothing to verify
        city = placed[0].fields.get("city") if placed else None
        provider.slug = await unique_slug(session, slugify(data.name, city))
        provider.locations = [_new_location(p) for p in placed]
        provider.conditions = [ProviderCondition(condition_code=code) for code in data.conditions or []]
        provider.services = [ProviderService(service_code=s.code, **_offer(s)) for s in data.services or []]
        provider.clinician_roles = [ProviderClinician(clinician=_new_clinician(c), role=c.role) for c in data.clinicians]
        session.add(provider)
        await _flush(session)
        record_change(session, provider.id, caller, "created", diff({}, _snapshot(provider)), reason=reason)
        touch(session, provider.id)
        await _flush(session)
        return provider

    async def update(
        self, session: AsyncSession, caller: Caller, key: str, data: ProviderUpdate, if_match: str | None
    ) -> ProviderPublic:
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            before = _snapshot(provider)
            changes = data.model_dump(include=set(_PROVIDER_SCALARS) & data.model_fields_set, mode="json")
            access.ensure_status_allowed(caller, changes.get("status"), provider.status)
            held = _hold_trust_changes(session, caller, provider, None, changes, {"npi": provider.npi})
            if "conditions" in data.model_fields_set or "services" in data.model_fields_set:
                await self._check_codes(session, data.conditions or [], [s.code for s in data.services or []])
            telehealth = changes.get("telehealth", provider.telehealth)
            states = changes.get("telehealth_states", provider.telehealth_states)
            if states and not telehealth:
                raise InvalidInput("telehealth_states", "telehealth_states needs telehealth: true")
            if "name" in changes and provider.published_at is None:
                city = provider.locations[0].city if provider.locations else None
                provider.slug = await unique_slug(session, slugify(changes["name"], city), exclude_id=provider.id)
            for name, value in changes.items():
                setattr(provider, name, value)
            if provider.npi and ("npi" in changes or ("name" in changes and changes["name"] != before["name"])):
                due_now(provider)  # the registry must confirm the new NPI, or the name against it
            if "price" in data.model_fields_set:
                _set_price(provider, data)
            if provider.status == ProviderStatus.published and provider.published_at is None:
                provider.published_at = utcnow()
            if "conditions" in data.model_fields_set:
                provider.conditions = [ProviderCondition(condition_code=code) for code in data.conditions or []]
            if "services" in data.model_fields_set:
                provider.services = [
                    ProviderService(service_code=s.code, **_offer(s)) for s in data.services or []
                ]
            await bump_version(session, provider)
            record_change(session, provider.id, caller, "updated", diff(before, _snapshot(provider)))
            if held:
                record_change(session, provider.id, caller, "trust_change_requested", held)
            await _flush(session)
        session.expunge_all()
        return await self.get(session, caller, key)

    async def close(self, session: AsyncSession, caller: Caller, key: str, if_match: str | None) -> ProviderPublic:
        """Soft delete: the listing is marked closed and kept for history."""
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            if provider.status != ProviderStatus.closed:
                before = provider.status
                provider.status = ProviderStatus.closed.value
                await bump_version(session, provider)
                record_change(session, provider.id, caller, "closed", {"status": {"before": before, "after": "closed"}})
        session.expunge_all()
        return await self.get(session, caller, key)

    async def verifications(self, session: AsyncSession, caller: Caller, key: str, limit: int) -> list[VerificationRecordPublic]:
        """The registry checks made for a listing, newest first: for its owners and moderators."""
        provider = await self._load(session, caller, key)
        await access.ensure_can_change(session, caller, provider)
        rows = await session.execute(
            select(VerificationRecord)
            .where(VerificationRecord.provider_id == provider.id)
            .order_by(VerificationRecord.id.desc())
            .limit(limit)
        )
        return [VerificationRecordPublic.model_validate(row, from_attributes=True) for row in rows.scalars()]

    async def load_for_decision(self, session: AsyncSession, caller: Caller, key: str) -> Provider:
        """The listing a moderator acts on (or a provider claims): any the caller may read."""
        return await self._load(session, caller, key)

    async def _load_for_change(
        self, session: AsyncSession, caller: Caller, key: str, if_match: str | None, *, required: bool = True
    ) -> Provider:
        """The listing, if this caller may change it and the If-Match precondition holds.

        If-Match is required to change or remove anything; adding a location or clinician
        overwrites nothing, so there it is checked only when sent.
        """
        provider = await self._load(session, caller, key, for_change=True)
        await access.ensure_can_change(session, caller, provider)
        if if_match is None and not required:
            return provider
        if if_match is None:
            raise PreconditionRequired(
                f'send If-Match with the listing\'s ETag (now "{provider.version}") so that no one else\'s change is overwritten'
            )
        if if_match.strip() != "*" and not _etag_matches(if_match, provider.version):
            raise PreconditionFailed(
                f"the listing is at version {provider.version}; reload it and apply your change again"
            )
        return provider

    async def _check_codes(self, session: AsyncSession, conditions: list[str], services: list[str]) -> None:
        for field, table, codes in (("conditions", Condition, conditions), ("services", Service, services)):
            if not codes:
                continue
            known = set((await session.execute(select(table.code).where(table.code.in_(codes)))).scalars())
            for position, code in enumerate(codes):
                if code not in known:
                    where = f"{field}.{position}" + (".code" if field == "services" else "")
                    raise InvalidInput(where, f"unknown {table.__tablename__} code {code!r}; see GET /v1/{field}")

    # --- locations -----------------------------------------------------------------------------

    async def add_location(
        self, session: AsyncSession, caller: Caller, key: str, data: LocationCreate, if_match: str | None
    ) -> LocationPublic:
        access.ensure_can_write(caller)
        placed = await self.place(data, "")
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match, required=False)
            if len(provider.locations) >= 20:
                raise Conflict("a listing has at most 20 locations")
            location = _new_location(placed, provider_id=provider.id)
            session.add(location)
            await bump_version(session, provider)
            await _flush(session)
            record_change(session, provider.id, caller, "location_added", {f"locations.{location.id}": {"before": None, "after": presenters.location_input(location)}})
        return presenters.location(location)

    async def update_location(
        self,
        session: AsyncSession,
        caller: Caller,
        key: str,
        location_id: int,
        data: LocationUpdate,
        if_match: str | None,
    ) -> LocationPublic:
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            location = _location_of(provider, location_id)
            try:
                merged = LocationCreate.model_validate(
                    {**presenters.location_input(location), **data.model_dump(exclude_unset=True)}
                )
            except ValidationError as error:
                # The change is valid alone but not on this location (e.g. it removes every way to place it).
                raise invalid_input(error) from None
        if data.address_changed() and "latitude" not in data.model_fields_set:
            merged = merged.model_copy(update={"latitude": None, "longitude": None})
        placed = await self.place(merged, "", keep=location)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            location = _location_of(provider, location_id)
            before = presenters.location_input(location)
            for name, value in placed.fields.items():
                if name != "hours":
                    setattr(location, name, value)
            location.set_hours(placed.fields["hours"])
            location.updated_at = utcnow()
            await bump_version(session, provider)
            changed = diff(before, presenters.location_input(location))
            record_change(session, provider.id, caller, "location_updated", {f"locations.{location_id}.{k}": v for k, v in changed.items()})
            await _flush(session)
        return presenters.location(location)

    async def delete_location(
        self, session: AsyncSession, caller: Caller, key: str, location_id: int, if_match: str | None
    ) -> None:
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            location = _location_of(provider, location_id)
            if provider.status == ProviderStatus.published and len(provider.locations) == 1:
                raise Conflict("a published listing keeps at least one location; add another first or close it")
            before = presenters.location_input(location)
            provider.locations.remove(location)
            await bump_version(session, provider)
            record_change(session, provider.id, caller, "location_removed", {f"locations.{location_id}": {"before": before, "after": None}})

    async def place(self, data: LocationFields, prefix: str, keep: Location | None = None) -> PlacedLocation:
        """Settle coordinates and time zone; an address nothing can place is a 422 naming the field."""
        fields = data.model_dump(include=set(_LOCATION_SCALARS), exclude_none=True)
        fields["hours"] = [h.model_dump() for h in data.hours or []]
        where = f"{prefix}." if prefix else ""
        address = ", ".join(
            part for part in (data.address_line1, data.city, " ".join(filter(None, (data.state, data.postal_code))))
            if part
        )
        if data.latitude is not None and data.longitude is not None:
            unchanged = keep is not None and (keep.latitude, keep.longitude) == (data.latitude, data.longitude)
            fields.update(latitude=data.latitude, longitude=data.longitude)
            if unchanged and keep is not None:
                fields.update(coordinate_source=keep.coordinate_source, coordinate_precision=keep.coordinate_precision)
            else:
                fields.update(coordinate_source="given", coordinate_precision="exact")
            zone = self.geocoder.offline_timezone(address) if address else None
        else:
            place = await self.geocoder.locate(address)
            if place is None:
                field = "postal_code" if data.postal_code else "city"
                raise InvalidInput(f"{where}{field}", f"could not place the address {address!r}; check it or give latitude and longitude")
            fields.update(
                latitude=place.latitude,
                longitude=place.longitude,
                coordinate_source="geocoded",
                coordinate_precision=place.precision,
            )
            zone = place.timezone or self.geocoder.offline_timezone(address)
            # An address given only as a ZIP code gets its city and state filled in.
            if place.city and not data.city:
                fields["city"] = place.city
            if place.state and not data.state:
                fields["state"] = place.state
        if not data.timezone:
            fields["timezone"] = zone
        if fields["hours"] and not fields.get("timezone"):
            raise InvalidInput(f"{where}timezone", "opening hours need a time zone and none could be inferred")
        return PlacedLocation(fields)

    # --- clinicians ----------------------------------------------------------------------------

    async def add_clinician(
        self, session: AsyncSession, caller: Caller, key: str, data: ClinicianCreate, if_match: str | None
    ) -> ClinicianPublic:
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match, required=False)
            if len(provider.clinician_roles) >= 50:
                raise Conflict("a listing has at most 50 clinicians")
            role = ProviderClinician(provider_id=provider.id, clinician=_new_clinician(data), role=data.role)
            session.add(role)
            if provider.npi:
                due_now(provider)
            await bump_version(session, provider)
            await _flush(session)
            record_change(session, provider.id, caller, "clinician_added", {f"clinicians.{role.clinician_id}": {"before": None, "after": presenters.clinician(role).model_dump(mode="json")}})
        return presenters.clinician(role)

    async def update_clinician(
        self,
        session: AsyncSession,
        caller: Caller,
        key: str,
        clinician_id: uuid.UUID,
        data: ClinicianUpdate,
        if_match: str | None,
    ) -> ClinicianPublic:
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            role = _role_of(provider, clinician_id)
            before = presenters.clinician(role).model_dump(mode="json")
            changes = data.model_dump(exclude_unset=True, mode="json")
            person = role.clinician
            current = {"npi": person.npi, "credential": person.credential, "licenses": person.licenses}
            held = _hold_trust_changes(session, caller, provider, clinician_id, changes, current)
            if held:
                record_change(session, provider.id, caller, "trust_change_requested", held)
            if "role" in changes:
                role.role = changes.pop("role")
            for name, value in changes.items():
                setattr(role.clinician, name, value)
            role.clinician.updated_at = utcnow()
            if provider.npi and set(changes) & {"first_name", "last_name", "npi", "licenses", "credential"}:
                due_now(provider)
            await bump_version(session, provider)
            changed = diff(before, presenters.clinician(role).model_dump(mode="json"))
            record_change(session, provider.id, caller, "clinician_updated", {f"clinicians.{clinician_id}.{k}": v for k, v in changed.items()})
            await _flush(session)
        return presenters.clinician(role)

    async def remove_clinician(
        self, session: AsyncSession, caller: Caller, key: str, clinician_id: uuid.UUID, if_match: str | None
    ) -> None:
        """End the clinician's role here; a clinician with no role left anywhere is deleted."""
        access.ensure_can_write(caller)
        async with self.recorder.transaction(session):
            provider = await self._load_for_change(session, caller, key, if_match)
            role = _role_of(provider, clinician_id)
            before = presenters.clinician(role).model_dump(mode="json")
            provider.clinician_roles.remove(role)
            if provider.npi:
                due_now(provider)
            await _flush(session)
            others = await session.execute(
                select(ProviderClinician.provider_id).where(ProviderClinician.clinician_id == clinician_id).limit(1)
            )
            if others.first() is None:
                await session.delete(role.clinician)
            await bump_version(session, provider)
            record_change(session, provider.id, caller, "clinician_removed", {f"clinicians.{clinician_id}": {"before": before, "after": None}})


def _as_uuid(key: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(key, uuid.UUID):
        return key
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _etag_matches(if_match: str, version: int) -> bool:
    candidates = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    return str(version) in candidates


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
    provider.version += 1
    provider.updated_at = now
    touch(session, provider.id)


def record_change(session: AsyncSession, provider_id: uuid.UUID, caller: Caller, action: str, changes: dict[str, Any], reason: str | None = None) -> None:
    session.add(ListingChange(provider_id=provider_id, actor=caller.label, action=action, changes=changes, reason=reason))


def _hold_trust_changes(
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


def _snapshot(provider: Provider) -> dict[str, Any]:
    """The listing's own fields as JSON values, to compare before and after a change."""
    values = {name: getattr(provider, name) for name in _PROVIDER_SCALARS}
    values["status"] = str(getattr(provider.status, "value", provider.status))
    values["price"] = [provider.price_min, provider.price_max, provider.price_currency]
    values["conditions"] = sorted(link.condition_code for link in provider.conditions)
    values["services"] = sorted(
        [offer.service_code, offer.price_min, offer.price_max, offer.session_minutes] for offer in provider.services
    )
    return values


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict("the change conflicts with another listing (a unique value is already taken)") from error


def _set_price(provider: Provider, data: ProviderCreate | ProviderUpdate) -> None:
    price = data.price
    provider.price_min = price.min if price else None
    provider.price_max = price.max if price else None
    provider.price_currency = price.currency if price else "USD"


def _offer(offer: Any) -> dict[str, Any]:
    return offer.model_dump(exclude={"code"})


def _new_clinician(data: ClinicianCreate) -> Clinician:
    values = data.model_dump(include=set(_CLINICIAN_SCALARS) | {"licenses"}, exclude_none=True, mode="json")
    return Clinician(**values)


def _new_location(placed: PlacedLocation, **extra: Any) -> Location:
    fields = dict(placed.fields)
    hours = fields.pop("hours")
    location = Location(**fields, **extra)
    location.set_hours(hours)
    return location


def _location_of(provider: Provider, location_id: int) -> Location:
    for location in provider.locations:
        if location.id == location_id:
            return location
    raise NotFound(f"listing {provider.slug} has no location {location_id}")


def _role_of(provider: Provider, clinician_id: uuid.UUID) -> ProviderClinician:
    for role in provider.clinician_roles:
        if role.clinician_id == clinician_id:
            return role
    raise NotFound(f"listing {provider.slug} has no clinician {clinician_id}")
