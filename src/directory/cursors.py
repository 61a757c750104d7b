"""Opaque pagination cursors: a signed, URL-safe encoding of the last row's sort key.

The signature makes an edited cursor a clear 400 instead of a silently different page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from directory.errors import BadParameter


def encode(values: list[Any], secret: str) -> str:
    payload = json.dumps(values, separators=(",", ":"), default=str).encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


def decode(cursor: str, secret: str, *, field: str = "cursor") -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        raise BadParameter(field, "not a cursor returned by this API") from None
    signature, payload = raw[:12], raw[12:]
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
    if len(raw) <= 12 or not hmac.compare_digest(signature, expected):
        raise BadParameter(field, "the cursor was altered or comes from another query; start again without it")
    try:
        values = json.loads(payload)
    except ValueError:
        raise BadParameter(field, "not a cursor returned by this API") from None
    if not isinstance(values, list):
        raise BadParameter(field, "not a cursor returned by this API")
    return values
