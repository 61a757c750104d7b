"""The recorder every process uses: the read model, possible duplicates, then the change feed and webhook deliveries."""

from __future__ import annotations

from functools import partial

from directory.listings import duplicate_check
from directory.listings.changes import Recorder
from directory.sync.feed import write_entries
from directory.sync.webhooks import QUEUE_LIMIT


def standard_recorder(webhook_queue_limit: int = QUEUE_LIMIT) -> Recorder:
    """``webhook_queue_limit``: DIRECTORY_WEBHOOK_QUEUE_LIMIT, the most deliveries one subscription's queue holds."""
    return Recorder(followers=[duplicate_check.note, partial(write_entries, queue_limit=webhook_queue_limit)])
