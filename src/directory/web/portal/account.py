"""Signing up, in and out; confirming the address; a forgotten password; changing the password or
the address. The same services, limits and password rules as the API's accounts routes."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from directory import i18n
from directory.accounts.passwords import policy_problem
from directory.accounts.schemas import AccountCreate, Credentials
from directory.accounts.service import AccountService
from directory.errors import Conflict, InvalidInput, NotAuthenticated, TooManyRequests, invalid_input
from directory.web.portal.pages import field_errors, page
from directory.web.portal.visits import CSRF_COOKIE, N_, SESSION_COOKIE, ThisVisit, redirect, safe_next

Accounts = NamedDependency[AccountService]
Writer = NamedDependency[AsyncSession]
Next = Annotated[str | None, QueryParameter(name="next", max_length=500)]


async def _start_session(visit: ThisVisit, writer: AsyncSession, accounts: AccountService, account_id: Any) -> None:
    """A new session id at every sign-in (and a new form token with it)."""
    async with writer.begin():
        token = await accounts.sessions.start(writer, account_id)
    visit.cookie(SESSION_COOKIE, token, max_age=visit.state.settings.session_lifetime_hours * 3600)
    visit.csrf_seed = secrets.token_urlsafe(24)
    visit.cookie(CSRF_COOKIE, visit.csrf_seed)


@get("/sign-up")
async def sign_up_form(visit: ThisVisit, next_page: Next = None) -> Response[str]:
    """Create an account: clinic staff, with a work email."""
    return page(visit, "sign_up.html", values={"next": safe_next(next_page)})


@post("/sign-up")
async def sign_up(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    form = await visit.form()
    values = {name: str(form.get(name, "")) for name in ("email", "display_name", "next")}
    try:
        data = AccountCreate(email=values["email"], password=str(form.get("password", "")), display_name=values["display_name"] or None)
        created = await accounts.sign_up(writer, data, language=visit.language)
    except ValidationError as error:
        return page(visit, "sign_up.html", 422, values=values, errors=field_errors(invalid_input(error)))
    except Conflict:
        return page(visit, "sign_up.html", 409, values=values, errors={"email": visit.t("an account with this email exists: sign in, or reset its password")})
    except InvalidInput as error:
        return page(visit, "sign_up.html", 422, values=values, errors=field_errors(error))
    await _start_session(visit, writer, accounts, created.id)
    return redirect(visit, safe_next(values["next"]), visit.t("Welcome. We sent a link to {email}: open it to confirm your address.", email=created.email))


@get("/sign-in")
async def sign_in_form(visit: ThisVisit, next_page: Next = None) -> Response[Any]:
    """Sign in with email and password."""
    if visit.account is not None:
        return redirect(visit, safe_next(next_page))
    return page(visit, "sign_in.html", values={"next": safe_next(next_page)})


@post("/sign-in")
async def sign_in(visit: ThisVisit, writer: Writer, reader: NamedDependency[AsyncSession], accounts: Accounts) -> Response[Any]:
    form = await visit.form()
    values = {name: str(form.get(name, "")) for name in ("email", "next")}
    client = visit.request.client.host if visit.request.client else "unknown"
    try:
        account = await accounts.authenticate(reader, Credentials(email=values["email"], password=str(form.get("password", ""))), client)
    except ValidationError as error:
        return page(visit, "sign_in.html", 422, values=values, errors=field_errors(invalid_input(error)))
    except NotAuthenticated:
        return page(visit, "sign_in.html", 401, values=values, errors={"email": visit.t("the email or password is wrong")})
    except TooManyRequests as error:
        response = page(visit, "sign_in.html", 429, values=values, errors={"email": visit.t("too many failed sign-ins: wait a few minutes before trying again")})
        response.headers.update(error.headers)
        return response
    await _start_session(visit, writer, accounts, account.id)
    return redirect(visit, safe_next(values["next"]))


@post("/sign-out")
async def sign_out(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    await visit.form()
    if visit.session_token:
        async with writer.begin():
            await accounts.sessions.end(writer, visit.session_token)
    visit.forget_cookie(SESSION_COOKIE)
    return redirect(visit, "/portal/sign-in", visit.t("You are signed out."))


@get("/verify")
async def verify_form(visit: ThisVisit, token: FromQuery[str] = "") -> Response[str]:
    """The page of the link mailed to confirm an address: one button confirms it (a link checker
    that opens the link confirms nothing)."""
    return page(visit, "verify.html", token=token[:200])


@post("/verify")
async def verify(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    form = await visit.form()
    try:
        account = await accounts.recovery.verify(writer, str(form.get("token", "")))
    except (InvalidInput, Conflict) as error:
        return page(visit, "verify.html", 400, token="", failure=field_errors(error).get("token", error.detail))
    target = "/portal/listings" if visit.account is not None and visit.account.id == account.id else "/portal/sign-in"
    return redirect(visit, target, visit.t("Thank you: {email} is confirmed.", email=account.email))


@post("/verify/resend")
async def resend_verification(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    account = visit.signed_in()
    await visit.form()
    try:
        async with writer.begin():
            await accounts.recovery.send_verification(writer, await writer.merge(account))
    except TooManyRequests:
        return redirect(visit, "/portal/account", visit.t("Too many links were sent in the last hour; try again later."))
    return redirect(visit, "/portal/account", visit.t("We sent a new link to {email}.", email=account.email))


@get("/forgot")
async def forgot_form(visit: ThisVisit) -> Response[str]:
    """Forgot the password: a single-use link that lasts an hour, sent by mail."""
    return page(visit, "forgot.html")


@post("/forgot")
async def forgot(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    form = await visit.form()
    email = str(form.get("email", ""))
    try:
        address = Credentials(email=email, password="x").email
    except ValidationError as error:
        return page(visit, "forgot.html", 422, values={"email": email}, errors={"email": field_errors(invalid_input(error)).get("email", "enter an email address")})
    try:
        await accounts.recovery.request_reset(writer, address)
    except TooManyRequests:
        pass  # the same answer: the page never tells whether an account exists
    return page(visit, "forgot.html", sent=address)


@get("/reset")
async def reset_form(visit: ThisVisit, reader: NamedDependency[AsyncSession], accounts: Accounts, token: FromQuery[str] = "") -> Response[str]:
    try:
        await accounts.recovery.check_reset(reader, token)
    except InvalidInput as error:
        return page(visit, "reset.html", 400, token="", failure=error.errors[0].reason)
    return page(visit, "reset.html", token=token)


@post("/reset")
async def reset(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    form = await visit.form()
    token = str(form.get("token", ""))
    try:
        account = await accounts.recovery.reset(writer, token, str(form.get("password", "")))
    except InvalidInput as error:
        if error.errors[0].field == "token":
            return page(visit, "reset.html", 400, token="", failure=error.errors[0].reason)
        return page(visit, "reset.html", 422, token=token, errors=field_errors(error))
    await _start_session(visit, writer, accounts, account.id)
    return redirect(visit, "/portal/listings", visit.t("Your password is changed, and every other session of your account was signed out."))


@get("/account")
async def account_page(visit: ThisVisit) -> Response[str]:
    """The account: its address (confirmed or not), the password and the address to change."""
    account = visit.signed_in()
    return page(visit, "account.html", values={"display_name": account.display_name or ""})


@post("/account/password")
async def change_password(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    account = visit.signed_in()
    form = await visit.form()
    try:
        await accounts.recovery.change_password(writer, account.id, str(form.get("current_password", "")), str(form.get("password", "")), keep=visit.session_token)
    except InvalidInput as error:
        return page(visit, "account.html", 422, errors=field_errors(error), values={})
    return redirect(visit, "/portal/account", visit.t("Your password is changed; your other sessions were signed out."))


@post("/account/email")
async def change_email(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    account = visit.signed_in()
    form = await visit.form()
    new_email = str(form.get("email", ""))
    try:
        address = Credentials(email=new_email, password="x").email
        await accounts.recovery.change_email(writer, account.id, str(form.get("email_password", "")), address)
    except ValidationError as error:
        return page(visit, "account.html", 422, values={"email": new_email}, errors={"email": field_errors(invalid_input(error)).get("email", "enter an email address")})
    except InvalidInput as error:
        errors = {("email_password" if e.field == "password" else e.field): e.reason for e in error.errors}
        return page(visit, "account.html", 422, values={"email": new_email}, errors=errors)
    except TooManyRequests:
        return redirect(visit, "/portal/account", visit.t("Too many links were sent in the last hour; try again later."))
    return redirect(visit, "/portal/account", visit.t("We sent a link to {email}: your address changes when you open it.", email=address))


@post("/account/language")
async def change_language(visit: ThisVisit, writer: Writer, accounts: Accounts) -> Response[Any]:
    """The language the directory writes to the account in."""
    visit.signed_in()
    form = await visit.form()
    language = str(form.get("language", ""))
    if language not in i18n.LANGUAGES:
        return page(visit, "account.html", 422, values={}, errors={"language": visit.t("choose one of the languages offered")})
    await accounts.set_language(writer, visit.caller, language)
    return redirect(visit, "/portal/account", visit.t("Saved: we write to you in {language}.", language=i18n.LANGUAGES[language]))


@post("/password-check", media_type="application/json")
async def password_check(visit: ThisVisit) -> dict[str, Any]:
    """As a password is typed: whether the directory would take it, and why not (zxcvbn's feedback)."""
    form = await visit.form()
    password, email = str(form.get("password", ""))[:200], str(form.get("email", "") or (visit.account.email if visit.account else ""))
    problem = policy_problem(password, email) if password else N_("enter a password")
    return {"ok": problem is None, "message": visit.said(problem) if problem else visit.t("a strong password")}


ROUTES = [
    sign_up_form, sign_up, sign_in_form, sign_in, sign_out, verify_form, verify, resend_verification, forgot_form, forgot,
    reset_form, reset, account_page, change_password, change_email, change_language, password_check,
]  # fmt: skip
