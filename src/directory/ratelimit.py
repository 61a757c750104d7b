"""Counting requests in fixed windows: in this process by default, in Redis when several processes serve.

Used for per-client rate limits and for login throttling. A window is identified by its start, so
counters of different processes sharing Redis add up.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from directory.errors import ServiceUnavailable

log = logging.getLogger("directory.ratelimit")
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    limit: int
    count: int
    reset_seconds: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        """The RateLimit header fields (IETF draft), plus Retry-After when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class LimitStore:
    async def hit(self, key: str, limit: int, period: int, cost: int = 1) -> Window:
        """Count ``cost`` against ``key`` in the current window of ``period`` seconds."""
        raise NotImplementedError

    async def peek(self, key: str, limit: int, period: int) -> Window:
        return await self.hit(key, limit, period, cost=0)

    async def clear(self, key: str, period: int) -> None:
        raise NotImplementedError

    async def count_at(self, key: str, period: int, start: int) -> int:
        """The count of the window of ``period`` seconds that began at ``start`` (epoch seconds)."""
        raise NotImplementedError

    async def close(self) -> None:
        return None


def _window(period: int) -> tuple[int, int]:
    now = time.time()
    start = int(now // period) * period
    return start, max(1, math.ceil(start + period - now))


class MemoryLimitStore(LimitStore):
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, period: int, cost: int = 1) -> Window:
        start, reset = _window(period)
        async with self._lock:
            if len(self._counts) > 100_000:
                # Forget finished windows (usage counters are kept a week).
                horizon = time.time() - 8 * 86_400
                self._counts = {k: v for k, v in self._counts.items() if k[1] > horizon}
            count = self._counts.get((key, start), 0) + cost
            self._counts[(key, start)] = count
        return Window(limit, count, reset)

    async def clear(self, key: str, period: int) -> None:
        start, _ = _window(period)
        async with self._lock:
            self._counts.pop((key, start), None)

    async def count_at(self, key: str, period: int, start: int) -> int:
        return self._counts.get((key, start), 0)


class RedisLimitStore(LimitStore):
    PREFIX = "directory:limit:"

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def hit(self, key: str, limit: int, period: int, cost: int = 1) -> Window:
        start, reset = _window(period)
        name = f"{self.PREFIX}{key}:{start}"
        # Usage counters are kept a week; rate windows twice their period.
        keep = max(period * 2, 8 * 86_400 if key.startswith("usage:") else 0)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(name, cost)
            pipe.expire(name, keep)
            count, _ = await pipe.execute()
        return Window(limit, int(count), reset)

    async def clear(self, key: str, period: int) -> None:
        start, _ = _window(period)
        await self._redis.delete(f"{self.PREFIX}{key}:{start}")

    async def count_at(self, key: str, period: int, start: int) -> int:
        value = await self._redis.get(f"{self.PREFIX}{key}:{start}")
        return int(value) if value else 0

    async def close(self) -> None:
        await self._redis.aclose()


class DegradingLimitStore(LimitStore):
    """Redis, and while Redis cannot be reached, this process's own counters (``local``) or a 503
    (``refuse``). A failed Redis is tried again every ``retry_seconds``, not on every request, so an
    outage costs one connection timeout per interval rather than one per request."""

    def __init__(self, shared: LimitStore, when_down: str = "local", retry_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.shared = shared
        self.clock = clock
        self.local = MemoryLimitStore()
        self.when_down = when_down
        self.retry_seconds = retry_seconds
        self.down_since: float | None = None
        self._retry_at = 0.0

    @property
    def state(self) -> str:
        """``ok``, or what this process does while the shared store is down."""
        if self.down_since is None:
            return "ok"
        return f"unreachable for {time.time() - self.down_since:.0f} s: " + (
            "limits counted in each process" if self.when_down == "local" else "limited routes answer 503"
        )

    async def _either(self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        if self.down_since is not None and self.clock() < self._retry_at:
            return await self._degraded(local)
        try:
            result = await shared()
        except (OSError, asyncio.TimeoutError, ConnectionError, _redis_errors()) as error:
            if self.down_since is None:
                self.down_since = time.time()
                log.error(
                    "the rate-limit store (Redis) is unreachable (%s): %s until it answers again",
                    type(error).__name__,
                    "counting limits in each process" if self.when_down == "local" else "refusing limited requests with 503",
                )
            self._retry_at = self.clock() + self.retry_seconds
            return await self._degraded(local)
        if self.down_since is not None:
            log.warning("the rate-limit store (Redis) answers again after %.0f s; limits are shared again", time.time() - self.down_since)
            self.down_since = None
        return result

    async def _degraded(self, local: Callable[[], Awaitable[T]]) -> T:
        if self.when_down == "refuse":
            raise ServiceUnavailable("the rate-limit store is unavailable; try again shortly", headers={"Retry-After": str(int(self.retry_seconds))})
        return await local()

    async def hit(self, key: str, limit: int, period: int, cost: int = 1) -> Window:
        return await self._either(lambda: self.shared.hit(key, limit, period, cost), lambda: self.local.hit(key, limit, period, cost))

    async def clear(self, key: str, period: int) -> None:
        await self._either(lambda: self.shared.clear(key, period), lambda: self.local.clear(key, period))

    async def count_at(self, key: str, period: int, start: int) -> int:
        return await self._either(lambda: self.shared.count_at(key, period, start), lambda: self.local.count_at(key, period, start))

    async def close(self) -> None:
        await self.shared.close()


def _redis_errors() -> type[Exception]:
    import redis.exceptions

    return redis.exceptions.RedisError


def limit_store(redis_url: str | None, when_down: str = "local") -> LimitStore:
    return DegradingLimitStore(RedisLimitStore(redis_url), when_down) if redis_url else MemoryLimitStore()
