"""Webhooks: partners' subscriptions, signed deliveries, and the worker that sends them.

Deliveries are rows written in the same transaction as the change they announce (see
``directory.sync.feed``), so none is lost to a crash or a restart, and none is sent for a change
that rolled back. A worker (in the API process unless turned off; several processes may run one)
claims due deliveries with a conditional update, sends them with httpx, and records the outcome.

Each delivery is signed the way the Standard Webhooks specification describes: the headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``{id}.{timestamp}.{body}`` with the subscription's secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from directory.accounts.callers import Caller
from directory.columns import utcnow
from directory.errors import InvalidInput, NotFound
from directory.settings import Settings
from directory.sync.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookStatus, WebhookSubscription
from directory.workers import drain_forever

log = logging.getLogger("directory.webhooks")

LONGEST_WAIT = timedelta(hours=6)
USER_AGENT = "directory-webhooks/1"


# --- the URL guard -----------------------------------------------------------------------------


#: NAT64 prefixes, whose last 32 bits are an IPv4 address (RFC 6052, RFC 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, 6to4, Teredo (server and client), NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found += list(address.teredo)
    if any(address in network for network in _NAT64):
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


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public unicast address, by the IANA special-purpose registries (shared
    address space 100.64/10, 192.0.0/24, benchmarking 198.18/15, 240/4 and the like included),
    also when it hides inside an IPv6 address (mapped, 6to4, Teredo, NAT64)."""
    return any(
        not one.is_global or one.is_multicast or any(one in block for block in _SPECIAL if block.version == one.version)
        for one in (address, *_embedded(address))
    )


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


def enqueue(session: Session, entries: list[Any]) -> None:
    """A delivery per feed entry for every active subscription to its event."""
    if not entries:
        return
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events).where(WebhookSubscription.status == WebhookStatus.active.value)
    ).all()
    if not subscriptions:
        return
    for entry in entries:
        event = EVENTS[entry.kind]
        payload = {
            "type": event,
            "timestamp": entry.at.isoformat(),
            "data": {"id": str(entry.provider_id), "version": entry.version, "cursor": str(entry.seq)},
        }
        for subscription_id, events in subscriptions:
            if event in events:
                session.add(WebhookDelivery(subscription_id=subscription_id, event=event, payload=payload, next_attempt_at=entry.at))


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


# --- sending -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None


SKIPPED = Outcome(False, None, "not attempted")


class WebhookSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.webhook_timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        await self.client.aclose()

    async def run_due(self, limit: int = 20) -> int:
        """Send what is due now; how many were attempted."""
        claimed = await self._claim(limit)
        if not claimed:
            return 0
        # One endpoint's deliveries go one after another, in the order of the changes; different
        # endpoints are served side by side.
        queues: dict[uuid.UUID, list[tuple[WebhookDelivery, WebhookSubscription]]] = {}
        for delivery, subscription in claimed:
            queues.setdefault(subscription.id, []).append((delivery, subscription))

        async def send_in_turn(queue: list[tuple[WebhookDelivery, WebhookSubscription]]) -> list[Outcome]:
            outcomes: list[Outcome] = []
            for delivery, subscription in queue:
                if outcomes and not outcomes[-1].ok:
                    outcomes.append(SKIPPED)  # the endpoint is failing: the rest wait behind the retry
                else:
                    outcomes.append(await self._send(delivery, subscription))
            return outcomes

        results = await asyncio.gather(*(send_in_turn(queue) for queue in queues.values()))
        async with self.sessions() as session, session.begin():
            for queue, outcomes in zip(queues.values(), results, strict=True):
                for (delivery, subscription), outcome in zip(queue, outcomes, strict=True):
                    await self._record(session, delivery, subscription, outcome)
        return len(claimed)

    async def _claim(self, limit: int) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
        now = utcnow()
        # Long enough for one endpoint to take every claimed delivery in turn, each to its timeout;
        # after that another worker may take a delivery whose worker died.
        lease = timedelta(seconds=limit * self.settings.webhook_timeout + 60)
        claimed = []
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(WebhookDelivery, WebhookSubscription)
                    .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.pending.value,
                        WebhookDelivery.next_attempt_at <= now,
                        WebhookSubscription.status == WebhookStatus.active.value,
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(limit)
                )
            ).all()
            for delivery, subscription in rows:
                # Only one worker wins each delivery: the update succeeds for the first.
                won = await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery.id, WebhookDelivery.next_attempt_at == delivery.next_attempt_at)
                    .values(next_attempt_at=now + lease)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount == 1:
                    claimed.append((delivery, subscription))
        return claimed

    async def _send(self, delivery: WebhookDelivery, subscription: WebhookSubscription) -> Outcome:
        body = json.dumps({"id": str(delivery.id), **delivery.payload}, separators=(",", ":")).encode()
        try:
            addresses = await check_url(subscription.url, self.settings)
        except InvalidInput as refused:
            return Outcome(False, None, f"refused: {refused.errors[0].reason}")
        target, host, extensions = pinned(subscription.url, addresses[0])
        message_id = f"msg_{delivery.id}"
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(subscription.secret, message_id, timestamp, body),
        }
        try:
            response = await self.client.post(target, content=body, headers={**headers, **host}, extensions=extensions)
        except httpx.TimeoutException:
            return Outcome(False, None, "timed out")
        except httpx.HTTPError as error:
            return Outcome(False, None, f"could not connect: {type(error).__name__}")
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code, None)
        return Outcome(False, response.status_code, f"answered HTTP {response.status_code}")

    def _wait(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=self.settings.webhook_retry_base_seconds * 2 ** (attempts - 1)), LONGEST_WAIT)

    async def _record(
        self, session: AsyncSession, delivery: WebhookDelivery, subscription: WebhookSubscription, outcome: Outcome
    ) -> None:
        now = utcnow()
        if outcome is SKIPPED:
            # Not attempted: back in the queue just behind the delivery that failed before it.
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id)
                .values(next_attempt_at=now + self._wait(1))
                .execution_options(synchronize_session=False)
            )
            return
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status_code": outcome.status_code, "last_error": outcome.error}
        if outcome.ok:
            values.update(status=DeliveryStatus.delivered.value, delivered_at=now)
        elif attempts >= self.settings.webhook_max_attempts:
            values.update(status=DeliveryStatus.failed.value)
        else:
            values.update(next_attempt_at=now + self._wait(attempts))
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values).execution_options(synchronize_session=False)
        )
        if outcome.ok:
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription.id)
                .values(failures_in_row=0)
                .execution_options(synchronize_session=False)
            )
            return
        failures = (
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription.id)
                .values(failures_in_row=WebhookSubscription.failures_in_row + 1)
                .returning(WebhookSubscription.failures_in_row)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if failures is not None and failures >= self.settings.webhook_pause_after:
            reason = f"paused after {failures} failed attempts in a row; the last: {outcome.error}"
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription.id, WebhookSubscription.status == WebhookStatus.active.value)
                .values(status=WebhookStatus.paused.value, paused_reason=reason, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            log.warning("webhook subscription %s %s", subscription.id, reason)

    async def work(self, interval: float) -> None:
        """The background worker: forever, until cancelled."""
        await drain_forever(self.run_due, interval, log, "webhook")
