"""The recorder every process uses: the read model, then the change feed and webhook deliveries."""

from __future__ import annotations

from directory.listings.changes import Recorder
from directory.sync.feed import write_entries


def standard_recorder() -> Recorder:
    return Recorder(followers=[write_entries])
