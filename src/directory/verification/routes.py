"""The verification records of a listing, under /v1/providers/{key}/verifications."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, writers_only
from directory.listings.routes import WRITE_SECURITY, Key
from directory.verification.schemas import VerificationRecordPublic
from directory.verification.service import VerificationService


class VerificationController(Controller):
    path = "/v1/providers"
    tags = ["listings"]

    @get("/{key:str}/verifications", guards=[writers_only], security=WRITE_SECURITY, summary="A listing's registry checks")
    async def listing_verifications(
        self,
        key: Key,
        reader: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        verification: NamedDependency[VerificationService],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="records to return")] = 50,
    ) -> list[VerificationRecordPublic]:
        """Each check of the listing's NPI and its clinicians' NPIs against the NPPES registry:
        when, the result, and why.

        Who: the listing's owners and moderators."""
        return await verification.records(reader, caller, key, limit)
