"""The matcher's view of volunteers and requests: plain, frozen facts. Pure: no Flask, no ORM.

matching/facts.py builds these from the database, and the funnel, the
explanations and the solver instance are computed from them alone, so each can be tested and
benchmarked without an app.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from vetting.catalogue import SkillRequirement, TaskPolicy
from vetting.rules import DateRange, PersonFacts

# Average door-to-door speed across London by public transport, and the fixed part of a journey
# (walk, wait). Used for travel time in the weekly-hours cap and between back-to-back deployments.
TRAVEL_KMH = 15.0
TRAVEL_FIXED_MINUTES = 10


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class DateException:
    on_date: date
    available: bool
    start_minute: int | None = None
    end_minute: int | None = None


@dataclass(frozen=True)
class Conflict:
    """An organisation or a ward someone must not be sent to: declared by the volunteer, or found by a conflict
    review (vetting.conflict_rules). A ward conflict applies to remote work in that ward too. ``partner_id`` is
    set when the organisation was chosen from the partner organisations (volunteers/partners)."""

    organisation: str
    ward_id: int | None = None
    partner_id: int | None = None


def conflicted(
    conflicts: Iterable[Conflict], organisation: str, ward_id: int | None, partner_id: int | None = None
) -> bool:
    """Whether one of ``conflicts`` rules out a request for ``organisation`` in the ward ``ward_id``: it is that
    ward, or the same partner organisation (``partner_id``, chosen from the list on both sides: a partner
    renamed since, or written differently, still matches), or its organisation's name is in the request's (or
    the other way round), whatever the case."""
    organisation = organisation.strip().lower()
    for conflict in conflicts:
        if conflict.ward_id is not None and conflict.ward_id == ward_id:
            return True
        if conflict.partner_id is not None and conflict.partner_id == partner_id:
            return True
        declared = conflict.organisation.strip().lower()
        if organisation and declared and (declared in organisation or organisation in declared):
            return True
    return False


@dataclass(frozen=True)
class VolunteerCandidate:
    id: int
    person: PersonFacts
    home: tuple[float, float] | None  # (latitude, longitude) of the home ward's centre
    travel_limit_km: float
    weekly_cap_minutes: int
    weekly_slots: tuple[WeeklySlot, ...] = ()
    exceptions: tuple[DateException, ...] = ()
    blocked: tuple[DateRange, ...] = ()
    # Deployments already accepted or offered: (start, end, minutes counted against the week).
    busy: tuple[tuple[datetime, datetime], ...] = ()
    booked_minutes_in_week: int = 0
    conflicts: tuple[Conflict, ...] = ()
    served_wards: frozenset[int] = frozenset()
    preferred_task_types: frozenset[str] = frozenset()
    # The wards whose panel they are a current member of (issue #23): those wards' requests have first call
    # on them (local first, matching/solver/local_first.py), and a panel-first request scores them higher.
    panel_wards: frozenset[int] = frozenset()
    # Recent deployments that went badly (issue #20): did not attend without notice, or the sergeant would not
    # ask for them again, within the last RANKING_PENALTY_DAYS and not cleared by a coordinator. A score term
    # only (matching/planning.py): they are still offered where nobody else can go, and no explanation a
    # sergeant reads ever names it.
    recent_concerns: int = 0


@dataclass(frozen=True)
class RequestFacts:
    id: int
    task: TaskPolicy
    start: datetime
    end: datetime
    ward_id: int | None
    location: tuple[float, float] | None  # the ward's centre; None when remote
    remote: bool = False
    people_needed: int = 1
    all_or_nothing: bool = False
    priority: int = 1
    warranted_only: bool = False
    extra_skills: tuple[SkillRequirement, ...] = ()
    organisation: str = ""
    partner_id: int | None = None  # the organisation involved, when it is a partner chosen from the list
    preferred_volunteer_id: int | None = None
    supervised: bool = field(default=False)
    # Never offered this request again: they declined it, let the offer expire, or hold a place on
    # it already. The funnel leaves them out of the pool before any rule (not counted in "all").
    excluded_volunteers: frozenset[int] = frozenset()
    # Who is asked (issue #23): the ward's panel first (``panel_first``, the default), or only the current
    # members of one specialist group (``group_members``, named ``group_name``); None admits everyone.
    ward_name: str = ""
    panel_first: bool = True
    group_name: str = ""
    group_members: frozenset[int] | None = None

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def angles(points: Iterable[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """Each point's latitude and longitude in radians and the cosine of its latitude, for ``distances_km``."""
    out = []
    for point in points:
        lat, lon = map(math.radians, point)
        out.append((lat, lon, math.cos(lat)))
    return out


def distances_km(points: Sequence[tuple[float, float, float]], b: tuple[float, float]) -> list[float]:
    """``distance_km(a, b)`` for each ``a`` of ``points`` (given as ``angles(a)``): the same floats, from the
    same operations in the same order, with what depends on one point worked out once. A London run
    measures every home against every requested ward, over 700,000 times."""
    lat2, lon2 = map(math.radians, b)
    cos2 = math.cos(lat2)
    sin, asin, sqrt = math.sin, math.asin, math.sqrt
    return [
        2 * 6371.0088 * asin(sqrt(sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * sin((lon2 - lon1) / 2) ** 2))
        for lat1, lon1, cos1 in points
    ]


def travel_minutes(km: float) -> int:
    """One way, rounded up to whole minutes; zero for remote work."""
    if km <= 0:
        return 0
    return TRAVEL_FIXED_MINUTES + math.ceil(km / TRAVEL_KMH * 60)
