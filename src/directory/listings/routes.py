"""The listing routes under /v1/providers: read, create, change and close listings and their parts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from directory.accounts.callers import Caller, Role, identify, writers_only
from directory.errors import BadParameter, NotFound
from directory.listings import schemas
from directory.listings.history import HistoryPage
from directory.listings.models import ProviderStatus
from directory.listings.queries import merged_survivor
from directory.listings.service import ListingService
from directory.validation import US_STATES, moment

Key = Annotated[
    str,
    PathParameter(
        description="the listing's id (UUID) or its slug",
        examples=[Example(value="hudson-valley-ketamine-clinic-new-york")],
        max_length=120,
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        min_length=1,
        max_length=200,
        description='the listing\'s ETag (its version, e.g. `"3"`), or `*` for any version; a stale one gets 412, none (or an empty one) 428',
    ),
]


WRITE_SECURITY = [{"bearer": []}]


@dataclass(frozen=True)
class Change:
    """What every change of a listing passes on: the writer's session, the caller, and If-Match."""

    session: AsyncSession
    caller: Caller
    if_match: str | None


def provide_change(writer: NamedDependency[AsyncSession], caller: NamedDependency[Caller], if_match: IfMatch = None) -> Change:
    return Change(writer, caller, if_match)
PUBLIC_CACHE = "public, max-age=60"


def _with_etag(listing: schemas.ProviderPublic, status_code: int = 200) -> Response[schemas.ProviderPublic]:
    headers = {"ETag": f'"{listing.version}"'}
    if status_code == HTTP_201_CREATED:
        headers["Location"] = f"/v1/providers/{listing.id}"
    return Response(listing, status_code=status_code, headers=headers)


