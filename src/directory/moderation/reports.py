"""Visitors report problems with published listings; moderators resolve or dismiss them.

A report is anonymous (nothing about the reporter is kept) and limited per address; it goes to the
moderators' queue and, by mail, to the listing's owners. A listing with ``NEEDS_REVIEW`` open
reports or more is shown to moderators as needing review, first.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts import callers
from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.errors import Conflict, NotFound, TooManyRequests
from directory.i18n import N_
from directory.i18n.catalogs import translations
from directory.listings.models import Provider, ProviderStatus
from directory.listings.queries import by_key
from directory.listings.team import owner_recipients
from directory.mail import enqueue, notice
from directory.moderation.models import ListingReport
from directory.moderation.schemas import ReportDecision, ReportIn, ReportPublic
from directory.ratelimit import LimitStore

NEEDS_REVIEW = 3
PER_ADDRESS_PER_HOUR = 5

KIND_WORDS = {
    "closed_permanently": N_("it has closed for good"),
    "wrong_phone": N_("the phone number is wrong"),
    "wrong_address": N_("the address is wrong"),
    "service_not_offered": N_("it does not offer a listed service"),
    "other": N_("something else"),
}


class Reports:
    def __init__(self, limits: LimitStore) -> None:
        self.limits = limits

    async def report(self, session: AsyncSession, caller: Caller, key: str, data: ReportIn, client: str) -> ReportPublic:
        if not caller.moderates:
            window = await self.limits.hit(f"report:{client}", PER_ADDRESS_PER_HOUR, 3600)
            if not window.allowed:
                raise TooManyRequests("too many reports from this address in the last hour; try again later", headers={"Retry-After": str(window.reset_seconds)})
        async with session.begin():
            provider = (await session.execute(select(Provider).where(by_key(key), Provider.status == ProviderStatus.published.value))).scalar_one_or_none()
            if provider is None:
                raise NotFound(f"no published listing {key}")
            report = ListingReport(provider_id=provider.id, kind=data.kind, details=data.details)
            session.add(report)
            for email, language in await owner_recipients(session, provider.id):
                enqueue(session, notice("report", email, language, listing=provider.name, what=translations(language).gettext(KIND_WORDS[data.kind]), details=data.details, listing_id=str(provider.id)))
        return ReportPublic.model_validate(report, from_attributes=True)

    async def open_reports(self, session: AsyncSession, caller: Caller, limit: int) -> list[tuple[ListingReport, str, str, int]]:
        """Open reports, those of listings with the most open reports first: (report, listing name, slug, open reports of that listing)."""
        callers.ensure_moderator(caller)
        counts = select(ListingReport.provider_id, func.count().label("open")).where(ListingReport.status == "open").group_by(ListingReport.provider_id).subquery()
        rows = await session.execute(
            select(ListingReport, Provider.name, Provider.slug, counts.c.open)
            .join(Provider, Provider.id == ListingReport.provider_id)
            .join(counts, counts.c.provider_id == ListingReport.provider_id)
            .where(ListingReport.status == "open")
            .order_by(counts.c.open.desc(), ListingReport.created_at)
            .limit(limit)
        )
        return [(report, name, slug, count) for report, name, slug, count in rows]

    async def open_for(self, session: AsyncSession, provider_id: uuid.UUID) -> list[ListingReport]:
        """A listing's open reports, oldest first: for its owners' page (the caller decides who sees them)."""
        rows = await session.execute(
            select(ListingReport).where(ListingReport.provider_id == provider_id, ListingReport.status == "open").order_by(ListingReport.created_at).limit(50)
        )
        return list(rows.scalars())

    async def decide(self, session: AsyncSession, caller: Caller, report_id: uuid.UUID, data: ReportDecision) -> ReportPublic:
        callers.ensure_moderator(caller)
        async with session.begin():
            report = await session.get(ListingReport, report_id)
            if report is None:
                raise NotFound(f"no report {report_id}")
            if report.status != "open":
                raise Conflict(f"the report was already {report.status}")
            report.status = "resolved" if data.decision == "resolve" else "dismissed"
            report.decided_by, report.decided_at, report.note = caller.label, utcnow(), data.note
        return ReportPublic.model_validate(report, from_attributes=True)
