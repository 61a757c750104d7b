"""What the API-key routes accept and return. The key itself is returned once, at creation."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import AfterValidator, BaseModel, Field
from typing_extensions import Annotated

from directory.validation import Email, Label, Schema

_H = "[0-9A-Fa-f]{1,4}"
#: An IPv6 address in its text forms (RFC 4291 section 2.2, without an embedded IPv4 or a zone).
_IPV6 = (
    f"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}|({_H}:){{1,4}}(:{_H}){{1,3}}"
    f"|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:))"
)
_HOST = rf"(\[{_IPV6}\]|[A-Za-z0-9]([A-Za-z0-9.-]{{0,251}}[A-Za-z0-9])?)"
_ORIGIN = re.compile(rf"^https?://{_HOST}(:[0-9]{{1,5}})?$")


def _origin(value: str) -> str:
    origin = value.strip().lower().rstrip("/")
    if not _ORIGIN.match(origin):
        raise ValueError("an origin is a scheme, a host and an optional port, such as https://www.publisher.example (no path)")
    return origin


#: A web origin as browsers send it in the Origin header.
_ORIGIN_PATTERN = rf"^\s*[Hh][Tt][Tt][Pp][Ss]?://{_HOST}(:[0-9]{{1,5}})?/*\s*$"
WebOrigin = Annotated[
    str,
    Field(
        max_length=300,
        examples=["https://www.publisher.example"],
        json_schema_extra={"pattern": _ORIGIN_PATTERN},
        description="a scheme, a host and an optional port, without a path (as browsers send Origin)",
    ),
    AfterValidator(_origin),
]


class ApiKeyCreate(Schema):
    name: Label = Field(examples=["Health publisher widget"])
    owner_contact: Email = Field(examples=["dev@publisher.example"])
    scopes: list[Literal["read", "sync", "publish"]] = Field(
        default_factory=lambda: ["read"],
        min_length=1,
        max_length=3,
        description="read; sync (change feed, export, webhooks, imports); publish (a trusted publisher: its imports "
        "publish without a moderator; without it, imported listings asking to be published are held for review)",
    )
    rate_limit: int = Field(default=600, ge=1, le=100_000, description="requests per minute")
    kind: Literal["secret", "browser"] = Field(
        default="secret",
        description="secret: for servers, sent as X-API-Key, never from a web page. browser: publishable in HTML, "
        "read scope only, accepted only from `allowed_origins` (sent as the `key` query parameter or X-API-Key)",
    )
    allowed_origins: list[WebOrigin] = Field(
        default_factory=list, max_length=20, description="browser keys only: the origins whose pages may use the key"
    )


class ApiKeyPublic(BaseModel):
    id: uuid.UUID
    prefix: str
    name: str
    owner_contact: str
    scopes: list[str]
    rate_limit: int
    kind: str
    allowed_origins: list[str]
    created_at: datetime
    revoked_at: datetime | None
    usage: dict[str, int] = Field(default_factory=dict, description="requests per UTC day, last 7 days")
    consultation_requests: dict[str, int] = Field(
        default_factory=dict, description="consultation requests patients sent through the key, per month (YYYY-MM): counts only"
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="shown only now. A secret key: send it as X-API-Key and store it safely. A browser key: publish it in your pages")