class ProviderController(Controller):
    path = "/v1/providers"
    tags = ["listings"]
    dependencies = {"change": Provide(provide_change, sync_to_thread=False)}

    @get("/", summary="List listings")
    async def list_providers(
        self,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        listings: NamedDependency[ListingService],
        status: Annotated[
            list[ProviderStatus] | None,
            QueryParameter(description="only listings in these states (repeatable); others than published need the admin token"),
        ] = None,
        us_state: Annotated[
            str | None,
            QueryParameter(
                name="state",
                description="only listings with a location in this US state",
                examples=[Example(value="NY")],
            ),
        ] = None,
        updated_since: Annotated[
            str | None,
            QueryParameter(
                description="only listings changed at or after this ISO 8601 time", examples=[Example(value="2026-01-01T00:00:00Z")], format="date-time", max_length=40
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="page size")] = 20,
        cursor: Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=500)] = None,
    ) -> schemas.ProviderPage:
        """A page of listings, oldest change first.

        Anonymous callers see published listings only. Follow `next_cursor` until it is null to walk
        every listing; with `updated_since` this is how a partner catches up on changes.

        Who: anyone. Anonymous callers and partners see published listings; owners also see their own drafts; moderators see all.
        """
        if us_state is not None and us_state.upper() not in US_STATES:
            raise BadParameter("state", "expected a two-letter US state code such as NY")
        return await listings.list(
            reader,
            caller,
            status=status or [],
            state=us_state.upper() if us_state else None,
            updated_since=moment("updated_since", updated_since),
            limit=limit,
            cursor=cursor,
        )

    @get("/{key:str}", summary="Get a listing")
    async def get_provider(
        self,
        key: Key,
        request: Request,
        state: State,
        read_connection: NamedDependency[AsyncConnection],
        if_none_match: Annotated[
            str, HeaderParameter(name="If-None-Match", required=False, description="an ETag from an earlier read: 304 if unchanged")
        ] = "",
    ) -> Response[schemas.ProviderPublic]:
        """One listing with its locations, services, conditions and clinicians.

        Published listings are public; others are visible to their owners and moderators only (404
        otherwise). The ETag header is the listing's version: send it back in If-Match when changing
        it, or in If-None-Match to get 304 when it has not changed. Anonymous and partner reads are
        cacheable for a minute.

        Who: anyone for published listings; owners and moderators for the others.
        """
        # The hottest route: one injected dependency, because Litestar resolves several at one
        # level in a task group, which cost an eighth of the request.
        caller, listings = identify(request, state.settings), state.listings
        if caller.role in (Role.anonymous, Role.partner):
            try:
                document, version = await listings.published_document(read_connection, key)
            except NotFound:
                survivor = await merged_survivor(read_connection, key)
                if survivor is None:
                    raise
                # Merged into another listing: its old id and slug lead there for good.
                return Response(content=b"", status_code=301, headers={"Location": f"/v1/providers/{survivor[0]}", "Cache-Control": PUBLIC_CACHE})
            headers = {"ETag": f'"{version}"', "Cache-Control": PUBLIC_CACHE}
            if f'"{version}"' in (tag.strip().removeprefix("W/") for tag in if_none_match.split(",")):
                return Response(content=b"", status_code=304, headers=headers)
            return Response(content=document, media_type="application/json", headers=headers)  # type: ignore[return-value]
        # Owners and moderators see the live listing, with what awaits review.
        caller = await state.standing.current(caller)
        async with AsyncSession(bind=read_connection, expire_on_commit=False, autoflush=False) as reader:
            return _with_etag(await listings.get(reader, caller, key))

    @get("/{key:str}/history", guards=[writers_only], security=WRITE_SECURITY, summary="A listing's history")
    async def listing_history(
        self,
        key: Key,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        listings: NamedDependency[ListingService],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="entries per page")] = 50,
        cursor: Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=500)] = None,
    ) -> HistoryPage:
        """Who changed what and when, with each field's value before and after; newest first.

        Who: the listing's owners and moderators.
        """
        return await listings.history(reader, caller, key, limit, cursor)

    @post("/", status_code=HTTP_201_CREATED, guards=[writers_only], security=WRITE_SECURITY, summary="Create a listing")
    async def create_provider(
        self,
        data: JSONBody[schemas.ProviderCreate],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        listings: NamedDependency[ListingService],
    ) -> Response[schemas.ProviderPublic]:
        """Create a listing, with its locations, clinicians, services and conditions, all or nothing.

        A location without latitude/longitude is geocoded from its address (ZIP code or city and
        state); an address that cannot be placed is a 422 naming the field. The slug is made from
        the name and the first location's city and stays fixed once the listing is published.

        Who: any signed-in account, which becomes its owner. Provider accounts create drafts or submit for review (pending_review); only moderators publish.
        """
        return _with_etag(await listings.create(writer, caller, data), HTTP_201_CREATED)

    @patch("/{key:str}", guards=[writers_only], security=WRITE_SECURITY, summary="Change a listing")
    async def update_provider(
        self,
        key: Key,
        data: JSONBody[schemas.ProviderUpdate],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> Response[schemas.ProviderPublic]:
        """Change some fields of a listing. Lists given (services, conditions, languages...) replace the stored ones.

        Who: the listing's owners and moderators; requires If-Match. An owner's change to the NPI of a published listing waits for a moderator.
        """
        return _with_etag(await listings.update(change.session, change.caller, key, data, change.if_match))

    @delete("/{key:str}", status_code=200, guards=[writers_only], security=WRITE_SECURITY, summary="Close a listing")
    async def close_provider(
        self,
        key: Key,
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> Response[schemas.ProviderPublic]:
        """Close a listing. It is kept (status `closed`) for history and disappears from public reads.

        Who: the listing's owners and moderators; requires If-Match.
        """
        return _with_etag(await listings.close(change.session, change.caller, key, change.if_match))

    @post("/{key:str}/confirmation", status_code=200, guards=[writers_only], security=WRITE_SECURITY, summary="Confirm a listing is still correct")
    async def confirm_provider(
        self,
        key: Key,
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> Response[schemas.ProviderPublic]:
        """Say that every detail of the listing is still correct ("Still correct" in the portal).

        Sets `confirmation.confirmed_at` to now, as any save by an owner does. A listing not confirmed
        for 80 days brings its owners a reminder by mail; after 180 days it is shown as `unconfirmed`.

        Who: the listing's owners (a moderator cannot confirm for the clinic). If-Match is optional.
        """
        return _with_etag(await listings.confirm(change.session, change.caller, key, change.if_match))

    @post("/{key:str}/locations", status_code=HTTP_201_CREATED, guards=[writers_only], security=WRITE_SECURITY, summary="Add a location")
    async def add_location(
        self,
        key: Key,
        data: JSONBody[schemas.LocationCreate],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> schemas.LocationPublic:
        """Add a location to a listing; without coordinates its address is geocoded.

        Who: the listing's owners and moderators.
        """
        return await listings.add_location(change.session, change.caller, key, data, change.if_match)

    @patch("/{key:str}/locations/{location_id:int}", guards=[writers_only], security=WRITE_SECURITY, summary="Change a location")
    async def update_location(
        self,
        key: Key,
        location_id: FromPath[int],
        data: JSONBody[schemas.LocationUpdate],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> schemas.LocationPublic:
        """Change a location. A new address without new coordinates is geocoded again.

        Who: the listing's owners and moderators; requires If-Match.
        """
        return await listings.update_location(change.session, change.caller, key, location_id, data, change.if_match)

    @delete("/{key:str}/locations/{location_id:int}", status_code=HTTP_204_NO_CONTENT, guards=[writers_only], security=WRITE_SECURITY, summary="Remove a location")
    async def delete_location(
        self,
        key: Key,
        location_id: FromPath[int],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> None:
        """Remove a location. A published listing keeps at least one (409 otherwise).

        Who: the listing's owners and moderators; requires If-Match.
        """
        await listings.delete_location(change.session, change.caller, key, location_id, change.if_match)

    @post("/{key:str}/clinicians", status_code=HTTP_201_CREATED, guards=[writers_only], security=WRITE_SECURITY, summary="Add a clinician")
    async def add_clinician(
        self,
        key: Key,
        data: JSONBody[schemas.ClinicianCreate],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> schemas.ClinicianPublic:
        """Add a clinician (name, credential, specialty, NPI, licenses) with their role at this listing.

        Who: the listing's owners and moderators.
        """
        return await listings.add_clinician(change.session, change.caller, key, data, change.if_match)

    @patch("/{key:str}/clinicians/{clinician_id:uuid}", guards=[writers_only], security=WRITE_SECURITY, summary="Change a clinician")
    async def update_clinician(
        self,
        key: Key,
        clinician_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ClinicianUpdate],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> schemas.ClinicianPublic:
        """Change a clinician's details or their role at this listing.

        Who: the listing's owners and moderators; requires If-Match. On a published listing, an owner's change to a credential, NPI or license waits for a moderator.
        """
        return await listings.update_clinician(change.session, change.caller, key, clinician_id, data, change.if_match)

    @delete("/{key:str}/clinicians/{clinician_id:uuid}", status_code=HTTP_204_NO_CONTENT, guards=[writers_only], security=WRITE_SECURITY, summary="Remove a clinician")
    async def remove_clinician(
        self,
        key: Key,
        clinician_id: FromPath[uuid.UUID],
        listings: NamedDependency[ListingService],
        change: NamedDependency[Change],
    ) -> None:
        """End a clinician's role at this listing.

        Who: the listing's owners and moderators; requires If-Match.
        """
        await listings.remove_clinician(change.session, change.caller, key, clinician_id, change.if_match)
