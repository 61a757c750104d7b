"""Is a location open at a given moment? Its hours are local times in its own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from directory.listings.models import WEEKDAYS


def is_open(hours: list[dict[str, str]], zone: str | None, moment: datetime) -> bool | None:
    """True or False from the weekly hours; None when the location publishes no hours."""
    if not hours or not zone:
        return None
    local = moment.astimezone(ZoneInfo(zone))
    day, now = WEEKDAYS[local.weekday()], f"{local.hour:02d}:{local.minute:02d}"
    return any(entry["day"] == day and entry["opens"] <= now < entry["closes"] for entry in hours)
