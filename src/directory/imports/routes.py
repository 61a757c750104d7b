"""POST /v1/imports: listings from a CSV file."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from directory.accounts.callers import Caller, sync_only
from directory.errors import UnsupportedMediaType
from directory.imports.service import ImportService

MAX_IMPORT_BYTES = 10 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@post(
    "/v1/imports",
    tags=["sync"],
    guards=[sync_only],
    security=[{"apiKey": []}, {"bearer": []}],
    summary="Import listings from CSV",
    status_code=200,
    request_max_body_size=MAX_IMPORT_BYTES,
    opt={"problems": (413, 415, 422)},
)
async def import_listings(
    request: Request,
    state: State,
    caller: NamedDependency[Caller],
    imports: NamedDependency[ImportService],
    atomic: Annotated[bool, QueryParameter(description="all-or-nothing (the default); false writes each valid listing and reports the rest")] = True,
    dry_run: Annotated[bool, QueryParameter(description="check every row (and place every address) without writing")] = False,
) -> Response[dict[str, Any]]:
    """Send the CSV file as the body (`Content-Type: text/csv`, UTF-8, at most 10 MiB and 5,000 rows),
    laid out as the README's "Importing listings from CSV" describes (template: seed/import-template.csv):
    one row per location, the listing's columns repeated on each of its rows, `external_id` your own
    id for the listing. Every row is checked with the same rules as `POST /v1/providers`. The answer
    reports each row: created, updated, unchanged, invalid, failed, not_written (or valid in a dry
    run), with the listing's id and, on a listing's first row, its `possible_duplicates`: published
    listings that may be the same clinic (a moderator reviews each pair; nothing is refused). Importing again finds listings by your external ids and updates
    them in place; a file imported twice changes nothing the second time. An all-or-nothing import
    with any invalid row is a 422 problem naming each line and column, with the report in `report`,
    and writes nothing.

    Who: partner keys with the sync scope (X-API-Key), and administrators.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise UnsupportedMediaType("send the CSV file as the body with Content-Type: text/csv")
    body = await request.body()
    report = await imports.run(state.database.writer, caller, body, atomic=atomic, dry_run=dry_run)
    return Response(report.as_json())
