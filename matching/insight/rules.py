"""The arithmetic and wording of the coverage and "why unfilled" dashboards (issue #21).

Pure: no Flask, no ORM. The builders (``coverage``, ``unfilled``) read grouped rows from the database and
hand them here: London weeks, the time of day a place was wanted, which rule of the matcher's funnel stopped
a request, the peak of places unfilled at one time, and the recruitment targets in words.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.timeutil import format_datetime, london_to_utc, to_london
from core.wording import plural

# ---- Weeks ---------------------------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of the London week ``day`` falls in: weeks start on Monday, as a duty roster's do."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    """One week of a period: its Monday, and the UTC bounds [starts_at, ends_at) of its part inside the period.

    The first and last weeks of a period that does not start on a Monday or end on a Sunday are part weeks: a
    request outside the period never counts, even if its week is shown.
    """

    monday: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime


def weeks(first_day: dt.date, last_day: dt.date) -> list[Week]:
    """The London weeks from ``first_day`` to ``last_day`` (both inclusive), oldest first.

    The bounds are London midnights turned into UTC one by one, so a week across the clocks changing is 167 or
    169 hours long, and a request at 00:30 London time on a Monday is in that Monday's week in summer and winter.
    """
    if last_day < first_day:
        return []
    out = []
    monday = week_start(first_day)
    while monday <= last_day:
        lo = max(monday, first_day)
        hi = min(monday + dt.timedelta(days=7), last_day + dt.timedelta(days=1))
        out.append(Week(monday, london_to_utc(lo, dt.time(0, 0)), london_to_utc(hi, dt.time(0, 0))))
        monday += dt.timedelta(days=7)
    return out


# ---- Time of day ---------------------------------------------------------------------------------

DAY_STARTS, EVENING_STARTS, NIGHT_STARTS = 8, 18, 23  # London hours: 8am, 6pm, 11pm


class TimeBand(enum.StrEnum):
    """When in the week a place was wanted, by the London time its slot starts.

    Night (11pm to 8am) is one band whatever the day: volunteers free at night are rare on any night. A night
    starting on Friday at 11pm is night, not weekend; Saturday and Sunday daytimes and evenings are the weekend.
    """

    WEEKDAY_DAYTIME = "weekday_daytime"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKEND_DAYTIME = "weekend_daytime"
    WEEKEND_EVENING = "weekend_evening"
    NIGHT = "night"


BAND_LABELS = {
    TimeBand.WEEKDAY_DAYTIME: "Weekday daytime (8am to 6pm)",
    TimeBand.WEEKDAY_EVENING: "Weekday evening (6pm to 11pm)",
    TimeBand.WEEKEND_DAYTIME: "Weekend daytime (8am to 6pm)",
    TimeBand.WEEKEND_EVENING: "Weekend evening (6pm to 11pm)",
    TimeBand.NIGHT: "Night (11pm to 8am)",
}
# How a recruitment target says it: "6 more … free on weekday evenings".
BAND_PHRASES = {
    TimeBand.WEEKDAY_DAYTIME: "on weekday daytimes",
    TimeBand.WEEKDAY_EVENING: "on weekday evenings",
    TimeBand.WEEKEND_DAYTIME: "at weekends in the daytime",
    TimeBand.WEEKEND_EVENING: "on weekend evenings",
    TimeBand.NIGHT: "at night",
}


def time_band(moment: dt.datetime) -> TimeBand:
    """The band of an aware moment, read on the London clock (8:00 is daytime, 17:59 daytime, 18:00 evening)."""
    local = to_london(moment)
    if local.hour >= NIGHT_STARTS or local.hour < DAY_STARTS:
        return TimeBand.NIGHT
    weekend = local.weekday() >= 5
    if local.hour >= EVENING_STARTS:
        return TimeBand.WEEKEND_EVENING if weekend else TimeBand.WEEKDAY_EVENING
    return TimeBand.WEEKEND_DAYTIME if weekend else TimeBand.WEEKDAY_DAYTIME


# ---- Small arithmetic ----------------------------------------------------------------------------


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` as a whole percentage, halves rounded up (None of nothing)."""
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


