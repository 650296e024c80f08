"""Availability in plain terms: the week grid a volunteer reads. Pure: no Flask, no ORM."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
