"""Password hashing (argon2id, a bounded number at once) and the password policy (zxcvbn)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from directory.errors import ServiceUnavailable

MIN_LENGTH = 10
MAX_LENGTH = 128
#: zxcvbn's scale: 0 too guessable ... 4 very unguessable. 3 is "safely unguessable" for online attacks.
MIN_SCORE = 3
#: Words of this service that make a password easier to guess here.
_CONTEXT = ["directory", "ketamine", "infusion", "clinic", "provider"]


def policy_problem(password: str, email: str) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "use more than three different characters"
    lowered = password.lower()
    if lowered == email.lower() or lowered == email.split("@")[0].lower():
        return "this password is too easy to guess: it is your email"
    from zxcvbn import zxcvbn  # its word lists cost a worker's start-up; loaded at the first sign-up

    strength = zxcvbn(password[:100], user_inputs=[email, email.split("@")[0], *_CONTEXT])
    if strength["score"] < MIN_SCORE:
        warning = strength["feedback"].get("warning") or "it follows a common pattern"
        return f"this password is too easy to guess ({warning.rstrip('.').lower()}); a few unrelated words make a strong one"
    return None


class Passwords:
    """argon2id with at most ``concurrency`` hashes at once in this process, so that memory stays
    within ``concurrency`` x ``memory_kib``; a request that cannot get a turn within
    ``wait_seconds`` is a 503 with Retry-After."""

    def __init__(self, memory_kib: int, time_cost: int, concurrency: int = 2, wait_seconds: float = 10.0) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)
        self._turns = asyncio.Semaphore(concurrency)
        self.wait_seconds = wait_seconds

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.wait_seconds):  # not wait_for, which under 3.11 can drop a cancellation
                await self._turns.acquire()
        except TimeoutError:
            raise ServiceUnavailable("too many password checks at once; try again in a moment", headers={"Retry-After": "2"}) from None
        try:
            yield
        finally:
            self._turns.release()

    async def hashed(self, password: str) -> str:
        """The hash, made off the event loop in one of the turns."""
        async with self._turn():
            return await anyio.to_thread.run_sync(self.hash, password)

    async def matches(self, password_hash: str, password: str) -> bool:
        async with self._turn():
            return await anyio.to_thread.run_sync(self.verify, password_hash, password)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
