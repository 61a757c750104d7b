"""Who is calling, and what they may touch: the single place that decides.

Until provider accounts exist there are two kinds of caller: anonymous (reads published listings)
and the administrator holding ``DIRECTORY_ADMIN_TOKEN`` (reads and writes everything). Services ask
the policy functions here rather than checking roles themselves.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import ColumnElement, true

from directory.errors import NotAuthenticated, PermissionDenied
from directory.listings.models import Provider, ProviderStatus
from directory.settings import Settings


class Role(str, enum.Enum):
    anonymous = "anonymous"
    admin = "admin"


@dataclass(frozen=True)
class Caller:
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin


ANONYMOUS = Caller(Role.anonymous)
ADMIN = Caller(Role.admin)


def identify(request: Request | ASGIConnection, settings: Settings) -> Caller:
    """Read the bearer token, if any. A token that is sent but wrong is an error, not anonymity."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    if settings.admin_token and hmac.compare_digest(token.strip(), settings.admin_token):
        return ADMIN
    raise NotAuthenticated("the bearer token is not valid")


def readable_providers(caller: Caller) -> ColumnElement[bool]:
    """The condition a provider row must meet for this caller to see it."""
    if caller.is_admin:
        return true()
    return Provider.status == ProviderStatus.published


def ensure_can_write(caller: Caller) -> None:
    """Refuse any change to listings or taxonomies by a caller without the right."""
    if caller.role is Role.anonymous:
        raise NotAuthenticated("writing needs a bearer token (Authorization: Bearer <token>)")
    if not caller.is_admin:
        raise PermissionDenied("this account may not change listings")


def writers_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Route guard: runs before the body is read, so an anonymous write is a 401, not a 422."""
    ensure_can_write(identify(connection, connection.app.state.settings))
