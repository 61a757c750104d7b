"""Bearer tokens for accounts: short-lived signed JWTs carrying the account id and role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

ALGORITHM = "HS256"
ISSUER = "directory"


@dataclass(frozen=True)
class TokenClaims:
    account_id: uuid.UUID
    role: str


def issue(account_id: uuid.UUID, role: str, secret: str, lifetime: timedelta) -> tuple[str, datetime]:
    expires = datetime.now(timezone.utc) + lifetime
    token = jwt.encode(
        {"sub": str(account_id), "role": role, "exp": expires, "iss": ISSUER, "iat": datetime.now(timezone.utc)},
        secret,
        algorithm=ALGORITHM,
    )
    return token, expires


def read(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
        return TokenClaims(uuid.UUID(claims["sub"]), str(claims.get("role", "provider")))
    except (jwt.PyJWTError, ValueError, KeyError):
        return None
