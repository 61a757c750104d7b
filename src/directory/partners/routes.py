"""Administrators manage partner API keys: /v1/admin/api-keys."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, writers_only
from directory.partners.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from directory.partners.service import ApiKeyService


class ApiKeyController(Controller):
    path = "/v1/admin/api-keys"
    tags = ["partners"]
    guards = [writers_only]
    security = [{"bearer": []}]

    @post("/", status_code=HTTP_201_CREATED, summary="Create a partner API key")
    async def create_key(
        self,
        data: JSONBody[ApiKeyCreate],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        api_keys: NamedDependency[ApiKeyService],
    ) -> ApiKeyCreated:
        """A new key with its scopes (read, sync) and rate limit. The key is in this answer only:
        it is stored hashed. Administrators only."""
        return await api_keys.create(writer, caller, data)

    @get("/", summary="List partner API keys with their usage")
    async def list_keys(
        self, reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller], api_keys: NamedDependency[ApiKeyService]
    ) -> list[ApiKeyPublic]:
        """Every key (never the secret) with its requests per day over the last week. Administrators only."""
        return await api_keys.list(reader, caller)

    @delete("/{key_id:uuid}", status_code=HTTP_200_OK, summary="Revoke a partner API key")
    async def revoke_key(
        self,
        key_id: FromPath[uuid.UUID],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        api_keys: NamedDependency[ApiKeyService],
    ) -> ApiKeyPublic:
        """The key stops working within half a minute on every process. Administrators only."""
        return await api_keys.revoke(writer, caller, key_id)