def peak_overlap(slots: Iterable[tuple[dt.datetime, dt.datetime, int]]) -> int:
    """The most places wanted at one moment: ``slots`` are (start, end, places), each [start, end).

    A slot ending when another starts does not overlap it (one person can do both), so at the same moment
    ends are counted before starts.
    """
    events: list[tuple[dt.datetime, int, int]] = []
    for start, end, places in slots:
        if places <= 0 or end <= start:
            continue
        events.append((start, 1, places))
        events.append((end, 0, -places))
    peak = current = 0
    for _moment, _order, change in sorted(events):
        current += change
        peak = max(peak, current)
    return peak


# ---- Which rule stopped a request ----------------------------------------------------------------


class StopRule(enum.StrEnum):
    """Why a request's places went unfilled, from the funnel of the latest matching run that looked at it.

    The rules are the funnel's stages (``matching.funnel``). NOBODY: too few were left to ask before any rule
    (everyone else had been asked already, or the specialist group was too small). ENOUGH: enough volunteers
    passed every rule, so the rules did not stop it: offers were declined, not answered, withdrawn, or the
    plan needed those people elsewhere. NO_RUN: no matching run looked at it.
    """

    SKILLS = "skills"
    CLEARED = "cleared"
    STATUS = "status"
    FREE = "free"
    TRAVEL = "travel"
    HOURS = "hours"
    CONFLICTS = "conflicts"
    NOBODY = "nobody"
    ENOUGH = "enough"
    NO_RUN = "no_run"
    UNKNOWN = "unknown"


STOP_LABELS = {
    StopRule.SKILLS: "Skills: nobody left had the skills",
    StopRule.CLEARED: "Vetting: nobody left was cleared for the task on the day",
    StopRule.STATUS: "Status: nobody left could do this kind of task",
    StopRule.FREE: "Availability: nobody left was free at the time",
    StopRule.TRAVEL: "Travel: nobody left was within their travel limit",
    StopRule.HOURS: "Weekly hours: nobody left had the hours to spare",
    StopRule.CONFLICTS: "Conflicts of interest: everyone left had one",
    StopRule.NOBODY: "Too few to ask: the rest had been asked already, or the group was too small",
    StopRule.ENOUGH: "Not the rules: enough passed them, but offers were declined, not answered or withdrawn",
    StopRule.NO_RUN: "Not matched: no matching run looked at it",
    StopRule.UNKNOWN: "A stage this page cannot read",
}
# Short names for the chart's axis, where the long labels do not fit.
STOP_SHORT = {
    StopRule.SKILLS: "Skills",
    StopRule.CLEARED: "Vetting",
    StopRule.STATUS: "Status",
    StopRule.FREE: "Availability",
    StopRule.TRAVEL: "Travel",
    StopRule.HOURS: "Weekly hours",
    StopRule.CONFLICTS: "Conflicts",
    StopRule.NOBODY: "Too few to ask",
    StopRule.ENOUGH: "Not the rules",
    StopRule.NO_RUN: "Not matched",
    StopRule.UNKNOWN: "Unknown stage",
}
# A recruitment target is about people the force could find: more with a skill, or more free at that time.
RECRUITABLE = frozenset({StopRule.SKILLS, StopRule.FREE})

# The stored funnel keeps only each stage's label ("cleared for this task on 3 December 2026"), not its key.
# The labels are built by ``matching.funnel._stage_labels`` from fixed words, with a date or times only after
# these beginnings, so the beginning names the rule for every funnel ever stored (a test holds the two lists
# together). "volunteers" is the count before any rule.
_LABEL_STARTS = (
    ("volunteers", None),
    ("have the skill", StopRule.SKILLS),
    ("cleared for this task", StopRule.CLEARED),
    ("can do this kind of task", StopRule.STATUS),
    ("free ", StopRule.FREE),
    ("within their travel limit", StopRule.TRAVEL),
    ("within their weekly hours", StopRule.HOURS),
    ("with no conflict of interest", StopRule.CONFLICTS),
)


