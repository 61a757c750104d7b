"""Importing listings from CSV: every row checked by the API's own rules, then written all at once.

By default an import is all-or-nothing: if any row is invalid, or any write fails, nothing is
written. ``atomic=False`` writes each valid listing in its own transaction and reports the rest.
Listings are found again by (who imported them, their external id), so importing the same file
twice changes nothing the second time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.accounts.callers import Caller
from directory.collector import bulk_work
from directory.errors import DirectoryError, FieldError, InvalidInput
from directory.imports import csvfile
from directory.imports.csvfile import Group, Row
from directory.imports.writing import BATCH, Prepared, write_batch
from directory.listings.duplicates import POSSIBLE, describe_duplicates
from directory.listings.placement import inherit_rems
from directory.listings.schemas import ProviderCreate
from directory.listings.service import ListingService
from directory.taxonomy.models import Condition, Service

MAX_ROWS = 5000


@dataclass
class RowReport:
    line: int
    external_id: str
    result: str = "pending"
    """created, updated, unchanged, invalid, failed, or not_written (an all-or-nothing import stopped)"""
    id: uuid.UUID | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    possible_duplicates: list[dict[str, Any]] = field(default_factory=list)
    """Published listings that may be the same clinic (on the listing's first row)."""


@dataclass
class ImportReport:
    atomic: bool
    dry_run: bool
    rows: list[RowReport]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.result] = counts.get(row.result, 0) + 1
        return counts

    @property
    def applied(self) -> bool:
        return not self.dry_run and any(row.result in ("created", "updated", "unchanged") for row in self.rows)

    def as_json(self) -> dict[str, Any]:
        return {
            "atomic": self.atomic,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "rows": [
                {"line": r.line, "external_id": r.external_id, "result": r.result, "id": str(r.id) if r.id else None, "errors": r.errors,
                 "possible_duplicates": r.possible_duplicates}  # fmt: skip
                for r in self.rows
            ],
        }


class ImportRejected(DirectoryError):
    """An all-or-nothing import with invalid rows or a failed write: nothing was written."""

    status = 422
    type = "/problems/import-rejected"
    title = "Import rejected"

    def __init__(self, report: ImportReport) -> None:
        errors = [
            FieldError(f"line {row.line}: {error['field']}", error["reason"])
            for row in report.rows
            for error in row.errors
        ]
        bad = sum(1 for row in report.rows if row.result in ("invalid", "failed"))
        super().__init__(f"{bad} of {len(report.rows)} rows cannot be imported; nothing was written", errors[:200])
        self.extra = {"report": report.as_json()}


def source_of(caller: Caller) -> str:
    """The namespace of external ids: each partner key has its own; administrators share one."""
    return f"key:{caller.key_id}" if caller.key_id is not None else "admin"


