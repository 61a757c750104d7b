"""Webhooks: the endpoint guard, signing, and queuing deliveries (the worker is ``sender``).

Deliveries are rows written in the same transaction as the change they announce (see
``directory.sync.feed``), so none is lost to a crash or a restart, and none is sent for a change
that rolled back. Each subscription's deliveries form one queue, sent in order by
``directory.sync.sender``.

Each delivery is signed the way the Standard Webhooks specification describes: the headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``{id}.{timestamp}.{body}`` with the subscription's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from directory.accounts.callers import Caller
from directory.errors import InvalidInput, NotFound
from directory.settings import Settings
from directory.sync.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookStatus, WebhookSubscription

log = logging.getLogger("directory.webhooks")

#: The most pending deliveries one subscription's queue holds, by default (DIRECTORY_WEBHOOK_QUEUE_LIMIT).
QUEUE_LIMIT = 10_000



# --- the URL guard -----------------------------------------------------------------------------


#: Prefixes whose last 32 bits are an IPv4 address: NAT64's well-known and local-use ones (RFC 6052,
#: RFC 8215), IPv4-translated (RFC 2765, ``::ffff:0:a.b.c.d``) and the deprecated IPv4-compatible
#: form (RFC 4291, ``::a.b.c.d``).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_LAST_32 = (*_NAT64, _TRANSLATED, _COMPATIBLE)


def _embedded(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, translated, compatible, 6to4, Teredo
    (server and client), NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found += list(address.teredo)
    if any(address in network for network in _LAST_32):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


#: The IANA special-purpose address registries' blocks that are not globally reachable, spelled
#: out so that the rule does not depend on the Python version's idea of ``is_global``.
_SPECIAL = [
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "100::/64", "2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:db8::/32", "fc00::/7",
        "fe80::/10", "ff00::/8", "64:ff9b:1::/48",
    )
]  # fmt: skip


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global or address.is_multicast or any(address in block for block in _SPECIAL if block.version == address.version)


#: IPv6 forms whose destination is the IPv4 address inside them: 6to4, Teredo, NAT64's well-known
#: prefix, IPv4-translated and IPv4-compatible addresses.
_CARRIERS = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"), _NAT64[0], _TRANSLATED, _COMPATIBLE)


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public unicast address, by the IANA special-purpose registries (shared
    address space 100.64/10, 192.0.0/24, benchmarking 198.18/15, 240/4 and the like included),
    also when it hides inside an IPv6 address (mapped, 6to4, Teredo, NAT64). An IPv6 address that
    only carries an IPv4 one (6to4, Teredo, NAT64) is judged by what it carries: Python versions
    disagree on whether 2002::/16 itself is global, and the rule must not depend on the version."""
    inner = _embedded(address)
    if inner and any(address in carrier for carrier in _CARRIERS if carrier.version == address.version):
        return any(_special(one) for one in inner)
    return any(_special(one) for one in (address, *inner))


async def check_url(url: str, settings: Settings, field: str = "url") -> list[str]:
    """Refuse endpoints a webhook must never reach: the API's own network, cloud metadata, and so on.

    The host is resolved once and every address it resolves to is checked: anything but a public
    unicast address is refused unless it lies in DIRECTORY_WEBHOOK_ALLOWED_NETWORKS. Checked on
    registration and again before each delivery, which then connects to the address checked here
    (no second lookup a rebinding name could answer differently). The checked addresses.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(field, "not a valid URL") from None
    schemes = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in schemes:
        raise InvalidInput(field, "webhook endpoints must use https://")
    if not parts.hostname:
        raise InvalidInput(field, "the URL has no host")
    if parts.username or parts.password:
        raise InvalidInput(field, "put no credentials in the URL: verify the signature instead")
    try:
        infos = await anyio.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise InvalidInput(field, f"the host {parts.hostname} does not resolve") from None
    allowed = [ipaddress.ip_network(network, strict=False) for network in settings.webhook_allowed_networks]
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if _forbidden(address) and not any(address in network for network in allowed):
            raise InvalidInput(field, f"the host resolves to {address}, which is not a public address")
        addresses.append(str(address))
    return addresses


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The request to ``url`` sent to ``address`` itself: the URL with the address as its host, the
    Host header, and TLS checked against the URL's own host name (sni_hostname)."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return target, {"Host": host or ""}, extensions


# --- signing -----------------------------------------------------------------------------------


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for this delivery."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- enqueueing (inside the committing transaction) ----------------------------------------------


def _event(kind: str, events: list[str]) -> str | None:
    """The event a subscription gets for a feed entry of this kind, if any. A merge reaches
    subscriptions made before ``listing.merged`` existed (or without it) as ``listing.removed``."""
    event = EVENTS[kind]
    if event in events:
        return event
    if event == "listing.merged" and "listing.removed" in events:
        return "listing.removed"
    return None


def enqueue(session: Session, entries: list[Any], limit: int) -> None:
    """A delivery per feed entry for every subscription to its event, paused ones included (their
    queue waits for them), each queue holding at most ``limit`` pending deliveries. What does not fit
    is not queued: the subscription's ``missed_after`` keeps the feed cursor to catch up from."""
    if not entries:
        return
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.status, WebhookSubscription.failures_in_row)
    ).all()
    for subscription_id, events, status, failures in subscriptions:
        wanted = [(entry, event) for entry in entries if (event := _event(entry.kind, events))]
        if not wanted:
            continue
        room = len(wanted)
        if status != WebhookStatus.active.value or failures:
            # Only a queue that is not draining can be full: count it then, and only up to the limit.
            queued = session.execute(
                select(func.count()).select_from(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == DeliveryStatus.pending.value)
                    .limit(limit)
                    .subquery()
                )
            ).scalar_one()
            room = max(0, limit - queued)
        for entry, event in wanted[:room]:
            data: dict[str, Any] = {"id": str(entry.provider_id), "version": entry.version, "cursor": str(entry.seq)}
            if entry.merged_into is not None:
                data["merged_into"] = str(entry.merged_into)
            payload = {"type": event, "timestamp": entry.at.isoformat(), "data": data}
            session.add(WebhookDelivery(subscription_id=subscription_id, event=event, payload=payload, next_attempt_at=entry.at))
        if room < len(wanted):
            first_missed = wanted[room][0].seq
            session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription_id, WebhookSubscription.missed_after.is_(None))
                .values(missed_after=first_missed - 1)
                .execution_options(synchronize_session=False)
            )
            log.error("webhook subscription %s: its queue is full (%d); changes after cursor %d are not queued", subscription_id, limit, first_missed - 1)


# --- managing subscriptions --------------------------------------------------------------------


def owned(caller: Caller) -> Any:
    if caller.is_admin:
        return True
    return WebhookSubscription.owner_key_id == caller.key_id


async def find(session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> WebhookSubscription:
    found = (
        await session.execute(select(WebhookSubscription).where(WebhookSubscription.id == subscription_id, owned(caller)))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    return found
