"""GET /v1/conditions and GET /v1/services."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.taxonomy.models import Condition, Service
from directory.taxonomy.schemas import TaxonomyList
from directory.taxonomy.service import TaxonomyService

Lang = Annotated[
    Literal[tuple(i18n.LANGUAGES)] | None,  # type: ignore[valid-type]
    QueryParameter(
        required=False,
        description="the language of names, descriptions and synonyms (`en` or `es`); wins over `Accept-Language`",
    ),
]
LANGUAGE_HEADERS = [
    ResponseHeader(name="Content-Language", description="the language of the words: `en` or `es`", documentation_only=True),
    ResponseHeader(name="Vary", description="`Accept-Language`: the words follow the header", documentation_only=True),
]


class TaxonomyController(Controller):
    path = "/v1"
    tags = ["taxonomy"]

    @get("/conditions", summary="List the conditions", response_headers=LANGUAGE_HEADERS)
    async def list_conditions(
        self, request: Request, reader: NamedDependency[AsyncSession], taxonomy: NamedDependency[TaxonomyService], lang: Lang = None
    ) -> Response[TaxonomyList]:
        """The conditions listings can treat, with their codes and synonyms.

        Use a `code` in a listing's `conditions` and in search filters. `provider_count` counts
        published listings that treat it (refreshed every minute). Names, descriptions and synonyms
        come in Spanish with `Accept-Language: es` or `lang=es` (codes are the same in every
        language). Who: anyone.
        """
        language = i18n.choose(lang, request.headers.get("accept-language"))
        return Response(await taxonomy.entries(reader, Condition, language), headers=i18n.headers(language))

    @get("/services", summary="List the services", response_headers=LANGUAGE_HEADERS)
    async def list_services(
        self, request: Request, reader: NamedDependency[AsyncSession], taxonomy: NamedDependency[TaxonomyService], lang: Lang = None
    ) -> Response[TaxonomyList]:
        """The services listings can offer (IV ketamine, Spravato, ketamine-assisted psychotherapy...).

        Use a `code` in a listing's `services`. `provider_count` counts published listings offering it (refreshed every minute).
        In Spanish with `Accept-Language: es` or `lang=es`, as for conditions. Who: anyone.
        """
        language = i18n.choose(lang, request.headers.get("accept-language"))
        return Response(await taxonomy.entries(reader, Service, language), headers=i18n.headers(language))
