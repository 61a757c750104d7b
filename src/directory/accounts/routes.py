"""POST /v1/accounts, POST /v1/auth/token, GET /v1/me."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import Caller, Role, writers_only
from directory.accounts.schemas import AccountCreate, AccountNpiPublic, AccountPublic, AccountSettings, Credentials, NpiClaim, RoleChange, Token
from directory.accounts.service import AccountService


class AccountController(Controller):
    path = "/v1"
    tags = ["accounts"]

    @post("/accounts", status_code=HTTP_201_CREATED, summary="Sign up", opt={"problems": (409,)})
    async def sign_up(
        self, data: JSONBody[AccountCreate], writer: NamedDependency[AsyncSession], accounts: NamedDependency[AccountService]
    ) -> AccountPublic:
        """Create a provider account (clinic staff) with an email and a password.

        The password needs at least 10 characters and must not be the email or a common password.
        A link to confirm the address is mailed to it (the clinic portal at /portal/ needs it confirmed
        before a listing is submitted or claimed there). `language` (`en` or `es`) is the language of
        the directory's mails to the account (PATCH /v1/me changes it). Then log in with POST
        /v1/auth/token. Who: anyone.
        """
        return await accounts.sign_up(writer, data)

    @post("/auth/token", status_code=HTTP_200_OK, summary="Log in")
    async def log_in(
        self,
        request: Request,
        data: JSONBody[Credentials],
        reader: NamedDependency[AsyncSession],
        accounts: NamedDependency[AccountService],
    ) -> Token:
        """Exchange email and password for a bearer token (valid for an hour by default).

        Send it as `Authorization: Bearer <token>`. After 5 failed attempts for an email or from an
        address within 15 minutes, logins are refused with 429 and Retry-After. Who: anyone.
        """
        client = request.client.host if request.client else "unknown"
        return await accounts.log_in(reader, data, client)

    @get("/me", guards=[writers_only], security=[{"bearer": []}], summary="Who am I", opt={"problems": (404,)})
    async def me(
        self, reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller], accounts: NamedDependency[AccountService]
    ) -> AccountPublic:
        """The account behind the bearer token, with the ids of the listings it owns. Who: any signed-in account."""
        return await accounts.me(reader, caller)

    @patch("/me", guards=[writers_only], security=[{"bearer": []}], summary="Change your account's settings", opt={"problems": (404,)})
    async def update_me(
        self,
        data: JSONBody[AccountSettings],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        accounts: NamedDependency[AccountService],
    ) -> AccountPublic:
        """Change the language the directory's mails to you are written in (`en` or `es`: address
        confirmations, password notices, invitations, review decisions, claim results, reports and
        consultation requests; their links open the portal in that language). Who: any signed-in account."""
        return await accounts.set_language(writer, caller, data.language)

    @post("/me/npis", guards=[writers_only], security=[{"bearer": []}], status_code=202, summary="Register your NPI", opt={"problems": (404,)})
    async def add_npi(
        self,
        data: JSONBody[NpiClaim],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        accounts: NamedDependency[AccountService],
    ) -> AccountNpiPublic:
        """Say that an organisation NPI is yours. It is checked against the NPPES registry within
        seconds (exists, active, an organisation); once verified, claiming a listing with that NPI
        is granted at once, and a claim already waiting for it is granted then. Who: any signed-in account."""
        return await accounts.add_npi(writer, caller, data)

    @get("/me/npis", guards=[writers_only], security=[{"bearer": []}], summary="Your NPIs", opt={"problems": (404,)})
    async def list_npis(
        self, reader: NamedDependency[AsyncSession], caller: NamedDependency[Caller], accounts: NamedDependency[AccountService]
    ) -> list[AccountNpiPublic]:
        """The NPIs you registered and whether the registry confirmed them. Who: any signed-in account."""
        return await accounts.npis(reader, caller)

    @patch("/admin/accounts/{account_id:uuid}", guards=[writers_only], security=[{"bearer": []}], summary="Change an account's role")
    async def set_role(
        self,
        account_id: FromPath[uuid.UUID],
        data: JSONBody[RoleChange],
        writer: NamedDependency[AsyncSession],
        caller: NamedDependency[Caller],
        accounts: NamedDependency[AccountService],
    ) -> AccountPublic:
        """Make an account a provider, moderator or admin. Administrators only."""
        return await accounts.set_role(writer, caller, account_id, Role(data.role))