class ImportService:
    def __init__(self, listings: ListingService) -> None:
        self.listings = listings

    async def run(
        self,
        sessions: async_sessionmaker[AsyncSession],
        caller: Caller,
        data: bytes,
        *,
        atomic: bool = True,
        dry_run: bool = False,
        max_rows: int = MAX_ROWS,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """``progress(done, total)``: called as each batch of listings is written (the command line's bar)."""
        with bulk_work():  # the session holds every listing written until the end
            return await self._run(sessions, caller, data, atomic, dry_run, max_rows, progress)

    async def _run(
        self,
        sessions: async_sessionmaker[AsyncSession],
        caller: Caller,
        data: bytes,
        atomic: bool,
        dry_run: bool,
        max_rows: int,
        progress: Callable[[int, int], None] | None,
    ) -> ImportReport:
        try:
            groups = csvfile.read(data, max_rows)
        except csvfile.FileProblem as problem:
            raise InvalidInput(problem.field, problem.reason) from None
        reports = {id(row): RowReport(row.line, group.external_id) for group in groups for row in group.rows}
        async with sessions() as session:
            codes = await _known_codes(session)
        prepared: list[Prepared] = []
        for group in groups:
            ready = await self._prepare(group, codes)
            for row in group.rows:
                report = reports[id(row)]
                report.errors = [{"field": name, "reason": reason} for name, reason in row.errors]
                if row.errors:
                    report.result = "invalid"
            if ready is None or any(row.errors for row in group.rows):
                for row in group.rows:
                    if not row.errors:
                        reports[id(row)].result = "invalid"
                        reports[id(row)].errors = [{"field": "external_id", "reason": "another row of this listing is invalid"}]
                continue
            prepared.append(ready)
        report = ImportReport(atomic, dry_run, sorted(reports.values(), key=lambda r: r.line))
        invalid = any(r.result == "invalid" for r in report.rows)
        if dry_run or (atomic and invalid):
            for ready in prepared:
                for row in ready.group.rows:
                    reports[id(row)].result = "valid" if dry_run else "not_written"
            if atomic and invalid:
                raise ImportRejected(report)
            return report

        source = source_of(caller)
        batches = [prepared[start : start + BATCH] for start in range(0, len(prepared), BATCH)]
        if atomic:
            writing: list[Prepared] = []
            async with sessions() as session:
                try:
                    async with self.listings.recorder.transaction(session):
                        for number, writing in enumerate(batches):
                            self._mark_all(reports, writing, await write_batch(session, caller, source, writing))
                            if progress:
                                progress(min((number + 1) * BATCH, len(prepared)), len(prepared))
                        writing = prepared  # what fails now fails as the whole import is recorded
                except Exception as error:  # noqa: BLE001 - any failure undoes the whole import
                    for entry in reports.values():
                        if entry.result in ("created", "updated", "unchanged", "pending"):
                            entry.result, entry.id = "not_written", None
                    failed = writing[0] if writing else prepared[0]
                    reports[id(failed.group.first)].result = "failed"
                    reports[id(failed.group.first)].errors = [{"field": "external_id", "reason": _refusal(error, writing)}]
                    raise ImportRejected(report) from error
                await self._note_duplicates(session, reports, prepared)
        else:
            done = 0
            for batch in batches:
                # A batch in one transaction; if it fails, its listings again one by one, so that
                # only the listing the database refuses fails.
                if not await self._write_partial(sessions, caller, source, batch, reports) and len(batch) > 1:
                    for ready in batch:
                        await self._write_partial(sessions, caller, source, [ready], reports)
                done += len(batch)
                if progress:
                    progress(done, len(prepared))
        return report

    async def _write_partial(
        self,
        sessions: async_sessionmaker[AsyncSession],
        caller: Caller,
        source: str,
        batch: list[Prepared],
        reports: dict[int, RowReport],
    ) -> bool:
        async with sessions() as session:
            try:
                async with self.listings.recorder.transaction(session):
                    results = await write_batch(session, caller, source, batch)
            except Exception as error:  # noqa: BLE001 - this batch fails, the others go on
                if len(batch) == 1:
                    ready = batch[0]
                    for row in ready.group.rows:
                        reports[id(row)].result = "failed"
                        reports[id(row)].id = None
                    reports[id(ready.group.first)].errors = [{"field": "external_id", "reason": _refusal(error, batch)}]
                return False
            self._mark_all(reports, batch, results)
            await self._note_duplicates(session, reports, batch)
        return True

    @classmethod
    def _mark_all(cls, reports: dict[int, RowReport], batch: list[Prepared], results: list[tuple[str, uuid.UUID]]) -> None:
        for ready, (result, provider_id) in zip(batch, results):
            cls._mark(reports, ready, result, provider_id)

    @staticmethod
    async def _note_duplicates(session: AsyncSession, reports: dict[int, RowReport], written: list[Prepared]) -> None:
        """Each written listing's possible duplicates, found as it was written, on its first row."""
        found = session.sync_session.info.pop(POSSIBLE, {})
        for ready in written:
            entry = reports[id(ready.group.first)]
            if entry.id is not None and found.get(entry.id):
                entry.possible_duplicates = [d.model_dump(mode="json") for d in await describe_duplicates(session, found[entry.id])]

    @staticmethod
    def _mark(reports: dict[int, RowReport], ready: Prepared, result: str, provider_id: uuid.UUID) -> None:
        for row in ready.group.rows:
            reports[id(row)].result = result
            reports[id(row)].id = provider_id

    async def _prepare(self, group: Group, codes: dict[str, set[str]]) -> Prepared | None:
        """Validate the listing with the API's rules and place its addresses; errors go on its rows."""
        body, sources = csvfile.listing_body(group)
        if any(row.errors for row in group.rows):
            return None
        try:
            data = ProviderCreate.model_validate(body)
        except ValidationError as error:
            for item in error.errors():
                reason = item["msg"].removeprefix("Value error, ")
                row, column = _where(group, sources, item["loc"], reason)
                row.errors.append((column, reason))
            return None
        for position, code in enumerate(data.conditions or []):
            if code not in codes["condition"]:
                group.first.errors.append(("conditions", f"unknown condition code {code!r}; see GET /v1/conditions"))
        for service in data.services or []:
            if service.code not in codes["service"]:
                group.first.errors.append(("services", f"unknown service code {service.code!r}; see GET /v1/services"))
        placed = []
        for place, row in zip(data.locations, sources):
            try:
                placed.append(await self.listings.placement.place(place, ""))
            except InvalidInput as error:
                for problem in error.errors:
                    row.errors.append((csvfile.API_TO_COLUMN.get(problem.field, problem.field), problem.reason))
        if any(row.errors for row in group.rows):
            return None
        inherit_rems(data.rems_certified, data.locations, placed)
        return Prepared(group, data, placed)

def _refusal(error: Exception, writing: list[Prepared]) -> str:
    """Why the database refused a write, and which listings were being written."""
    reason = error.detail if isinstance(error, DirectoryError) else "the database refused the write"
    if len(writing) > 1:
        lines = [row.line for ready in writing for row in ready.group.rows]
        reason += f" (writing the listings of lines {min(lines)}-{max(lines)})"
    return reason


def _where(group: Group, sources: list[Row], loc: tuple[Any, ...], reason: str) -> tuple[Row, str]:
    """The row and CSV column a validation error of the assembled body points at.

    An error about several fields (a rule of the whole listing or location) names the first
    column its message mentions.
    """
    if loc and loc[0] == "locations" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(sources):
        if len(loc) > 2:
            field = str(loc[2])
            return sources[loc[1]], csvfile.API_TO_COLUMN.get(field, field)
        return sources[loc[1]], _mentioned(reason, csvfile.LOCATION_COLUMNS, "postal_code")
    if loc and loc[0] == "price":
        return group.first, "price_max" if "max" in str(loc[-1]) else "price_min"
    if loc:
        return group.first, str(loc[0])
    return group.first, _mentioned(reason, csvfile.PROVIDER_COLUMNS, "name")


def _mentioned(reason: str, columns: list[str], default: str) -> str:
    found = [(match.start(), column) for column in columns if (match := re.search(rf"\b{column}\b", reason))]
    return min(found)[1] if found else default


async def _known_codes(session: AsyncSession) -> dict[str, set[str]]:
    return {
        "condition": set((await session.execute(select(Condition.code))).scalars()),
        "service": set((await session.execute(select(Service.code))).scalars()),
    }
