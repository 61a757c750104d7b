"""Listings checked before the worker scheduled re-checks by itself get their next check: a
verified listing 292 days (80% of the default 365) after its last check, a failed one tomorrow.
(Until now a verified listing was checked again only when `directory verify` was run.)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

provider = sa.table(
    "provider",
    sa.column("id", sa.Uuid()),
    sa.column("verification_status", sa.String()),
    sa.column("verification_due_at", sa.DateTime(timezone=True)),
    sa.column("last_verified_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    now = datetime.now(timezone.utc)

    def stored(moment: datetime) -> datetime:
        return moment.replace(tzinfo=None) if sqlite else moment  # as UTCDateTime stores it

    waiting = sa.and_(provider.c.verification_due_at.is_(None), provider.c.verification_status.in_(["verified", "failed"]))
    rows = connection.execute(sa.select(provider.c.id, provider.c.verification_status, provider.c.last_verified_at).where(waiting)).all()
    for provider_id, status, last in rows:
        if status == "verified" and last is not None:
            last = last if last.tzinfo else last.replace(tzinfo=timezone.utc)
            due = max(last + timedelta(days=292), now)
        else:
            due = now + timedelta(days=1)
        connection.execute(sa.update(provider).where(provider.c.id == provider_id).values(verification_due_at=stored(due)))


def downgrade() -> None:
    pass  # the schedule is data the worker keeps; nothing to undo
