"""Is a location open at a given moment? Its hours are local times in its own time zone."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from directory.listings.models import WEEKDAYS


def is_open(hours: str, zone: str | None, moment: datetime) -> bool | None:
    """True or False from the weekly hours as the read model stores them (JSON text); None when the
    location publishes no hours. Each distinct text is parsed once, and the local time worked out
    once per zone and moment (a page's hits share both)."""
    weekly = _weekly(hours)
    return _open(weekly, zone, moment) if weekly and zone else None


@functools.lru_cache(maxsize=4096)
def _weekly(hours: str) -> tuple[tuple[str, str, str], ...]:
    return tuple((entry["day"], entry["opens"], entry["closes"]) for entry in json.loads(hours))


@functools.lru_cache(maxsize=1024)
def _local(zone: str, moment: datetime) -> tuple[str, str, str]:
    """(day, HH:MM, the day before) where the location is: wall-clock time, so the hours mean the
    same across a change to or from DST."""
    local = moment.astimezone(ZoneInfo(zone))
    return WEEKDAYS[local.weekday()], f"{local.hour:02d}:{local.minute:02d}", WEEKDAYS[(local.weekday() - 1) % 7]


def _open(weekly: tuple[tuple[str, str, str], ...], zone: str, moment: datetime) -> bool:
    day, now, yesterday = _local(zone, moment)
    for weekday, opens, closes in weekly:
        if opens < closes:
            if weekday == day and opens <= now < closes:
                return True
        elif (weekday == day and now >= opens) or (weekday == yesterday and now < closes):
            return True  # overnight: from its opening until midnight, then on the next day until it closes
    return False
