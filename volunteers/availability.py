"""Availability in plain terms: the week grid a volunteer reads. Pure: no Flask, no ORM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from core.timeutil import LONDON, NonexistentLocalTime, london_to_utc

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Periods of the day the grid shows, in minutes from midnight (London wall clock).
PERIODS = [
    ("Morning", 6 * 60, 12 * 60),
    ("Afternoon", 12 * 60, 18 * 60),
    ("Evening", 18 * 60, 24 * 60),
    ("Night", 0, 6 * 60),
]


@dataclass(frozen=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class DayRow:
    day: str
    cells: tuple[str, ...]  # one per period: "" when not available, else the times, e.g. "9am to 12pm"


def clock(minute: int) -> str:
    """'9am', '5:30pm', 'midnight' — GOV.UK style times."""
    if minute in (0, 1440):
        return "midnight"
    if minute == 720:
        return "midday"
    hour, mins = divmod(minute, 60)
    suffix = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour}{suffix}" if mins == 0 else f"{hour}:{mins:02d}{suffix}"


def local_time_problem(day: dt.date, minute: int) -> str | None:
    """Why ``minute`` (from midnight, 1440 = the end of the day) on ``day`` is not one London moment, or None.

    The spring-forward gap is refused with the words the request form uses (core.timeutil). The autumn's
    repeated hour is refused too: a dated time is kept as wall-clock minutes, which cannot say which of the
    two it means, and a volunteer offered work at the other one would rightly be cross.
    """
    if minute >= 24 * 60:
        day, minute = day + dt.timedelta(days=1), minute - 24 * 60
    time = dt.time(minute // 60, minute % 60)
    try:
        london_to_utc(day, time)
    except NonexistentLocalTime as exc:
        return str(exc)
    if not _ambiguous(day, minute):
        return None
    repeated = [m for m in range(24 * 60) if _ambiguous(day, m)]
    return (
        f"{clock(minute)} happens twice on {day.day} {day:%B %Y}, when the clocks go back an hour. "
        f"Choose a time before {clock(repeated[0])} or from {clock(repeated[-1] + 1)}"
    )


def _ambiguous(day: dt.date, minute: int) -> bool:
    moment = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=LONDON)
    return moment.utcoffset() != moment.replace(fold=1).utcoffset()


def overlaps(a: Window, b: Window) -> bool:
    return a.weekday == b.weekday and a.start_minute < b.end_minute and b.start_minute < a.end_minute


def week_grid(windows: Iterable[Window]) -> list[DayRow]:
    """Each day × period: the part of the volunteer's windows that falls in it."""
    by_day: dict[int, list[Window]] = {}
    for window in windows:
        by_day.setdefault(window.weekday, []).append(window)
    rows = []
    for weekday, name in enumerate(WEEKDAYS):
        cells = []
        for _label, start, end in PERIODS:
            parts = []
            for window in sorted(by_day.get(weekday, []), key=lambda w: w.start_minute):
                lo, hi = max(start, window.start_minute), min(end, window.end_minute)
                if lo < hi:
                    parts.append(f"{clock(lo)} to {clock(hi)}")
            cells.append(", ".join(parts))
        rows.append(DayRow(day=name, cells=tuple(cells)))
    return rows
