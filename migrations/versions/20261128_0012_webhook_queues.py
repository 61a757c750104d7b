"""Webhook deliveries become one queue per subscription: the subscription holds the queue's next
attempt, the lease of the worker sending from it, who paused it, and where a full queue left off;
deliveries are taken in order from the head of the queue.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("paused_by", sa.String(10)))
        batch.add_column(sa.Column("missed_after", sa.BigInteger()))
    op.execute(
        "UPDATE webhook_subscription SET paused_by = CASE WHEN paused_reason = 'paused by its owner' THEN 'owner' ELSE 'failures' END "
        "WHERE status = 'paused'"
    )
    op.create_index("ix_webhook_delivery_queue", "webhook_delivery", ["subscription_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_queue", table_name="webhook_delivery")
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.drop_column("missed_after")
        batch.drop_column("paused_by")
        batch.drop_column("claimed_until")
        batch.drop_column("next_attempt_at")