def stage_rule(label: str) -> StopRule | None:
    """The rule a stored stage label stands for; None for the count before any rule; UNKNOWN if unreadable."""
    text = label.strip().lower()
    for start, rule in _LABEL_STARTS:
        if text.startswith(start):
            return rule
    return StopRule.UNKNOWN


def stopping_rule(funnel: Sequence[Sequence] | None, places_needed: int) -> StopRule:
    """Which rule stopped a request, from its stored funnel ``[[label, remaining], …]``.

    The first stage where nobody was left stopped it. If someone was always left but fewer than the places
    needed, the stage that dropped the most people did (the biggest drop: the rule that cost the most). If as many
    as were needed passed every rule, the rules did not stop it (ENOUGH). Fewer
    than needed before any rule, and nobody dropped by one, is NOBODY.
    """
    if not funnel:
        return StopRule.NO_RUN
    previous: int | None = None
    biggest: tuple[int, StopRule] | None = None
    for label, remaining in funnel:
        rule = stage_rule(str(label))
        count = int(remaining)
        if rule is None:
            if count == 0:
                return StopRule.NOBODY
        else:
            if count == 0:
                return rule
            if previous is not None and (biggest is None or previous - count > biggest[0]):
                biggest = (previous - count, rule)
        previous = count
    if previous is not None and previous >= places_needed:
        return StopRule.ENOUGH
    return biggest[1] if biggest is not None and biggest[0] > 0 else StopRule.NOBODY


# ---- Recruitment targets -------------------------------------------------------------------------


@dataclass(frozen=True)
class UnfilledPlace:
    """Unfilled places of one request, as the recruitment targets group them."""

    area: str  # the borough
    skill: str | None  # the skills it needed, in words ("Mental-health first aid"), or None for none
    band: TimeBand
    starts_at: dt.datetime
    ends_at: dt.datetime
    places: int


@dataclass(frozen=True)
class Target:
    """ "Camden: 6 more volunteers with Mental-health first aid free on weekday evenings would have filled 11
    places": ``people`` is the most places unfilled at one moment in the group (so that many more people would
    have covered every one of them), ``places`` all the group's unfilled places."""

    area: str
    skill: str | None
    band: TimeBand
    people: int
    places: int

    def sentence(self) -> str:
        who = "volunteer" if self.people == 1 else "volunteers"
        skill = f" with {self.skill}" if self.skill else ""
        return (
            f"{self.area}: {self.people} more {who}{skill} free {BAND_PHRASES[self.band]} "
            f"would have filled {plural(self.places, 'place')}"
        )


def targets(places: Iterable[UnfilledPlace], limit: int = 10) -> list[Target]:
    """The recruitment targets, grouped by (area, skill, time band): the ``limit`` largest, most places first."""
    groups: dict[tuple[str, str | None, TimeBand], list[UnfilledPlace]] = {}
    for place in places:
        groups.setdefault((place.area, place.skill, place.band), []).append(place)
    found = [
        Target(
            area=area,
            skill=skill,
            band=band,
            people=peak_overlap((p.starts_at, p.ends_at, p.places) for p in members),
            places=sum(p.places for p in members),
        )
        for (area, skill, band), members in groups.items()
    ]
    found = [t for t in found if t.places > 0]
    order = list(TimeBand)
    found.sort(key=lambda t: (-t.places, -t.people, t.area, t.skill or "", order.index(t.band)))
    return found[:limit]


# ---- Words ---------------------------------------------------------------------------------------


def freshness(now: dt.datetime) -> str:
    """How fresh the page's figures are: read from the records as the page was made (London time)."""
    day, clock = format_datetime(now).split(" at ")
    return f"Live figures, as of {clock} on {day}"


def worked_out(refreshed_at: dt.datetime, every_minutes: int) -> str:
    """How fresh figures worked out ahead are: when (London time) and how often, so a reader knows a booking made
    a minute ago may not show yet."""
    day, clock = format_datetime(refreshed_at).split(" at ")
    return f"Figures as of {clock} on {day}, worked out every {every_minutes} minutes"
