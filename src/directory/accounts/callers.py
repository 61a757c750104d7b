"""Who is calling, and what their role lets them do, whatever they touch.

Callers are anonymous, a partner key, a provider account (clinic staff), a moderator, an
administrator (an admin account, or the bootstrap ``DIRECTORY_ADMIN_TOKEN``). The rules about
particular listings (who reads or changes which) live in ``directory.listings.policy``.
"""

from __future__ import annotations

import enum
import hmac
import uuid
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from directory.accounts import tokens
from directory.errors import NotAuthenticated, PermissionDenied
from directory.settings import Settings


class Role(str, enum.Enum):
    """What a caller is; an account holds one of provider, moderator and admin (``ACCOUNT_ROLES``)."""

    anonymous = "anonymous"
    partner = "partner"
    provider = "provider"
    moderator = "moderator"
    admin = "admin"


@dataclass(frozen=True)
class Caller:
    role: Role
    account_id: uuid.UUID | None = None
    scopes: tuple[str, ...] = ()
    """A partner key's scopes: read, sync."""
    key_id: uuid.UUID | None = None
    """The partner key's id, for what a partner owns (webhook subscriptions)."""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def moderates(self) -> bool:
        """Moderators and administrators see and change every listing."""
        return self.role in (Role.moderator, Role.admin)

    @property
    def label(self) -> str:
        """How the caller is named in a listing's history."""
        return f"{self.role.value}:{self.account_id}" if self.account_id else self.role.value


ACCOUNT_ROLES = (Role.provider, Role.moderator, Role.admin)
ANONYMOUS = Caller(Role.anonymous)
ADMIN = Caller(Role.admin)


def identify(connection: ASGIConnection, settings: Settings) -> Caller:
    """Read the bearer token, if any. A token that is sent but not valid is an error, not anonymity.

    A partner's X-API-Key was already checked at the edge (see ``directory.edge``), which left
    the recognised key in the request's state.
    """
    header = connection.headers.get("authorization")
    if not header:
        key = connection.scope.get("state", {}).get("api_key")
        return Caller(Role.partner, scopes=key.scopes, key_id=key.id) if key is not None else ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    # As bytes: a token may hold any characters, and compare_digest takes only ASCII strings.
    if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return ADMIN
    claims = tokens.read(token, settings.secret_key)
    if claims is None:
        if token.count(".") != 2:  # not a login token at all: most likely an administrator token this server was not given
            hint = "" if settings.admin_token else "; an administrator token works only when the server is started with DIRECTORY_ADMIN_TOKEN"
            raise NotAuthenticated(f"this bearer token is not one this directory issued: log in at POST /v1/auth/token{hint}")
        raise NotAuthenticated("the bearer token is not valid or has expired; log in again at POST /v1/auth/token")
    try:
        role = Role(claims.role)
    except ValueError:
        raise NotAuthenticated("the bearer token is not valid") from None
    return Caller(role, claims.account_id)


def ensure_can_write(caller: Caller) -> None:
    """Any signed-in account may create listings; anonymous callers and partner keys may not write."""
    if caller.role is Role.anonymous:
        raise NotAuthenticated("writing needs a bearer token (Authorization: Bearer <token>)")
    if caller.role is Role.partner:
        raise PermissionDenied("API keys read and sync; changing listings needs an account's bearer token")


def ensure_moderator(caller: Caller) -> None:
    ensure_can_write(caller)
    if not caller.moderates:
        raise PermissionDenied("only moderators may do this")


def ensure_admin(caller: Caller) -> None:
    ensure_can_write(caller)
    if not caller.is_admin:
        raise PermissionDenied("only administrators may do this")


def ensure_sync(caller: Caller) -> None:
    """The change feed, exports and webhooks: partner keys with the sync scope, and administrators."""
    if caller.is_admin or (caller.role is Role.partner and "sync" in caller.scopes):
        return
    if caller.role is Role.anonymous:
        raise NotAuthenticated("syncing needs a partner API key with the sync scope (X-API-Key)")
    raise PermissionDenied("syncing needs a partner API key with the sync scope, or an administrator")


def writers_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Route guard: runs before the body is read, so an anonymous write is a 401, not a 422."""
    ensure_can_write(identify(connection, connection.app.state.settings))


def sync_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Route guard for the sync routes: a partner key with the sync scope, or an administrator."""
    ensure_sync(identify(connection, connection.app.state.settings))

