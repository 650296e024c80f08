"""The arithmetic of hours served, with no Flask and no database: totals by London month and year,
long-service milestones, and the red / amber / green of a special's month against their commitment.

Dates here are London dates: the services turn each deployment's start into one before calling in, so a
deployment at 11pm on 31 March (BST) counts in March, not in April as its UTC time would.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from matching.deployments.hours import parse_minutes

# Long-service recognition: hours served, and years since joining.
HOURS_MILESTONES = (50, 100, 250, 500)
YEARS_MILESTONES = (1, 5, 10)


@dataclass(frozen=True)
class Served:
    """Time that counts as served: an attended deployment or approved duty hours, on a London date."""

    on: dt.date
    minutes: int


@dataclass(frozen=True)
class Totals:
    month_minutes: int  # this London month, to date
    year_minutes: int  # this calendar year, to date
    all_minutes: int  # ever


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after (or before, if negative) ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def last_months(today: dt.date, count: int) -> list[dt.date]:
    """The first days of the last ``count`` months, oldest first, ending with this (partial) month."""
    this_month = first_of_month(today)
    return [add_months(this_month, offset) for offset in range(1 - count, 1)]


def totals(served: Iterable[Served], today: dt.date) -> Totals:
    """This month's, this year's and all the time served up to ``today``; a later date is not counted yet."""
    month = year = ever = 0
    for item in served:
        if item.on > today:
            continue
        ever += item.minutes
        if item.on.year == today.year:
            year += item.minutes
            if item.on.month == today.month:
                month += item.minutes
    return Totals(month, year, ever)


def by_month(served: Iterable[Served], months: list[dt.date]) -> dict[dt.date, int]:
    """Minutes served in each of ``months`` (first days); time in other months is left out."""
    found = dict.fromkeys(months, 0)
    for item in served:
        key = first_of_month(item.on)
        if key in found:
            found[key] += item.minutes
    return found


# ---- Long service --------------------------------------------------------------------------------


def anniversary(since: dt.date, years: int) -> dt.date:
    """``since`` plus whole years; someone who joined on 29 February has their anniversary on the 28th."""
    try:
        return since.replace(year=since.year + years)
    except ValueError:
        return since.replace(year=since.year + years, day=28)


def full_years(since: dt.date, today: dt.date) -> int:
    """Whole years from ``since`` to ``today`` (0 before the first anniversary)."""
    years = today.year - since.year
    if years > 0 and anniversary(since, years) > today:
        years -= 1
    return max(years, 0)


@dataclass(frozen=True)
class Milestones:
    hours_reached: tuple[int, ...]
    next_hours: int | None  # the next hours milestone, or None once the last is reached
    minutes_to_next_hours: int | None
    years: int  # whole years since joining
    years_reached: tuple[int, ...]
    next_years: int | None
    next_years_on: dt.date | None  # the day the next years milestone is reached

    @property
    def reached(self) -> bool:
        return bool(self.hours_reached or self.years_reached)


def milestones(all_minutes: int, since: dt.date, today: dt.date) -> Milestones:
    """Which long-service milestones someone has reached, and the next of each kind."""
    hours_reached = tuple(h for h in HOURS_MILESTONES if all_minutes >= h * 60)
    next_hours = next((h for h in HOURS_MILESTONES if all_minutes < h * 60), None)
    years = full_years(since, today)
    years_reached = tuple(y for y in YEARS_MILESTONES if years >= y)
    next_years = next((y for y in YEARS_MILESTONES if years < y), None)
    return Milestones(
        hours_reached=hours_reached,
        next_hours=next_hours,
        minutes_to_next_hours=None if next_hours is None else next_hours * 60 - all_minutes,
        years=years,
        years_reached=years_reached,
        next_years=next_years,
        next_years_on=None if next_years is None else anniversary(since, next_years),
    )


# ---- Against the commitment ----------------------------------------------------------------------


class Rag(enum.StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


# Words beside the colour: colour is never the only cue (WCAG 1.4.1).
RAG_LABELS = {Rag.GREEN: "Met", Rag.AMBER: "Below", Rag.RED: "Well below"}


def percent_of(served_minutes: int, commitment_minutes: int) -> int:
    """Served as a whole percentage of the commitment, rounded down (99.9% has not met it)."""
    return served_minutes * 100 // commitment_minutes if commitment_minutes > 0 else 0


def rag(served_minutes: int, commitment_minutes: int | None, green_percent: int, amber_percent: int) -> Rag | None:
    """GREEN at or above ``green_percent`` of the commitment, AMBER at or above ``amber_percent``, else RED.

    None when there is no commitment to measure against.
    """
    if not commitment_minutes or commitment_minutes <= 0:
        return None
    share = percent_of(served_minutes, commitment_minutes)
    if share >= green_percent:
        return Rag.GREEN
    if share >= amber_percent:
        return Rag.AMBER
    return Rag.RED


# ---- Reading and writing hours -------------------------------------------------------------------

# Duty is logged in hours under 100 a time; longer is a slip of the keyboard (the form says what to type).
_MOST_MINUTES = 100 * 60


def parse_hours(text: str) -> int | None:
    """Read a length of time as minutes: '4', '4.5', '4:30', '4h 30m', '4 hours 30 minutes', '45 minutes'.

    None if it is not one (the caller says what to type). The one reader of typed hours is
    ``matching.deployments.hours.parse_minutes`` (the sergeant's "hours served" too); duty adds its limit.
    """
    minutes = parse_minutes(text)
    return minutes if minutes is not None and minutes < _MOST_MINUTES else None


def hours_text(minutes: int) -> str:
    """'2 hours 30 minutes', '1 hour', '45 minutes', '0 hours': how the pages say a length of time."""
    hours, rest = divmod(max(minutes, 0), 60)
    parts = []
    if hours or not rest:
        parts.append(f"{hours:,} hour{'' if hours == 1 else 's'}")
    if rest:
        parts.append(f"{rest} minute{'' if rest == 1 else 's'}")
    return " ".join(parts)
