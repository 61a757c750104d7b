"""The listing use cases: read one or a page, create, change and close; locations and clinicians.

Every change goes through ``changing``: the recorder's transaction, the listing the caller may
change loaded and locked once (``policy.changeable``), If-Match checked; on leaving, the version
moves on and the change is flushed. The listing in hand is then presented as it is, not reloaded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory import cursors
from directory.accounts.callers import Caller, Role, ensure_can_write
from directory.accounts.models import ProviderOwner
from directory.columns import utcnow
from directory.errors import BadParameter, Conflict, InvalidInput, NotFound, PermissionDenied, invalid_input
from directory.geocoding import Geocoder
from directory.listings import policy, presenters
from directory.listings.changes import (
    PROVIDER_SCALARS,
    Recorder,
    bump_version,
    check_if_match,
    diff,
    due_now,
    flush,
    hold_trust_changes,
    new_clinician,
    new_listing,
    new_location,
    offer,
    record_change,
    record_created,
    rename,
    set_price,
    snapshot,
    taxonomy_entries,
    touch,
)
from directory.listings.duplicates import possible_duplicates
from directory.listings.held import Decision, PendingChange, PendingChangePublic
from directory.listings.history import HistoryEntry, HistoryPage
from directory.listings.models import ListingChange, Location, Provider, ProviderClinician, ProviderCondition, ProviderService, ProviderStatus
from directory.listings.placement import PlacedLocation, Placement
from directory.listings.published import published_document
from directory.listings.queries import by_key, full_listing
from directory.listings.schemas import (
    ClinicianCreate,
    ClinicianPublic,
    ClinicianUpdate,
    LocationCreate,
    LocationPublic,
    LocationUpdate,
    ProviderCreate,
    ProviderPage,
    ProviderPublic,
    ProviderUpdate,
)
from directory.listings.slugs import named_slug

MAX_LOCATIONS = 20
MAX_CLINICIANS = 50


class ListingService:
    def __init__(
        self, geocoder: Geocoder, secret_key: str, recorder: Recorder, stale_after_days: int = 365, unconfirmed_after_days: int = 180
    ) -> None:
        self.placement = Placement(geocoder)
        self.recorder = recorder
        self.secret_key = secret_key
        self.stale_after = timedelta(days=stale_after_days)
        self.unconfirmed_after = timedelta(days=unconfirmed_after_days)

    # --- reads ---------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, caller: Caller, key: str) -> ProviderPublic:
        """A listing by id or slug, if this caller may see it; owners also see what awaits review."""
        provider = await self.load_readable(session, caller, key)
        may_change = caller.role not in (Role.anonymous, Role.partner) and await policy.can_change(session, caller, provider.id)
        return await self.present(session, provider, may_change)

    async def present(self, session: AsyncSession, provider: Provider, may_change: bool = True) -> ProviderPublic:
        """The listing as its reader sees it; those who may change it also see the changes held for review."""
        public = presenters.provider(provider, self.stale_after, self.unconfirmed_after)
        if may_change:
            pending = await session.execute(
                select(PendingChange)
                .where(PendingChange.provider_id == provider.id, PendingChange.status == Decision.pending.value)
                .order_by(PendingChange.requested_at)
            )
            public.pending_changes = [PendingChangePublic.model_validate(c, from_attributes=True) for c in pending.scalars()]
        return public

    async def published_document(self, session: AsyncSession | AsyncConnection, key: str) -> tuple[bytes, int]:
        """The stored public document of a published listing and its version (see ``queries``)."""
        return await published_document(session, key, self.stale_after, self.unconfirmed_after)


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
        query = full_listing().where(policy.readable(caller))
        if status:
            query = query.where(Provider.status.in_([s.value for s in status]))
        if state:
            query = query.where(Provider.id.in_(select(Location.provider_id).where(Location.state == state)))
        if updated_since:
            query = query.where(Provider.updated_at >= updated_since)
        if cursor:
            after_time, after_id = self._decode_list_cursor(cursor)
            query = query.where(tuple_(Provider.updated_at, Provider.id) > tuple_(after_time, after_id))
        providers = list((await session.execute(query.order_by(Provider.updated_at, Provider.id).limit(limit + 1))).scalars())
        next_cursor = None
        if len(providers) > limit:
            providers = providers[:limit]
            last = providers[-1]
            next_cursor = cursors.encode([last.updated_at.isoformat(), str(last.id)], self.secret_key)
        return ProviderPage(items=[presenters.provider(p, self.stale_after, self.unconfirmed_after) for p in providers], next_cursor=next_cursor)

    def _decode_list_cursor(self, cursor: str) -> tuple[datetime, uuid.UUID]:
        values = cursors.decode(cursor, self.secret_key)
        try:
            return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, TypeError, ValueError):
            raise BadParameter("cursor", "this cursor belongs to another query; start again without it") from None

    async def load_readable(self, session: AsyncSession, caller: Caller, key: str | uuid.UUID) -> Provider:
        """The listing by id or slug, if this caller may see it (what a claim or a moderator acts on)."""
        query = full_listing().where(policy.readable(caller), by_key(key))
        provider = (await session.execute(query)).scalar_one_or_none()
        if provider is None:
            raise NotFound(f"no listing {key}")
        return provider

    async def history(self, session: AsyncSession, caller: Caller, key: str, limit: int, cursor: str | None) -> HistoryPage:
        """Every recorded change of a listing, newest first: for its owners and moderators."""
        provider_id = await policy.owned_listing(session, caller, key)
        query = select(ListingChange).where(ListingChange.provider_id == provider_id)
        if cursor:
            values = cursors.decode(cursor, self.secret_key)
            if len(values) != 2 or values[0] != str(provider_id) or not isinstance(values[1], int):
                raise BadParameter("cursor", "this cursor belongs to another query (not this listing's history); start again without it")
            query = query.where(ListingChange.id < values[1])
        rows = list((await session.execute(query.order_by(ListingChange.id.desc()).limit(limit + 1))).scalars())
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = cursors.encode([str(provider_id), rows[-1].id], self.secret_key)
        return HistoryPage(items=[HistoryEntry.model_validate(row, from_attributes=True) for row in rows], next_cursor=next_cursor)

    # --- the skeleton of every change ----------------------------------------------------------

    @asynccontextmanager
    async def changing(
        self, session: AsyncSession, caller: Caller, key: str | uuid.UUID, if_match: str | None, *, required: bool = True
    ) -> AsyncIterator[Provider]:
        """The listing this caller may change, in the recorder's transaction; on leaving, its version moves on."""
        async with self.recorder.transaction(session):
            provider = await policy.changeable(session, caller, key)
            check_if_match(provider, if_match, required=required)
            yield provider
            if caller.role is Role.provider:
                # The clinic's own staff saved it: they stand by it (and the next reminder waits again).
                provider.confirmed_at, provider.confirm_reminded_at = utcnow(), None
            await bump_version(session, provider)
            touch(session, provider)  # whole and changed in place: the read model projects it as it is
            await flush(session)

    # --- provider writes -----------------------------------------------------------------------

    async def create(self, session: AsyncSession, caller: Caller, data: ProviderCreate) -> ProviderPublic:
        """A new listing, owned by the account that created it."""
        ensure_can_write(caller)
        policy.ensure_status_allowed(caller, data.status.value if data.status else None)
        placed = [await self.placement.place(location, f"locations.{i}") for i, location in enumerate(data.locations)]
        async with self.recorder.transaction(session):
            provider = await self.insert(session, caller, data, placed)
            if caller.role is Role.provider:
                provider.confirmed_at = utcnow()
            if caller.account_id is not None:
                session.add(ProviderOwner(provider_id=provider.id, account_id=caller.account_id))
                await flush(session)
        public = await self.present(session, provider, may_change=True)
        public.possible_duplicates = await possible_duplicates(session, provider.id)
        return public

    async def insert(
        self, session: AsyncSession, caller: Caller, data: ProviderCreate, placed: list[PlacedLocation], reason: str | None = None, **columns: object
    ) -> Provider:
        """Add a listing inside the caller's transaction, with its history; its codes are checked here."""
        conditions, services = await taxonomy_entries(session, data.conditions or [], [s.code for s in data.services or []])
        city = placed[0].fields.get("city") if placed else None
        provider = new_listing(session, caller, data, placed, conditions, services, await named_slug(session, data.name, city), **columns)
        await flush(session)
        record_created(session, caller, provider, reason)
        await flush(session)
        return provider

    async def update(self, session: AsyncSession, caller: Caller, key: str, data: ProviderUpdate, if_match: str | None) -> ProviderPublic:
        async with self.changing(session, caller, key, if_match) as provider:
            before = snapshot(provider)
            changes = data.model_dump(include=set(PROVIDER_SCALARS) & data.model_fields_set, mode="json")
            policy.ensure_status_allowed(caller, changes.get("status"), provider.status)
            held = hold_trust_changes(session, caller, provider, None, changes, {"npi": provider.npi})
            if "conditions" in data.model_fields_set or "services" in data.model_fields_set:
                conditions, services = await taxonomy_entries(session, data.conditions or [], [s.code for s in data.services or []])
            telehealth = changes.get("telehealth", provider.telehealth)
            if changes.get("telehealth_states", provider.telehealth_states) and not telehealth:
                raise InvalidInput("telehealth_states", "telehealth_states needs telehealth: true")
            if "name" in changes:
                await rename(session, provider, changes["name"])
            for name, value in changes.items():
                if name != "name":
                    setattr(provider, name, value)
            if provider.npi and ("npi" in changes or ("name" in changes and changes["name"] != before["name"])):
                due_now(provider)  # the registry must confirm the new NPI, or the name against it
            if "price" in data.model_fields_set:
                set_price(provider, data)
            if provider.status == ProviderStatus.published and provider.published_at is None:
                provider.published_at = utcnow()
            if "conditions" in data.model_fields_set:
                provider.conditions = [ProviderCondition(condition_code=c, condition=conditions[c]) for c in data.conditions or []]
            if "services" in data.model_fields_set:
                provider.services = [ProviderService(service_code=s.code, service=services[s.code], **offer(s)) for s in data.services or []]
            record_change(session, provider.id, caller, "updated", diff(before, snapshot(provider)))
            if held:
                record_change(session, provider.id, caller, "trust_change_requested", held)
        return await self.present(session, provider)

    async def confirm(self, session: AsyncSession, caller: Caller, key: str, if_match: str | None) -> ProviderPublic:
        """The clinic says its listing is still correct: ``changing`` sets ``confirmed_at`` for an owner."""
        if caller.role is not Role.provider:
            raise PermissionDenied("only the clinic's own staff (an owner's account) can confirm its details")
        async with self.changing(session, caller, key, if_match, required=False) as provider:
            record_change(session, provider.id, caller, "confirmed", {})
        return await self.present(session, provider)

    async def close(self, session: AsyncSession, caller: Caller, key: str, if_match: str | None) -> ProviderPublic:
        """Soft delete: the listing is marked closed and kept for history."""
        async with self.changing(session, caller, key, if_match) as provider:
            if provider.status != ProviderStatus.closed:
                before = provider.status
                provider.status = ProviderStatus.closed.value
                record_change(session, provider.id, caller, "closed", {"status": {"before": before, "after": "closed"}})
        return await self.present(session, provider)

    # --- locations -----------------------------------------------------------------------------

    async def add_location(self, session: AsyncSession, caller: Caller, key: str, data: LocationCreate, if_match: str | None) -> LocationPublic:
        ensure_can_write(caller)
        placed = await self.placement.place(data, "")
        async with self.changing(session, caller, key, if_match, required=False) as provider:
            if len(provider.locations) >= MAX_LOCATIONS:
                raise Conflict(f"a listing has at most {MAX_LOCATIONS} locations")
            location = new_location(placed.fields)
            provider.locations.append(location)
            await flush(session)
            record_change(session, provider.id, caller, "location_added", {f"locations.{location.id}": {"before": None, "after": presenters.location_input(location)}})
        return presenters.location(location)

    async def update_location(
        self, session: AsyncSession, caller: Caller, key: str, location_id: int, data: LocationUpdate, if_match: str | None
    ) -> LocationPublic:
        # Placing may call the geocoder: read the location first, place it outside any transaction,
        # then change it in a transaction of its own (which checks If-Match again).
        async with self.recorder.transaction(session):
            provider = await policy.changeable(session, caller, key)
            check_if_match(provider, if_match)
            location = _location_of(provider, location_id)
            try:
                merged = LocationCreate.model_validate({**presenters.location_input(location), **data.model_dump(exclude_unset=True)})
            except ValidationError as error:
                # The change is valid alone but not on this location (e.g. it removes every way to place it).
                raise invalid_input(error) from None
        if data.address_changed() and "latitude" not in data.model_fields_set:
            merged = merged.model_copy(update={"latitude": None, "longitude": None})
        placed = await self.placement.place(merged, "", keep=location)
        async with self.changing(session, caller, key, if_match) as provider:
            location = _location_of(provider, location_id)
            before = presenters.location_input(location)
            for name, value in placed.fields.items():
                if name != "hours":
                    setattr(location, name, value)
            location.set_hours(placed.fields["hours"])
            location.updated_at = utcnow()
            changed = diff(before, presenters.location_input(location))
            record_change(session, provider.id, caller, "location_updated", {f"locations.{location_id}.{k}": v for k, v in changed.items()})
        return presenters.location(location)

    async def delete_location(self, session: AsyncSession, caller: Caller, key: str, location_id: int, if_match: str | None) -> None:
        async with self.changing(session, caller, key, if_match) as provider:
            location = _location_of(provider, location_id)
            if provider.status == ProviderStatus.published and len(provider.locations) == 1:
                raise Conflict("a published listing keeps at least one location; add another first or close it")
            before = presenters.location_input(location)
            provider.locations.remove(location)
            record_change(session, provider.id, caller, "location_removed", {f"locations.{location_id}": {"before": before, "after": None}})

    # --- clinicians ----------------------------------------------------------------------------

    async def add_clinician(self, session: AsyncSession, caller: Caller, key: str, data: ClinicianCreate, if_match: str | None) -> ClinicianPublic:
        async with self.changing(session, caller, key, if_match, required=False) as provider:
            if len(provider.clinician_roles) >= MAX_CLINICIANS:
                raise Conflict(f"a listing has at most {MAX_CLINICIANS} clinicians")
            role = ProviderClinician(clinician=new_clinician(data), role=data.role)
            provider.clinician_roles.append(role)
            if provider.npi:
                due_now(provider)
            await flush(session)
            record_change(session, provider.id, caller, "clinician_added", {f"clinicians.{role.clinician_id}": {"before": None, "after": presenters.clinician(role).model_dump(mode="json")}})
        return presenters.clinician(role)

    async def update_clinician(
        self, session: AsyncSession, caller: Caller, key: str, clinician_id: uuid.UUID, data: ClinicianUpdate, if_match: str | None
    ) -> ClinicianPublic:
        async with self.changing(session, caller, key, if_match) as provider:
            role = _role_of(provider, clinician_id)
            before = presenters.clinician(role).model_dump(mode="json")
            changes = data.model_dump(exclude_unset=True, mode="json")
            person = role.clinician
            current = {"npi": person.npi, "credential": person.credential, "licenses": person.licenses}
            held = hold_trust_changes(session, caller, provider, clinician_id, changes, current)
            if held:
                record_change(session, provider.id, caller, "trust_change_requested", held)
            if "role" in changes:
                role.role = changes.pop("role")
            for name, value in changes.items():
                setattr(person, name, value)
            person.updated_at = utcnow()
            if provider.npi and set(changes) & {"first_name", "last_name", "npi", "licenses", "credential"}:
                due_now(provider)
            changed = diff(before, presenters.clinician(role).model_dump(mode="json"))
            record_change(session, provider.id, caller, "clinician_updated", {f"clinicians.{clinician_id}.{k}": v for k, v in changed.items()})
        return presenters.clinician(role)

    async def remove_clinician(self, session: AsyncSession, caller: Caller, key: str, clinician_id: uuid.UUID, if_match: str | None) -> None:
        """End the clinician's role here; a clinician with no role left anywhere is deleted."""
        async with self.changing(session, caller, key, if_match) as provider:
            role = _role_of(provider, clinician_id)
            before = presenters.clinician(role).model_dump(mode="json")
            provider.clinician_roles.remove(role)
            if provider.npi:
                due_now(provider)
            await flush(session)
            others = await session.execute(select(ProviderClinician.provider_id).where(ProviderClinician.clinician_id == clinician_id).limit(1))
            if others.first() is None:
                await session.delete(role.clinician)
            record_change(session, provider.id, caller, "clinician_removed", {f"clinicians.{clinician_id}": {"before": before, "after": None}})



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

