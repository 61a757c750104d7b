"""Consultation requests: taken from patients, kept sealed, delivered by mail off the request path,
read and handled by the listing's owners, withdrawn by the requester, deleted on time.

- **Who receives them**: a published listing whose owners turned requests on and chose where they
  go: the confirmed address of one of its owners (``ConsultationSettings``). Otherwise the page
  shows the listing's phone and website only.
- **Abuse**: 5 requests an hour per address and 30 per listing; a form token whose age proves a
  person filled the form (at least ``MIN_SECONDS``, at most a day); a honeypot field (a request
  that fills it is answered as usual and dropped); an identical request within a day is folded
  into the first (``repeats``).
- **Privacy**: name, phone, email, preferences and message are sealed together (``sealing``); no
  other column holds them, no log line names them (ids only), and neither the change feed, the
  export, FHIR nor HSDS carry them. Only the listing's owners read them (their inbox); a moderator
  may, for abuse, with a reason that is kept (``ConsultationAccess``). Every request is deleted
  ``retention`` after it was made, and at once when its requester withdraws it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory import cursors
from directory.accounts.callers import Caller, Role, ensure_moderator
from directory.accounts.models import Account, ProviderOwner
from directory.columns import utcnow
from directory.consultations.models import ConsultationAccess, ConsultationRequest, ConsultationTally
from directory.consultations.schemas import (
    ConsultationForm,
    ConsultationIn,
    ConsultationPublic,
    ConsultationReceipt,
    ConsultationSettings,
    ConsultationSettingsPublic,
    VolumeRow,
    Volumes,
)
from directory.consultations.sealing import Sealer
from directory.errors import BadParameter, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from directory.listings.changes import Recorder, bump_version, record_change
from directory.listings.models import Provider, ProviderStatus
from directory.listings.queries import by_key
from directory.partners.models import ApiKey
from directory.ratelimit import LimitStore

logger = logging.getLogger("directory.consultations")

MIN_SECONDS = 3
MAX_FORM_AGE = 24 * 3600
PER_ADDRESS_PER_HOUR = 5
PER_LISTING_PER_HOUR = 30
FOLD_WINDOW = timedelta(days=1)
NO_KEY = uuid.UUID(int=0)


class Consultations:
    def __init__(self, sealer: Sealer, limits: LimitStore, secret: str, retention: timedelta, recorder: Recorder) -> None:
        self.recorder = recorder
        self.sealer = sealer
        self.limits = limits
        self.secret = secret
        self.retention = retention

    # --- the patient's side ------------------------------------------------------------------

    async def form(self, session: AsyncSession, key: str) -> ConsultationForm:
        provider = await _published(session, key)
        if not _accepting(provider):
            return ConsultationForm(accepting=False, form_token=None, min_seconds=MIN_SECONDS)
        token = cursors.encode([str(provider.id), int(time.time())], self.secret)
        return ConsultationForm(accepting=True, form_token=token, min_seconds=MIN_SECONDS)

    async def submit(
        self, session: AsyncSession, caller: Caller, key: str, data: ConsultationIn, client: str, base_url: str, language: str = "en"
    ) -> ConsultationReceipt:
        """Seal and keep a request (``language``: the requester's, for the confirmation mail)."""
        async with session.begin():
            provider = await _published(session, key)
            if not _accepting(provider):
                raise NotFound(f"listing {key} does not take consultation requests: call its phone number or visit its website")
            self._check_form_token(data.form_token, provider.id)
            for bucket, limit in ((f"consult:address:{client}", PER_ADDRESS_PER_HOUR), (f"consult:listing:{provider.id}", PER_LISTING_PER_HOUR)):
                window = await self.limits.hit(bucket, limit, 3600)
                if not window.allowed:
                    raise TooManyRequests("too many consultation requests; try again later, or call the clinic", headers={"Retry-After": str(window.reset_seconds)})
            if data.website:  # the honeypot: answered as usual, kept nowhere
                logger.info("consultation request dropped (honeypot) for listing %s", provider.id)
                return ConsultationReceipt(reference=uuid.uuid4(), confirmation_mail=bool(data.email))
            contents = data.model_dump(include={"name", "phone", "email", "preferred_contact", "preferred_time", "message"})
            fold = self.sealer.fold_key(str(provider.id), *(str(contents[k] or "").strip().lower() for k in sorted(contents)))
            earlier = (
                await session.execute(
                    select(ConsultationRequest).where(ConsultationRequest.fold == fold, ConsultationRequest.created_at > utcnow() - FOLD_WINDOW).limit(1)
                )
            ).scalar_one_or_none()
            if earlier is not None:
                earlier.repeats += 1
                earlier.updated_at = utcnow()
                logger.info("consultation request %s repeated; folded", earlier.id)
                return ConsultationReceipt(reference=earlier.id, confirmation_mail=False)
            token = secrets.token_urlsafe(24)
            request = ConsultationRequest(
                provider_id=provider.id, key_id=caller.key_id, sealed=self.sealer.seal({**contents, "withdraw_token": token, "language": language}), fold=fold,
                withdraw_hash=_digest(token), has_email=bool(data.email), base_url=base_url,
            )  # fmt: skip
            session.add(request)
            await _tally(session, provider.id, caller.key_id)
        logger.info("consultation request %s received for listing %s", request.id, provider.id)
        return ConsultationReceipt(reference=request.id, confirmation_mail=bool(data.email))

    def _check_form_token(self, token: str, provider_id: uuid.UUID) -> None:
        try:
            values = cursors.decode(token, self.secret)
        except BadParameter:
            raise InvalidInput("form_token", "not a form token of this directory: fetch one with GET /v1/providers/{id}/consultation-form") from None
        if len(values) != 2 or values[0] != str(provider_id) or not isinstance(values[1], int):
            raise InvalidInput("form_token", "this form token belongs to another listing's form")
        age = time.time() - values[1]
        if age < MIN_SECONDS:
            raise InvalidInput("form_token", f"sent within {MIN_SECONDS} seconds of the form being shown; check the form and send it again")
        if age > MAX_FORM_AGE:
            raise InvalidInput("form_token", "the form is more than a day old: reload the page and send it again")

    async def withdraw(self, session: AsyncSession, request_id: uuid.UUID, token: str) -> None:
        """The requester takes the request back: it is deleted at once (the tally keeps its count)."""
        async with session.begin():
            request = await session.get(ConsultationRequest, request_id)
            if request is None or not secrets.compare_digest(request.withdraw_hash, _digest(token)):
                raise NotFound("no such request: it was withdrawn or deleted already, or the link is not complete")
            await session.delete(request)
        logger.info("consultation request %s withdrawn", request_id)

    # --- the clinic's side ---------------------------------------------------------------------

    async def settings_of(self, session: AsyncSession, caller: Caller, key: str) -> ConsultationSettingsPublic:
        provider = await _owned(session, caller, key)
        return ConsultationSettingsPublic(accepting=provider.consultations_accepted, email=provider.consultation_email)

    async def addresses(self, session: AsyncSession, caller: Caller, key: str) -> list[str]:
        """The confirmed addresses of the listing's owners: where its requests may be mailed."""
        return await _confirmed_addresses(session, (await _owned(session, caller, key)).id)

    async def configure(self, session: AsyncSession, caller: Caller, key: str, data: ConsultationSettings) -> ConsultationSettingsPublic:
        async with self.recorder.transaction(session):
            provider = await _owned(session, caller, key)
            email = (data.email or "").strip().lower() or None
            if data.accepting and email is None:
                raise InvalidInput("email", "give the address requests are mailed to: the confirmed address of one of the listing's owners")
            if email is not None:
                if email not in await _confirmed_addresses(session, provider.id):
                    raise InvalidInput("email", "requests go only to the confirmed address of one of the listing's owners (confirm it, or invite that person first)")
            if (provider.consultations_accepted, provider.consultation_email) != (data.accepting, email):
                before = provider.consultations_accepted
                provider.consultations_accepted, provider.consultation_email = data.accepting, email
                await bump_version(session, provider)  # the public listing says whether it takes requests
                record_change(session, provider.id, caller, "consultations", {"consultations_accepted": {"before": before, "after": data.accepting}})
        return ConsultationSettingsPublic(accepting=data.accepting, email=email)

    async def inbox(self, session: AsyncSession, caller: Caller, key: str, status: str | None, limit: int) -> list[ConsultationPublic]:
        provider = await _owned(session, caller, key)
        query = select(ConsultationRequest).where(ConsultationRequest.provider_id == provider.id)
        if status:
            query = query.where(ConsultationRequest.status == status)
        rows = (await session.execute(query.order_by(ConsultationRequest.created_at.desc()).limit(limit))).scalars().all()
        return [self.present(row) for row in rows]

    async def mark(self, session: AsyncSession, caller: Caller, key: str, request_id: uuid.UUID, status: str) -> ConsultationPublic:
        async with session.begin():
            provider = await _owned(session, caller, key)
            request = await session.get(ConsultationRequest, request_id)
            if request is None or request.provider_id != provider.id:
                raise NotFound(f"no consultation request {request_id} for this listing")
            request.status, request.updated_at = status, utcnow()
        logger.info("consultation request %s marked %s", request_id, status)
        return self.present(request)

    def present(self, row: ConsultationRequest) -> ConsultationPublic:
        data = self.sealer.open(row.sealed)
        return ConsultationPublic(
            id=row.id, name=data["name"], phone=data.get("phone"), email=data.get("email"), preferred_contact=data["preferred_contact"],
            preferred_time=data.get("preferred_time"), message=data.get("message"), status=row.status, repeats=row.repeats,
            delivered=row.clinic_sent_at is not None, via_partner=row.key_id is not None, created_at=row.created_at,
            deletes_on=row.created_at + self.retention,
        )  # fmt: skip

    # --- moderators ----------------------------------------------------------------------------

    async def volumes(self, session: AsyncSession, caller: Caller, limit: int) -> Volumes:
        ensure_moderator(caller)
        month = utcnow().strftime("%Y-%m")
        T = ConsultationTally
        listings = await session.execute(
            select(T.provider_id, Provider.name, func.sum(T.count), func.sum(_in_month(T, month)))
            .join(Provider, Provider.id == T.provider_id).group_by(T.provider_id, Provider.name).order_by(func.sum(T.count).desc()).limit(limit)
        )  # fmt: skip
        partners = await session.execute(
            select(T.key_id, func.max(ApiKey.name), func.sum(T.count), func.sum(_in_month(T, month)))
            .outerjoin(ApiKey, ApiKey.id == T.key_id).group_by(T.key_id).order_by(func.sum(T.count).desc()).limit(limit)
        )  # fmt: skip
        return Volumes(
            by_listing=[VolumeRow(id=pid, name=name, total=total, this_month=last) for pid, name, total, last in listings],
            by_partner=[VolumeRow(id=None if kid == NO_KEY else kid, name=name or "the directory's own pages and direct API calls", total=total, this_month=last) for kid, name, total, last in partners],
        )

    async def sent_through(self, session: AsyncSession) -> dict[uuid.UUID, dict[str, int]]:
        """Requests sent through each partner key, per month (for the key's usage)."""
        T = ConsultationTally
        rows = await session.execute(select(T.key_id, T.month, func.sum(T.count)).where(T.key_id != NO_KEY).group_by(T.key_id, T.month))
        counts: dict[uuid.UUID, dict[str, int]] = {}
        for key_id, month, count in rows:
            counts.setdefault(key_id, {})[month] = int(count)
        return counts

    async def read_for_abuse(self, session: AsyncSession, caller: Caller, request_id: uuid.UUID, reason: str) -> ConsultationPublic:
        """A moderator reads one request (reported abuse): the reading is recorded with its reason."""
        ensure_moderator(caller)
        async with session.begin():
            request = await session.get(ConsultationRequest, request_id)
            if request is None:
                raise NotFound(f"no consultation request {request_id}")
            session.add(ConsultationAccess(request_id=request.id, provider_id=request.provider_id, actor=caller.label, reason=reason))
        logger.info("consultation request %s read by %s for abuse", request_id, caller.label)
        return self.present(request)

    # --- retention -----------------------------------------------------------------------------

    async def purge(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Delete every request made more than ``retention`` ago; how many."""
        cutoff = (now or utcnow()) - self.retention
        async with session.begin():
            result = await session.execute(delete(ConsultationRequest).where(ConsultationRequest.created_at < cutoff))
        if result.rowcount:
            logger.info("deleted %d consultation requests past their retention", result.rowcount)
        return result.rowcount or 0


def _in_month(T: type[ConsultationTally], month: str) -> Any:
    """A tally row's count when it is of this month, else nothing."""
    return case((T.month == month, T.count), else_=0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _accepting(provider: Provider) -> bool:
    return bool(provider.consultations_accepted and provider.consultation_email)


async def _published(session: AsyncSession, key: str) -> Provider:
    provider = (await session.execute(select(Provider).where(by_key(key), Provider.status == ProviderStatus.published.value))).scalar_one_or_none()
    if provider is None:
        raise NotFound(f"no published listing {key}")
    return provider


async def _owned(session: AsyncSession, caller: Caller, key: str) -> Provider:
    """The listing, if this caller is one of its owners: requests are theirs alone (moderators read
    one only through ``read_for_abuse``, which is recorded)."""
    if caller.role is not Role.provider or caller.account_id is None:
        raise PermissionDenied("only the listing's owners read and handle its consultation requests")
    row = (
        await session.execute(
            select(Provider, ProviderOwner.account_id)
            .outerjoin(ProviderOwner, (ProviderOwner.provider_id == Provider.id) & (ProviderOwner.account_id == caller.account_id))
            .where(by_key(key))
        )
    ).first()
    if row is None or row[1] is None:
        raise NotFound(f"no listing {key} of yours")
    return row[0]


async def _confirmed_addresses(session: AsyncSession, provider_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        select(Account.email)
        .join(ProviderOwner, ProviderOwner.account_id == Account.id)
        .where(ProviderOwner.provider_id == provider_id, Account.email_verified_at.is_not(None), Account.disabled.is_(False))
        .order_by(Account.email)
    )
    return [address.lower() for address in rows.scalars()]


async def _tally(session: AsyncSession, provider_id: uuid.UUID, key_id: uuid.UUID | None) -> None:
    month = utcnow().strftime("%Y-%m")
    key = key_id or NO_KEY
    moved = await session.execute(
        update(ConsultationTally)
        .where(ConsultationTally.provider_id == provider_id, ConsultationTally.key_id == key, ConsultationTally.month == month)
        .values(count=ConsultationTally.count + 1)
    )
    if moved.rowcount == 0:
        session.add(ConsultationTally(provider_id=provider_id, key_id=key, month=month, count=1))
