"""Is a location open at a given moment? Its hours are local times in its own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from directory.listings.models import WEEKDAYS


def is_open(hours: list[dict[str, str]], zone: str | None, moment: datetime) -> bool | None:
    """True or False from the weekly hours; None when the location publishes no hours."""
    if not hours or not zone:
        return None
    # Wall-clock time where the location is: the hours mean the same across a change to or from DST.
    local = moment.astimezone(ZoneInfo(zone))
    day, now = WEEKDAYS[local.weekday()], f"{local.hour:02d}:{local.minute:02d}"
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    for entry in hours:
        if entry["opens"] < entry["closes"]:
            if entry["day"] == day and entry["opens"] <= now < entry["closes"]:
                return True
        elif (entry["day"] == day and now >= entry["opens"]) or (entry["day"] == yesterday and now < entry["closes"]):
            return True  # overnight: from its opening until midnight, then on the next day until it closes
    return False
