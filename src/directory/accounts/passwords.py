"""Password hashing (argon2id) and the minimum password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 128
_COMMON = {"password123", "1234567890", "qwertyuiop", "letmein123", "ketamine123", "iloveyou12", "passw0rd123"}


def policy_problem(password: str, email: str) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "use more than three different characters"
    lowered = password.lower()
    if lowered in _COMMON or lowered == email.lower() or lowered == email.split("@")[0].lower():
        return "this password is too easy to guess"
    return None


class Passwords:
    def __init__(self, memory_kib: int, time_cost: int) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
