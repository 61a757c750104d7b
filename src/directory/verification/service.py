"""Verifying listings against the NPI registry, off the request path.

A listing waiting for verification has status ``pending`` and a due time: that state in the
database is the queue, so nothing is lost when a process restarts or the registry is down. Any
process may run the worker; a listing is claimed with a conditional update so that two workers
never check the same listing at once.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from directory.accounts.callers import Caller
from directory.accounts.models import AccountNpi
from directory.columns import utcnow
from directory.listings import policy
from directory.listings.changes import Recorder, touch
from directory.listings.models import Clinician, Provider, ProviderClinician, VerificationStatus
from directory.verification.checks import Outcome, check_clinician, check_organization
from directory.verification.models import VerificationRecord
from directory.verification.registry import RegistryClient, RegistryUnavailable
from directory.verification.schemas import VerificationRecordPublic
from directory.workers import drain_forever

logger = logging.getLogger("directory.verification")

LEASE = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=1)


class VerificationService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], registry: RegistryClient, recorder: Recorder,
        on_account_npi_verified: Callable[[AsyncSession, uuid.UUID, str], Awaitable[object]] | None = None,
        recheck_after: timedelta | None = None, jitter: Callable[[], float] = random.random,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        #: A listing that passed is checked again after 75-90% of this (so it never turns stale while the
        #: worker runs), each at its own moment so that checks never come all at once; one that failed is
        #: checked again after a day, then 2, 4... days, at most this. None: only when something changes.
        self.recheck_after = recheck_after
        self.jitter = jitter
        self.registry = registry
        self.recorder = recorder
        #: Called when an account's NPI passes (the app grants that account's waiting claims on listings with that NPI).
        self.on_account_npi_verified = on_account_npi_verified
        #: Checks this service could not make because the registry did not answer, and the last reason.
        self.unreachable = 0
        self.unreachable_reason = ""

    async def records(self, session: AsyncSession, caller: Caller, key: str, limit: int) -> list[VerificationRecordPublic]:
        """The registry checks made for a listing, newest first: for its owners and moderators."""
        provider_id = await policy.owned_listing(session, caller, key)
        rows = await session.execute(
            select(VerificationRecord).where(VerificationRecord.provider_id == provider_id).order_by(VerificationRecord.id.desc()).limit(limit)
        )
        return [VerificationRecordPublic.model_validate(row, from_attributes=True) for row in rows.scalars()]

    async def queue_older_than(self, age: timedelta) -> int:
        """Queue every checked listing whose last check is older than ``age``; how many were queued."""
        cutoff = utcnow() - age
        async with self.sessions() as session, self.recorder.transaction(session):
            now = utcnow()
            # The public listing shows its verification status: each queued listing moves to a new version.
            moved = await session.execute(
                update(Provider)
                .where(
                    Provider.verification_status.in_([VerificationStatus.verified.value, VerificationStatus.failed.value]),
                    or_(Provider.last_verified_at.is_(None), Provider.last_verified_at < cutoff),
                    # A failed listing whose retry is already scheduled waits for it (no re-queuing of every failure at each run).
                    or_(Provider.verification_status == VerificationStatus.verified.value, Provider.verification_due_at.is_(None)),
                )
                .values(
                    verification_status=VerificationStatus.pending.value, verification_due_at=now, verification_attempts=0,
                    version=Provider.version + 1, updated_at=now,
                )
                .returning(Provider.id)
                .execution_options(synchronize_session=False)
            )
            queued = moved.scalars().all()
            for provider_id in queued:
                touch(session, provider_id)
        return len(queued)

    async def run_due(self, limit: int = 20) -> int:
        """Check the listings and account NPIs that are due; how many were checked."""
        return await self._run_due_listings(limit) + await self._run_due_account_npis(limit)

    async def _run_due_account_npis(self, limit: int) -> int:
        async with self.sessions() as session:
            due = list(
                (await session.execute(select(AccountNpi).where(AccountNpi.status == "pending").limit(limit))).scalars()
            )
        checked = 0
        for row in due:
            try:
                record = await self.registry.lookup(row.npi)
            except RegistryUnavailable as error:
                logger.warning("registry unavailable for account NPI %s: %s", row.npi, error)
                self.unreachable, self.unreachable_reason = self.unreachable + 1, str(error)
                break  # the rows stay pending: the next pass tries again
            # An account's own NPI must exist, be active, and belong to an organisation.
            passed = record is not None and record.enumeration_type == "NPI-2" and record.basic.status == "A"
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(AccountNpi)
                    .where(AccountNpi.account_id == row.account_id, AccountNpi.npi == row.npi, AccountNpi.status == "pending")
                    .values(status="verified" if passed else "failed", checked_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            if passed and self.on_account_npi_verified is not None:
                async with self.sessions() as session:
                    await self.on_account_npi_verified(session, row.account_id, row.npi)
            checked += 1
        return checked

    async def _run_due_listings(self, limit: int) -> int:
        async with self.sessions() as session:
            due = await session.execute(
                select(Provider.id, Provider.verification_due_at)
                .where(Provider.verification_due_at <= utcnow())
                .order_by(Provider.verification_due_at)
                .limit(limit)
            )
            candidates = list(due)
        done = 0
        for provider_id, due_at in candidates:
            if await self._claim(provider_id, due_at):
                await self.verify(provider_id)
                done += 1
        return done

    async def _claim(self, provider_id: uuid.UUID, due_at: datetime) -> bool:
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(Provider)
                .where(Provider.id == provider_id, Provider.verification_due_at == due_at)
                .values(verification_due_at=utcnow() + LEASE)
                .execution_options(synchronize_session=False)
            )
        return claimed.rowcount == 1

    async def verify(self, provider_id: uuid.UUID) -> str:
        """Ask the registry about the listing's NPI and each clinician's; store every outcome."""
        async with self.sessions() as session:
            provider = (
                await session.execute(
                    select(Provider)
                    .where(Provider.id == provider_id)
                    .options(selectinload(Provider.clinician_roles).selectinload(ProviderClinician.clinician), selectinload(Provider.locations))
                )
            ).scalar_one()
            clinicians = [role.clinician for role in provider.clinician_roles]
            name, npi = provider.name, provider.npi
            places = [((location.state or "").upper(), (location.postal_code or "")[:5]) for location in provider.locations]
            places += [(state.upper(), "") for state in provider.telehealth_states or [] if not provider.locations]
            attempts = provider.verification_attempts
            twin = None
            if npi is not None:
                twin = (
                    await session.execute(
                        select(Provider.slug, Provider.name).where(
                            Provider.npi == npi, Provider.id != provider_id, Provider.verification_status == VerificationStatus.verified.value,
                            Provider.status != "closed",
                        ).limit(1)
                    )
                ).first()
        records: list[VerificationRecord] = []
        clinician_results: dict[uuid.UUID, str] = {}
        try:
            if npi is None:
                status = VerificationStatus.unverified.value
                records.append(VerificationRecord(provider_id=provider_id, result="failed", details=["the listing has no organisation NPI"]))
            else:
                outcomes = [check_organization(await self.registry.lookup(npi), name, places)]
                if twin is not None:
                    outcomes[0].passed = False
                    outcomes[0].details.append(
                        f"the listing {twin[1]!r} ({twin[0]}) is already verified with this NPI: one NPI verifies one listing, "
                        "and a moderator decides whether this is the same clinic (a possible duplicate)"
                    )
                records.append(_record(provider_id, None, npi, outcomes[0]))
                for person in clinicians:
                    if person.npi is None:
                        outcome = Outcome(False, [f"{person.first_name} {person.last_name} has no NPI"])
                    else:
                        outcome = check_clinician(
                            await self.registry.lookup(person.npi), person.first_name, person.last_name, person.licenses, person.credential
                        )
                    records.append(_record(provider_id, person.id, person.npi, outcome))
                    clinician_results[person.id] = _status(outcome.passed)
                    outcomes.append(outcome)
                status = _status(all(outcome.passed for outcome in outcomes))
        except RegistryUnavailable as error:
            delay = min(MAX_RETRY_DELAY, timedelta(seconds=30 * 2**attempts))
            logger.warning("registry unavailable for %s, retrying in %s: %s", provider_id, delay, error)
            self.unreachable, self.unreachable_reason = self.unreachable + 1, str(error)
            async with self.sessions() as session, session.begin():
                session.add(VerificationRecord(provider_id=provider_id, npi=npi, result="error", details=[str(error)]))
                await session.execute(
                    update(Provider)
                    .where(Provider.id == provider_id)
                    .values(verification_due_at=utcnow() + delay, verification_attempts=attempts + 1)
                    .execution_options(synchronize_session=False)
                )
            return VerificationStatus.pending.value
        now = utcnow()
        async with self.sessions() as session, self.recorder.transaction(session):
            session.add_all(records)
            values = {"verification_status": status, "version": Provider.version + 1, "updated_at": now, **self._next_check(status, attempts, now)}
            if status == VerificationStatus.verified.value:
                values["last_verified_at"] = now
            await session.execute(
                update(Provider).where(Provider.id == provider_id).values(**values).execution_options(synchronize_session=False)
            )
            touch(session, provider_id)
            for clinician_id, result in clinician_results.items():
                await session.execute(
                    update(Clinician).where(Clinician.id == clinician_id).values(verification_status=result)
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
        return status

    def _next_check(self, status: str, attempts: int, now: datetime) -> dict[str, object]:
        """When the listing is checked again by itself (see ``recheck_after``), and its failures so far."""
        if self.recheck_after is None or status == VerificationStatus.unverified.value:
            return {"verification_due_at": None, "verification_attempts": 0}
        if status == VerificationStatus.verified.value:
            return {"verification_due_at": now + self.recheck_after * (0.75 + 0.15 * self.jitter()), "verification_attempts": 0}
        wait = min(timedelta(days=2 ** min(attempts, 30)), self.recheck_after)
        return {"verification_due_at": now + wait * (0.9 + 0.1 * self.jitter()), "verification_attempts": attempts + 1}

    async def work(self, interval: float) -> None:
        """The background worker: forever, until cancelled."""
        await drain_forever(self.run_due, interval, logger, "verification")


def _status(passed: bool) -> str:
    return VerificationStatus.verified.value if passed else VerificationStatus.failed.value


def _record(provider_id: uuid.UUID, clinician_id: uuid.UUID | None, npi: str | None, outcome: Outcome) -> VerificationRecord:
    return VerificationRecord(
        provider_id=provider_id,
        clinician_id=clinician_id,
        npi=npi,
        result="passed" if outcome.passed else "failed",
        details=outcome.details,
    )
