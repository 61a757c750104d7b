"""The personal data of a consultation request, sealed at rest with Fernet (AES-128-CBC + HMAC-SHA256,
from ``cryptography``).

Keys come from ``DIRECTORY_CONSULTATION_KEYS``: Fernet keys separated by commas, the first sealing,
all opening, so a key is rotated by putting a new one first, running ``directory consultations
reseal`` (every stored request sealed again with the new key) and then dropping the old one.
Without the setting, one key is derived from ``DIRECTORY_SECRET_KEY`` (HKDF-SHA256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory.consultations.models import ConsultationRequest
from directory.database import create_engine


def derived_key(secret: str) -> str:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"directory consultation requests").derive(secret.encode())
    return base64.urlsafe_b64encode(raw).decode()


class Sealer:
    def __init__(self, keys: list[str], secret: str) -> None:
        if not keys:
            keys = [derived_key(secret)]
        self.fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self._fold_key = hashlib.sha256(b"fold:" + secret.encode()).digest()

    @classmethod
    def from_settings(cls, settings: Any) -> Sealer:
        keys = [key.strip() for key in (settings.consultation_keys or "").split(",") if key.strip()]
        return cls(keys, settings.secret_key)

    def seal(self, data: dict[str, Any]) -> str:
        return self.fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            return json.loads(self.fernet.decrypt(sealed.encode()))
        except InvalidToken as error:
            raise ValueError("sealed with a key that is no longer configured") from error

    def reseal(self, sealed: str) -> str:
        """The same data sealed with the first (newest) key."""
        return self.fernet.rotate(sealed.encode()).decode()

    def fold_key(self, *parts: str) -> str:
        """A keyed digest of a request's contents: identical repeats are found without storing them in clear."""
        return hmac.new(self._fold_key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


async def reseal_database(settings: Any, batch: int = 500) -> int:
    """Seal every stored request again with the first key (``directory consultations reseal``); how
    many. In batches, each in a transaction of its own: safe while the server runs."""
    sealer = Sealer.from_settings(settings)
    engine = create_engine(settings.database_url, settings)
    done, last = 0, None
    try:
        while True:
            async with AsyncSession(engine) as session, session.begin():
                query = select(ConsultationRequest.id, ConsultationRequest.sealed).order_by(ConsultationRequest.id).limit(batch)
                rows = (await session.execute(query if last is None else query.where(ConsultationRequest.id > last))).all()
                for request_id, sealed in rows:
                    await session.execute(update(ConsultationRequest).where(ConsultationRequest.id == request_id).values(sealed=sealer.reseal(sealed)))
            if not rows:
                return done
            done, last = done + len(rows), rows[-1][0]
    finally:
        await engine.dispose()
