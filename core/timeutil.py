"""Times are stored in UTC and shown and entered in Europe/London.

The two clock changes make local times awkward: in spring 01:00–01:59 does not exist, and in
autumn 01:00–01:59 happens twice. Entering a time that does not exist is an error the person
must correct; an ambiguous time is taken as the first occurrence (still British Summer Time),
which is what a sergeant means by "01:30 on the night the clocks go back" nine times in ten.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core import clock

LONDON = ZoneInfo("Europe/London")


class NonexistentLocalTime(ValueError):
    """The local time falls in the hour skipped when the clocks go forward."""


def london_to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """Convert a London wall-clock date and time to an aware UTC datetime."""
    local = dt.datetime.combine(day, time, tzinfo=LONDON).replace(fold=0)
    as_utc = local.astimezone(dt.UTC)
    # A time in the spring-forward gap does not survive the round trip.
    if as_utc.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(
            f"{time:%H:%M} on {day:%-d %B %Y} does not exist in London: the clocks go forward an hour"
        )
    return as_utc


def to_london(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: cannot tell which time zone it is in")
    return moment.astimezone(LONDON)


def london_today(now: dt.datetime | None = None) -> dt.date:
    """Today in London, on the app's clock unless ``now`` is given."""
    return to_london(now or clock.utcnow()).date()


def format_datetime(moment: dt.datetime | None) -> str:
    """'3 December 2026 at 2:15pm' in London time: the GOV.UK style for dates and times."""
    if moment is None:
        return ""
    local = to_london(moment)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    if local.hour == 12 and local.minute == 0:
        clock = "midday"
    elif local.hour == 0 and local.minute == 0:
        clock = "midnight"
    return f"{local.day} {local:%B %Y} at {clock}"


def format_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_london(value).date()
    return f"{value.day} {value:%B %Y}"
