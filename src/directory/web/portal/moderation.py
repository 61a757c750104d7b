"""The moderators' pages: what waits for review (a listing's changes before and after, claims with
the claiming account's evidence beside the listing's, held trust changes), with approve and reject
(a reason the clinic reads), suspend and restore; and, for administrators, partner keys and
accounts' roles. The same moderation, partner-key and account services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Role
from directory.accounts.models import Account
from directory.accounts.service import AccountService
from directory.errors import DirectoryError, PermissionDenied, invalid_input
from directory.listings.models import ProviderStatus
from directory.moderation import review
from directory.moderation.duplicates import Duplicates
from directory.moderation.reports import KIND_WORDS, NEEDS_REVIEW, Reports
from directory.moderation.schemas import DecisionIn, DuplicateDecision, ListingAction, ReportDecision
from directory.moderation.service import ModerationService
from directory.partners.schemas import ApiKeyCreate
from directory.partners.service import ApiKeyService
from directory.web.portal.pages import field_errors, page
from directory.web.portal.visits import N_, ThisVisit, redirect

Reader = NamedDependency[AsyncSession]
Writer = NamedDependency[AsyncSession]
Moderation = NamedDependency[ModerationService]
QUEUE = "/portal/moderation"
ROLE_CHANGED = {"provider": N_("{email} is now clinic staff."), "moderator": N_("{email} is now a moderator."), "admin": N_("{email} is now an administrator.")}


def _moderator(visit: ThisVisit) -> None:
    visit.signed_in()
    if not visit.moderates:
        raise PermissionDenied("only the directory's moderators may open this page")


@get("/moderation")
async def queue(
    visit: ThisVisit, reader: Reader, reports: NamedDependency[Reports], duplicates: NamedDependency[Duplicates], show: FromQuery[str] = "pending_review"
) -> Response[str]:
    """Everything waiting for a moderator, oldest first; suspended listings on request."""
    _moderator(visit)
    status = show if show in (ProviderStatus.pending_review.value, ProviderStatus.suspended.value, ProviderStatus.published.value) else "pending_review"
    return page(
        visit, "moderation.html", show=status,
        listings=await review.listing_reviews(reader, visit.caller, 50, status),
        claims=await review.claim_reviews(reader, visit.caller, 50),
        changes=await review.change_reviews(reader, visit.caller, 50),
        reports=await reports.open_reports(reader, visit.caller, 50), needs_review=NEEDS_REVIEW, kind_words=KIND_WORDS,
        duplicates=await duplicates.queue(reader, visit.caller, "open", 50),
    )  # fmt: skip


async def _decided(visit: ThisVisit, act: Any, what: str) -> Response[Any]:
    form = await visit.form()
    try:
        await act(form)
    except ValidationError as error:
        reason = next(iter(field_errors(invalid_input(error)).values()))
        return redirect(visit, QUEUE, visit.t("Not done: {reason}.", reason=visit.said(reason)))
    except DirectoryError as error:
        return redirect(visit, QUEUE, visit.t("Not done: {reason}.", reason=visit.said(error.detail)))
    return redirect(visit, QUEUE, what)


@post("/moderation/listings/{listing_id:uuid}")
async def act_on_listing(visit: ThisVisit, listing_id: FromPath[uuid.UUID], writer: Writer, moderation: Moderation) -> Response[Any]:
    """approve, reject (with a reason), suspend (with a reason) or restore a listing."""
    _moderator(visit)

    async def act(form: dict[str, Any]) -> None:
        action = ListingAction(action=str(form.get("action", "")), reason=str(form.get("reason", "")).strip() or None)  # type: ignore[arg-type]
        await moderation.act_on_listing(writer, visit.caller, str(listing_id), action)

    return await _decided(visit, act, visit.t("Done: the listing's owners get a mail with the decision."))


def _decision(form: dict[str, Any]) -> DecisionIn:
    return DecisionIn(decision=str(form.get("decision", "")), reason=str(form.get("reason", "")).strip() or None)  # type: ignore[arg-type]


@post("/moderation/claims/{claim_id:uuid}")
async def decide_claim(visit: ThisVisit, claim_id: FromPath[uuid.UUID], writer: Writer, moderation: Moderation) -> Response[Any]:
    _moderator(visit)

    async def act(form: dict[str, Any]) -> None:
        await moderation.decide_claim(writer, visit.caller, claim_id, _decision(form))

    return await _decided(visit, act, visit.t("Done: the claiming account gets a mail with the decision."))


@post("/moderation/changes/{change_id:uuid}")
async def decide_change(visit: ThisVisit, change_id: FromPath[uuid.UUID], writer: Writer, moderation: Moderation) -> Response[Any]:
    _moderator(visit)

    async def act(form: dict[str, Any]) -> None:
        await moderation.decide_change(writer, visit.caller, change_id, _decision(form))

    return await _decided(visit, act, visit.t("Done."))


@post("/moderation/reports/{report_id:uuid}")
async def decide_report(visit: ThisVisit, report_id: FromPath[uuid.UUID], writer: Writer, reports: NamedDependency[Reports]) -> Response[Any]:
    _moderator(visit)

    async def act(form: dict[str, Any]) -> None:
        decision = ReportDecision(decision=str(form.get("decision", "")), note=str(form.get("reason", "")).strip() or None)  # type: ignore[arg-type]
        await reports.decide(writer, visit.caller, report_id, decision)

    return await _decided(visit, act, visit.t("Done."))


@post("/moderation/duplicates/{candidate_id:uuid}")
async def decide_duplicate(visit: ThisVisit, candidate_id: FromPath[uuid.UUID], writer: Writer, duplicates: NamedDependency[Duplicates]) -> Response[Any]:
    _moderator(visit)

    async def act(form: dict[str, Any]) -> None:
        decision, keep = str(form.get("decision", "")), str(form.get("keep", "")).strip()
        data = DuplicateDecision(decision=decision, keep=keep or None if decision == "merge" else None, note=str(form.get("reason", "")).strip() or None)  # type: ignore[arg-type]
        await duplicates.decide(writer, visit.caller, candidate_id, data)

    return await _decided(visit, act, visit.t("Done."))


def _admin(visit: ThisVisit) -> None:
    visit.signed_in()
    if not visit.caller.is_admin:
        raise PermissionDenied("only the directory's administrators may open this page")


@get("/moderation/keys")
async def keys(visit: ThisVisit, reader: Reader, api_keys: NamedDependency[ApiKeyService]) -> Response[str]:
    """Partner keys: who has one, what it may do, its use; make and revoke them."""
    _admin(visit)
    return page(visit, "keys.html", keys=await api_keys.list(reader, visit.caller), values={"scopes": ["read"], "kind": "secret", "rate_limit": "600"})


@post("/moderation/keys")
async def create_key(visit: ThisVisit, reader: Reader, writer: Writer, api_keys: NamedDependency[ApiKeyService]) -> Response[Any]:
    _admin(visit)
    form = await visit.form()
    scopes = form.get("scopes", [])
    data = {
        "name": form.get("name", ""), "owner_contact": form.get("owner_contact", ""), "kind": form.get("kind", "secret"),
        "scopes": [scopes] if isinstance(scopes, str) else scopes, "rate_limit": str(form.get("rate_limit", "")).strip() or 600,
        "allowed_origins": [line.strip() for line in str(form.get("allowed_origins", "")).splitlines() if line.strip()],
    }  # fmt: skip
    try:
        created = await api_keys.create(writer, visit.caller, ApiKeyCreate.model_validate(data))
    except ValidationError as error:
        errors = {field.split(".")[0]: reason for field, reason in field_errors(invalid_input(error)).items()}
        return page(visit, "keys.html", 422, keys=await api_keys.list(reader, visit.caller), values=form, errors=errors)
    except DirectoryError as error:
        return page(visit, "keys.html", 422, keys=await api_keys.list(reader, visit.caller), values=form, errors=field_errors(error))
    return page(visit, "keys.html", keys=await api_keys.list(reader, visit.caller), created=created, values={"scopes": ["read"], "kind": "secret", "rate_limit": "600"})


@post("/moderation/keys/{key_id:uuid}/revoke")
async def revoke_key(visit: ThisVisit, key_id: FromPath[uuid.UUID], writer: Writer, api_keys: NamedDependency[ApiKeyService]) -> Response[Any]:
    _admin(visit)
    await visit.form()
    await api_keys.revoke(writer, visit.caller, key_id)
    return redirect(visit, "/portal/moderation/keys", visit.t("The key is revoked: it no longer works."))


@get("/moderation/accounts")
async def accounts_page(visit: ThisVisit, reader: Reader) -> Response[str]:
    """Moderators and administrators, and a form to change an account's role."""
    _admin(visit)
    staff = await reader.execute(select(Account).where(Account.role != Role.provider.value).order_by(Account.email))
    return page(visit, "roles.html", staff=list(staff.scalars()), values={})


@post("/moderation/accounts")
async def set_role(visit: ThisVisit, reader: Reader, writer: Writer, accounts: NamedDependency[AccountService]) -> Response[Any]:
    _admin(visit)
    form = await visit.form()
    email, role = str(form.get("email", "")).strip().lower(), str(form.get("role", ""))
    found = (await reader.execute(select(Account.id).where(Account.email == email))).scalar_one_or_none()
    await reader.rollback()
    staff = list((await reader.execute(select(Account).where(Account.role != Role.provider.value).order_by(Account.email))).scalars())
    if found is None:
        return page(visit, "roles.html", 422, staff=staff, values=form, errors={"email": visit.t("no account has this email")})
    if role not in ("provider", "moderator", "admin"):
        return page(visit, "roles.html", 422, staff=staff, values=form, errors={"role": visit.t("choose a role")})
    await accounts.set_role(writer, visit.caller, found, Role(role))
    return redirect(visit, "/portal/moderation/accounts", visit.t(ROLE_CHANGED[role], email=email))


ROUTES = [queue, act_on_listing, decide_claim, decide_change, decide_report, decide_duplicate, keys, create_key, revoke_key, accounts_page, set_role]
