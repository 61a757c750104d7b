"""GET /v1/conditions and GET /v1/services."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from directory.taxonomy.models import Condition, Service
from directory.taxonomy.schemas import TaxonomyList
from directory.taxonomy.service import TaxonomyService


class TaxonomyController(Controller):
    path = "/v1"
    tags = ["taxonomy"]

    @get("/conditions", summary="List the conditions")
    async def list_conditions(
        self, reader: NamedDependency[AsyncSession], taxonomy: NamedDependency[TaxonomyService]
    ) -> TaxonomyList:
        """The conditions listings can treat, with their codes and synonyms.

        Use a `code` in a listing's `conditions` and in search filters. `provider_count` counts
        published listings that treat it (refreshed every minute). Who: anyone.
        """
        return await taxonomy.entries(reader, Condition)

    @get("/services", summary="List the services")
    async def list_services(
        self, reader: NamedDependency[AsyncSession], taxonomy: NamedDependency[TaxonomyService]
    ) -> TaxonomyList:
        """The services listings can offer (IV ketamine, Spravato, ketamine-assisted psychotherapy...).

        Use a `code` in a listing's `services`. `provider_count` counts published listings offering it (refreshed every minute). Who: anyone.
        """
        return await taxonomy.entries(reader, Service)
