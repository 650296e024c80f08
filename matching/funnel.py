"""Who can take a request, rule by rule — and, when nobody can, what would change that.

For each request the volunteers pass through the hard rules in a fixed order; the counts after
each rule are the funnel a sergeant sees ("14 have the skill → 6 cleared for this task on 3 Dec →
2 free 2pm to 4pm → 0 within their travel limit"), and the nearest miss at the stage that emptied
it becomes the suggestion ("the nearest eligible volunteer is 9 km away with a 5 km limit").
Pure: no Flask, no ORM. The solver only ever sees pairs that passed every rule.

``funnel`` states the rules one volunteer at a time and is the reference; ``funnels`` gives exactly
the same answers for many requests at once (a London week: thousands of requests × 50,000
volunteers), sharing the work between requests.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from core.wording import a_or_an
from matching.domain import (
    RequestFacts,
    VolunteerCandidate,
    angles,
    conflicted,
    distance_km,
    distances_km,
    travel_minutes,
)
from matching.solver.forked import Beside
from vetting.catalogue import SkillRequirement, TaskPolicy
from vetting.rules import DeploymentWindow, Eligibility, PersonFacts, ReasonCode, check_eligibility, format_date

LONDON = ZoneInfo("Europe/London")

SKILL_CODES = {
    ReasonCode.SKILL_MISSING,
    ReasonCode.SKILL_LEVEL_TOO_LOW,
    ReasonCode.EVIDENCE_UNVERIFIED,
    ReasonCode.EVIDENCE_EXPIRED,
}
# A conflict review their line of work needs and nobody has recorded yet: not cleared for anything until it is.
CLEARANCE_CODES = {ReasonCode.NO_CLEARANCE, ReasonCode.NO_UNSUPERVISED_CLEARANCE, ReasonCode.CONFLICT_REVIEW_PENDING}
# A conflict review found them not suitable for this task type: they cannot do this kind of task.
STATUS_CODES = {
    ReasonCode.NOT_WARRANTED,
    ReasonCode.PATROL_STATUS_TOO_LOW,
    ReasonCode.DESK_ONLY,
    ReasonCode.REMOTE_ONLY,
    ReasonCode.MOBILISED,
    ReasonCode.NOT_SUITABLE_FOR_TASK,
}
# Every reason check_eligibility can give falls at one of the funnel's vetting stages (a test checks it):
# a code in none of them would let the person through.


@dataclass(frozen=True)
class Stage:
    key: str
    label: str  # "have the skills", "cleared for this task on 3 December 2026", …
    remaining: int


@dataclass(frozen=True, slots=True)  # slots: a London week holds over a million of them
class Candidate:
    """A volunteer who passed every rule for a request, with what the goals need to know."""

    volunteer_id: int
    km: float
    load_minutes: int  # the deployment plus travel there and back
    skill_level: int  # 0 aware, 1 practitioner, 2 expert: the best level among the request's skills
    served_ward: bool
    preferred_task: bool
    requested: bool  # the sergeant asked for this person (continuity)


class CandidateColumns(NamedTuple):
    """A request's candidates as columns, row by row the fields of ``Candidate``: how ``funnels`` hands
    them over (a London week has two million; building each as an object cost seconds)."""

    volunteer_id: np.ndarray  # int64
    km: np.ndarray  # float64, rounded to 0.1 km
    load_minutes: np.ndarray  # int64
    skill_level: np.ndarray  # int64
    served_ward: np.ndarray  # bool
    preferred_task: np.ndarray  # bool
    requested: np.ndarray  # bool

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> CandidateColumns:
        n = len(candidates)

        def column(name: str, dtype: type) -> np.ndarray:
            return np.fromiter((getattr(c, name) for c in candidates), dtype=dtype, count=n)

        return cls(
            column("volunteer_id", np.int64),
            column("km", np.float64),
            column("load_minutes", np.int64),
            column("skill_level", np.int64),
            column("served_ward", bool),
            column("preferred_task", bool),
            column("requested", bool),
        )

    def objects(self, rows: Iterable[int] | None = None) -> tuple[Candidate, ...]:
        """The candidates (or those at ``rows``) as ``Candidate`` objects, equal to ``funnel``'s."""
        picked = self if rows is None else CandidateColumns(*(column[list(rows)] for column in self))
        return tuple(map(_new_candidate, *(column.tolist() for column in picked)))


class FunnelResult:
    """A request's funnel: the counts after each rule, who passed every rule, and a suggestion.

    The candidates are kept as given, a tuple of ``Candidate`` (``funnel``) or ``CandidateColumns``
    (``funnels``), and turned into the other form only when asked: the solver's instance reads the
    columns, a sergeant's page and the saved offers read a few objects.
    """

    __slots__ = ("stages", "suggestion", "_candidates", "_columns")

    def __init__(
        self,
        stages: tuple[Stage, ...],
        candidates: tuple[Candidate, ...] | None = None,
        suggestion: str | None = None,
        *,
        columns: CandidateColumns | None = None,
    ) -> None:
        if (candidates is None) == (columns is None):
            raise TypeError("give the candidates either as objects or as columns")
        self.stages = stages
        self.suggestion = suggestion
        self._candidates = None if candidates is None else tuple(candidates)
        self._columns = columns

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        if self._candidates is None:
            self._candidates = self._columns.objects()
        return self._candidates

    @property
    def columns(self) -> CandidateColumns:
        if self._columns is None:
            self._columns = CandidateColumns.of(self._candidates)
        return self._columns

    @property
    def candidate_count(self) -> int:
        return len(self._candidates) if self._candidates is not None else len(self._columns.volunteer_id)

    def candidate(self, volunteer_id: int) -> Candidate:
        """The candidate with this volunteer id (KeyError if they are not one)."""
        if self._candidates is not None:
            found = [c for c in self._candidates if c.volunteer_id == volunteer_id]
            if not found:
                raise KeyError(volunteer_id)
            return found[0]
        rows = np.flatnonzero(self._columns.volunteer_id == volunteer_id)
        if not rows.size:
            raise KeyError(volunteer_id)
        row = int(rows[0])  # one row read field by field: a run's save asks for 25,000 of them
        return _new_candidate(*(column.item(row) for column in self._columns))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FunnelResult):
            return NotImplemented
        return (self.stages, self.candidates, self.suggestion) == (other.stages, other.candidates, other.suggestion)

    __hash__ = None  # type: ignore[assignment]  (mutable caches inside: compared by value, not hashed)

    def __repr__(self) -> str:
        return (
            f"FunnelResult(stages={self.stages!r}, candidates={self.candidate_count}, suggestion={self.suggestion!r})"
        )


def _clock(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def _wall_clock(start: datetime, end: datetime) -> list[tuple[date, int, int]] | None:
    """The London days [start, end) falls on, each with its first and last minute on that day: one day, or two
    for night work across midnight (to 24:00 on the first, from 00:00 on the second); None for longer."""
    local_start, local_end = start.astimezone(LONDON), end.astimezone(LONDON)
    first_day, last_day = local_start.date(), (local_end - timedelta(microseconds=1)).date()
    first = local_start.hour * 60 + local_start.minute
    if first_day == last_day:
        return [(first_day, first, first + int((end - start).total_seconds() // 60))]
    if last_day == first_day + timedelta(days=1):
        return [(first_day, first, 24 * 60), (last_day, 0, local_end.hour * 60 + local_end.minute)]
    return None


def is_free(volunteer: VolunteerCandidate, start: datetime, end: datetime, buffer_minutes: int = 0) -> bool:
    """Available for the whole of [start, end) in London wall-clock terms, not blocked, not booked.

    A deployment across midnight needs both days: the evening's availability up to midnight and the next
    day's from midnight (two weekly slots, or dated exceptions), and neither day off."""
    parts = _wall_clock(start, end)
    if parts is None:
        return False  # longer than a night: never offered from weekly slots
    for day, first, last in parts:
        if _day_off(volunteer, day):
            return False
        exceptions = [e for e in volunteer.exceptions if e.on_date == day]
        windows = [(e.start_minute, e.end_minute) for e in exceptions if e.available and e.start_minute is not None]
        windows += [(s.start_minute, s.end_minute) for s in volunteer.weekly_slots if s.weekday == day.weekday()]
        if not any(lo <= first and last <= hi for lo, hi in windows):
            return False
    return _clear_of_bookings(volunteer, start, end, buffer_minutes)


def _day_off(volunteer: VolunteerCandidate, day: date) -> bool:
    """Blocked (leave, mobilisation…) or marked unavailable for the whole of ``day``."""
    return any(block.first <= day <= block.last for block in volunteer.blocked) or any(
        e.on_date == day and not e.available for e in volunteer.exceptions
    )


def _clear_of_bookings(volunteer: VolunteerCandidate, start: datetime, end: datetime, buffer_minutes: int) -> bool:
    """No deployment already booked within ``buffer_minutes`` (the journey) of [start, end)."""
    gap = timedelta(minutes=buffer_minutes)
    return not any(b_start < end + gap and start < b_end + gap for b_start, b_end in volunteer.busy)


def _conflicted(volunteer: VolunteerCandidate, request: RequestFacts) -> bool:
    return conflicted(volunteer.conflicts, request.organisation, request.ward_id, request.partner_id)


_LEVELS = {"aware": 0, "practitioner": 1, "expert": 2}


def _wanted_skills(request: RequestFacts) -> set[str]:
    return {code for req in (*request.task.required_skills, *request.extra_skills) for code in req.alternatives}


def _best_level(person: PersonFacts, wanted: Set[str]) -> int:
    return max((_LEVELS[s.level.value] for s in person.skills if s.code in wanted), default=0)


def _stage_labels(request: RequestFacts) -> list[tuple[str, str]]:
    """The rules in the order they apply: (key, label). Remote work has no travel rule."""
    day = format_date(request.start.astimezone(LONDON).date())
    labels = [
        ("skills", "have the skills"),
        ("cleared", f"cleared for this task on {day}"),
        ("status", "can do this kind of task"),
        ("free", f"free {_clock(request.start)} to {_clock(request.end)}"),
        ("travel", "within their travel limit"),
        ("hours", "within their weekly hours"),
        ("conflicts", "with no conflict of interest"),
    ]
    return [(key, label) for key, label in labels if not (key == "travel" and request.remote)]


def funnel(request: RequestFacts, volunteers: Sequence[VolunteerCandidate]) -> FunnelResult:
    """Apply the hard rules in order; return the counts, the surviving candidates and a suggestion.

    One volunteer at a time: the plain statement of the rules. For many requests, or one request over
    a large population, ``funnels`` gives the same result far faster.
    """
    window = DeploymentWindow(request.start, request.end)
    # Left out before any rule (not counted in "all"): those offered it before, and, for a request aimed at a
    # specialist group, everyone who is not a current member of it.
    pool = [
        v
        for v in volunteers
        if v.id not in request.excluded_volunteers and (request.group_members is None or v.id in request.group_members)
    ]
    stages: list[Stage] = [Stage("all", "volunteers", len(pool))]
    labels = dict(_stage_labels(request))
    dropped_at: dict[str, list[VolunteerCandidate]] = {}

    extra = tuple(request.extra_skills)
    verdicts = {
        v.id: check_eligibility(
            v.person, request.task, window, supervised=request.supervised, remote=request.remote, extra_skills=extra
        )
        for v in pool
    }

    def keep(key: str, passes: Callable[[VolunteerCandidate], bool]) -> None:
        nonlocal pool
        kept, dropped = [], []
        for volunteer in pool:
            (kept if passes(volunteer) else dropped).append(volunteer)
        dropped_at[key] = dropped
        pool = kept
        stages.append(Stage(key, labels[key], len(pool)))

    keep("skills", lambda v: not (set(verdicts[v.id].codes) & SKILL_CODES))
    keep("cleared", lambda v: not (set(verdicts[v.id].codes) & CLEARANCE_CODES))
    keep(
        "status",
        lambda v: not (set(verdicts[v.id].codes) & STATUS_CODES) and (v.person.warranted or not request.warranted_only),
    )
    keep("free", lambda v: is_free(v, request.start, request.end, buffer_minutes=_buffer(_km(v, request))))
    if not request.remote:
        keep("travel", lambda v: _km(v, request) <= v.travel_limit_km)
    keep("hours", lambda v: v.booked_minutes_in_week + _load(v, request) <= v.weekly_cap_minutes)
    keep("conflicts", lambda v: not _conflicted(v, request))

    wanted = _wanted_skills(request)
    candidates = tuple(
        _candidate(v, request, _km(v, request), _load(v, request), _best_level(v.person, wanted)) for v in pool
    )
    nearest = min(
        ((_km(v, request), v.travel_limit_km) for v in dropped_at.get("travel", ())),
        key=lambda pair: pair[0],
        default=None,
    )
    needs_check = sum(_vetting_stage(verdicts[v.id]) == _NEEDS_CHECK for v in dropped_at["cleared"])
    suggestion = None if len(candidates) >= request.people_needed else _suggest(stages, nearest, request, needs_check)
    return FunnelResult(stages=tuple(stages), candidates=candidates, suggestion=suggestion)


def _candidate(
    volunteer: VolunteerCandidate, request: RequestFacts, km: float, load: int, skill_level: int
) -> Candidate:
    return Candidate(
        volunteer_id=volunteer.id,
        km=round(km, 1),
        load_minutes=load,
        skill_level=skill_level,
        served_ward=request.ward_id in volunteer.served_wards,
        preferred_task=request.task.code in volunteer.preferred_task_types,
        requested=volunteer.id == request.preferred_volunteer_id,
    )


_CANDIDATE_SLOTS = tuple(
    Candidate.__dict__[name].__set__
    for name in ("volunteer_id", "km", "load_minutes", "skill_level", "served_ward", "preferred_task", "requested")
)


def _new_candidate(
    volunteer_id: int,
    km: float,
    load_minutes: int,
    skill_level: int,
    served_ward: bool,
    preferred_task: bool,
    requested: bool,
    _slots=_CANDIDATE_SLOTS,
    _new=object.__new__,
) -> Candidate:
    """``Candidate(...)`` without the frozen dataclass's generic __init__ (twice as fast): the same object."""
    candidate = _new(Candidate)
    set_id, set_km, set_load, set_level, set_ward, set_task, set_requested = _slots
    set_id(candidate, volunteer_id)
    set_km(candidate, km)
    set_load(candidate, load_minutes)
    set_level(candidate, skill_level)
    set_ward(candidate, served_ward)
    set_task(candidate, preferred_task)
    set_requested(candidate, requested)
    return candidate


def _km(volunteer: VolunteerCandidate, request: RequestFacts) -> float:
    if request.remote or request.location is None or volunteer.home is None:
        return 0.0 if request.remote else float("inf")
    return distance_km(volunteer.home, request.location)


def _buffer(km: float) -> int:
    """Minutes kept clear around other bookings: the journey. Someone with no known home (km is
    infinite) fails the travel rule next, so no buffer is needed to decide whether they are free."""
    return 0 if km == math.inf else travel_minutes(km)


def _load(volunteer: VolunteerCandidate, request: RequestFacts) -> int:
    km = _km(volunteer, request)
    return request.minutes + (0 if request.remote or km == float("inf") else 2 * travel_minutes(km))


def _suggest(
    stages: list[Stage], nearest_too_far: tuple[float, float] | None, request: RequestFacts, needs_check: int = 0
) -> str:
    """What would fill the request, from the rule that removed the most people it still needed.

    ``nearest_too_far`` is (km, travel limit) of the nearest volunteer the travel rule dropped;
    ``needs_check`` how many of those the clearance rule dropped are held back only by a check their line of
    work needs before any deployment (a conflict review; never said to a sergeant in those words).
    """
    for before, stage in zip(stages, stages[1:], strict=False):
        if stage.remaining >= request.people_needed:
            continue
        dropped = before.remaining - stage.remaining
        if not dropped:
            continue
        if stage.key == "travel" and nearest_too_far is not None and nearest_too_far[0] == float("inf"):
            return (
                f"{dropped} eligible volunteer{'s have' if dropped != 1 else ' has'} no home ward on their "
                "profile, so how far they are is not known: a remote task, or asking them to add it, may fill it"
            )
        if stage.key == "travel" and nearest_too_far is not None:
            km, limit = nearest_too_far
            return (
                f"The nearest eligible volunteer is {km:.1f} km away with {a_or_an(f'{limit:g}')} {limit:g} km limit: "
                "a volunteer willing to travel further, or a remote task, would fill it"
            )
        if stage.key == "free":
            return (
                f"{dropped} cleared volunteer{'s are' if dropped != 1 else ' is'} not free then: "
                "another time or day may fill it"
            )
        if stage.key == "hours":
            return f"{dropped} would go but have reached their weekly hours: a later week may fill it"
        if stage.key == "cleared" and needs_check == dropped:
            return (
                f"{dropped} with the skills {'need' if dropped != 1 else 'needs'} a check before deployment: "
                "the coordinator can say when it will be done"
            )
        if stage.key == "cleared" and needs_check:
            return (
                f"{dropped} with the skills {'are' if dropped != 1 else 'is'} not cleared for this task "
                f"on that date ({needs_check} of them {'need' if needs_check != 1 else 'needs'} a check before "
                "deployment): the vetting team can say when clearances are due"
            )
        if stage.key == "cleared":
            return (
                f"{dropped} with the skills {'are' if dropped != 1 else 'is'} not cleared for this task "
                "on that date: the vetting team can say when clearances are due"
            )
        if stage.key == "skills":
            return "No volunteer has the skills this task needs: ask the coordinator to recruit for them"
        if stage.key == "status":
            return f"{dropped} cannot do this kind of task (warranted status, patrol status or adjustments)"
        if stage.key == "conflicts":
            return f"{dropped} declared a conflict of interest with this organisation or ward"
        return "Nobody passes every rule"
    return "Nobody passes every rule"


# ---- Many requests at once ----------------------------------------------------------------------


def funnels(
    requests: Sequence[RequestFacts],
    volunteers: Sequence[VolunteerCandidate],
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, FunnelResult]:
    """``{r.id: funnel(r, volunteers) for r in requests}``, exactly, without redoing shared work.

    Calling ``funnel`` per request costs about 1.5 s for 50,000 volunteers (check_eligibility for
    everyone, then each rule volunteer by volunteer), so a London week would take hours. Here:

    - Vetting is decided once per request class (task, supervision, extra skills, London dates), and
      within a class only for volunteers holding a skill for every requirement: anyone else gets
      SKILL_MISSING, so they leave at the first rule whatever else the verdict says. Most volunteers'
      verdicts cannot change within the run's dates (no clearance, evidence or mobilisation date
      near them), so theirs is decided once per task, supervision and extra skills.
    - The other rules run on arrays of the volunteers who passed vetting: weekly slots as
      (weekday, start, end) columns, distances looked up per distinct home and request location
      (``distances_km``: the same floats as ``distance_km``), bookings as microseconds, hours and
      travel limits as columns. Whoever has other hours that day (a dated exception), or bookings in a zone with
      summer time, goes through ``is_free`` itself; declared conflicts through ``funnel``'s check.

    From ``PARALLEL_REQUESTS`` requests on, a forked process does about half of them on the second
    core (requests of the same vetting class stay together, so neither redoes the other's vetting);
    where no process can be forked, or it fails, this process does them too: the same answers.

    ``progress(done, total)`` is called about every 2% of the requests, and at the end.
    """
    if not requests:
        return {}
    dates = [DeploymentWindow(r.start, r.end).local_dates() for r in requests]
    population = _Population(volunteers, min(first for first, _ in dates), max(last for _, last in dates))
    everything = list(range(len(requests)))
    mine, theirs = _halves(requests) if len(requests) >= PARALLEL_REQUESTS else (everything, [])
    # Their share in a forked process (matching/forked.py), which shares the population built so far.
    forked = (
        Beside(partial(_funnels_of, population, [(k, requests[k]) for k in theirs]), timeout=FORK_WAIT_SECONDS)
        if theirs
        else None
    )
    found: dict[int, FunnelResult] = {}  # by position in ``requests``
    step = max(1, len(mine) // 50)
    started = time.perf_counter()
    for done, k in enumerate(mine, 1):
        found[k] = population.funnel(requests[k])
        if progress is not None and (done % step == 0 or done == len(mine)):
            progress(done * len(requests) // len(mine), len(requests))
    if forked is not None:
        found.update(forked.result(timeout=max(FORK_WAIT_SECONDS, 3 * (time.perf_counter() - started))))
    results: dict[int, FunnelResult] = {}
    for k, request in enumerate(requests):  # as the reference's dict: first place of an id, last funnel
        results[request.id] = found[k]
    return results


# From this many requests, funnels() shares the work with a forked process: a London week's rules take
# ~10 s in one process, and forking costs well under a second. Below it, one process is quicker.
PARALLEL_REQUESTS = 2_000
# The least time to wait for the forked process before doing its requests here instead.
FORK_WAIT_SECONDS = 60.0


def _halves(requests: Sequence[RequestFacts]) -> tuple[list[int], list[int]]:
    """The requests' positions in two halves of about equal size, each vetting class wholly in one
    (larger classes placed first, each in the smaller half so far). Deterministic; in order."""
    classes: dict[_VettingKey, list[int]] = {}
    for position, request in enumerate(requests):
        classes.setdefault(_vetting_key(request), []).append(position)
    sizes = [0, 0]
    half_of = [0] * len(requests)
    for positions in sorted(classes.values(), key=lambda ps: (-len(ps), ps[0])):
        half = 0 if sizes[0] <= sizes[1] else 1
        sizes[half] += len(positions)
        for position in positions:
            half_of[position] = half
    return [k for k, h in enumerate(half_of) if h == 0], [k for k, h in enumerate(half_of) if h == 1]


def _funnels_of(population: _Population, requests: list[tuple[int, RequestFacts]]) -> dict[int, FunnelResult]:
    return {k: population.funnel(r) for k, r in requests}


# Where the vetting verdict drops someone: _NEEDS_CHECK is "not cleared" too, held back only by a check their
# line of work needs before any deployment (counted apart so the suggestion can say so).
_PASSES, _NO_SKILLS, _NOT_CLEARED, _WRONG_STATUS, _NEEDS_CHECK = 0, 1, 2, 3, 4
_STAGES = 5
_NO_MINUTE = 10**6  # a padding slot starts after and ends before every minute of a day
_NOWHERE = ("nowhere",)  # an in-person request with no location: nobody is within reach
_REMOTE = ("remote",)
# What a vetting verdict depends on besides the person and the dates: the task, whether a supervising officer
# will be there, whether it is done remotely (remote-only volunteers), and the request's own skills.
_VettingKey = tuple[TaskPolicy, bool, bool, tuple[SkillRequirement, ...]]


def _vetting_key(request: RequestFacts) -> _VettingKey:
    return (request.task, request.supervised, request.remote, tuple(request.extra_skills))


def _vetting_stage(eligibility: Eligibility) -> int:
    codes = eligibility.codes
    if codes & SKILL_CODES:
        return _NO_SKILLS
    if codes & CLEARANCE_CODES:
        return _NEEDS_CHECK if codes & CLEARANCE_CODES == {ReasonCode.CONFLICT_REVIEW_PENDING} else _NOT_CLEARED
    if codes & STATUS_CODES:
        return _WRONG_STATUS
    return _PASSES


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _fixed_offset(moment: datetime) -> bool:
    return isinstance(moment.tzinfo, timezone)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _dated_facts(person: PersonFacts) -> Iterable[date]:
    for clearance in person.clearances:
        yield clearance.valid_from
        yield clearance.expires_on
    for period in person.mobilised:
        yield period.first
        yield period.last
    for skill in person.skills:
        if skill.evidence_expires_on is not None:
            yield skill.evidence_expires_on


@dataclass(frozen=True)
class _Class:
    """Vetting for one class of requests: each volunteer's stage, how many leave at each, who passes."""

    stage: np.ndarray  # int8 per volunteer
    counts: np.ndarray  # volunteers per stage, indexed like _PASSES…_WRONG_STATUS
    passing: np.ndarray  # indices of those who pass, in order


@dataclass(frozen=True)
class _Reach:
    """Distances from every distinct home (index 0: no home) to one request location."""

    km: list[float]
    km_array: np.ndarray
    rounded_km_array: np.ndarray  # round(km, 1), as a Candidate holds it
    buffer: list[int]  # minutes kept clear around other bookings
    buffer_array: np.ndarray
    travel_array: np.ndarray  # round-trip minutes added to the load


class _Population:
    """The volunteers as columns for ``funnels``, and the work already done for earlier requests."""

    def __init__(self, volunteers: Sequence[VolunteerCandidate], first_day: date, last_day: date) -> None:
        self.volunteers = list(volunteers)
        n = len(self.volunteers)
        self.size = n
        positions: dict[int, list[int]] = defaultdict(list)
        for i, v in enumerate(self.volunteers):
            positions[v.id].append(i)
        self.positions = positions
        # funnel() keys its verdicts by id, so a repeated id is vetted on its last record.
        self.persons = [self.volunteers[positions[v.id][-1]].person for v in self.volunteers]

        holding: dict[str, list[int]] = defaultdict(list)
        for i, person in enumerate(self.persons):
            for code in dict.fromkeys(s.code for s in person.skills):
                holding[code].append(i)
        self.holding = {code: np.array(held, dtype=np.intp) for code, held in holding.items()}
        # A verdict depends on the dates only through the person's own dated facts (a clearance valid
        # or not, evidence expired or not, mobilised or not); with none of them among the run's dates,
        # each is the same on every date of the run, and so is the verdict.
        self.steady = np.fromiter(
            (not any(first_day <= d <= last_day for d in _dated_facts(p)) for p in self.persons), dtype=bool, count=n
        )

        self.warranted = np.fromiter((v.person.warranted for v in self.volunteers), dtype=bool, count=n)
        self.limit = np.array([v.travel_limit_km for v in self.volunteers], dtype=float)
        self.booked = np.array([v.booked_minutes_in_week for v in self.volunteers])
        self.cap = np.array([v.weekly_cap_minutes for v in self.volunteers])
        self.busy = np.fromiter((bool(v.busy) for v in self.volunteers), dtype=bool, count=n)
        # Bookings as microseconds since 1970, where that compares exactly as the datetimes do: with fixed
        # offsets (UTC, as stored). Two datetimes sharing a zone with summer time compare by wall clock,
        # so anyone with such a booking is left to _clear_of_bookings.
        booked: list[tuple[int, int, int]] = []
        self.busy_by_clock = np.zeros(n, dtype=bool)
        for i, v in enumerate(self.volunteers):
            if all(_fixed_offset(b_start) and _fixed_offset(b_end) for b_start, b_end in v.busy):
                booked += [(i, _microseconds(b_start), _microseconds(b_end)) for b_start, b_end in v.busy]
            else:
                self.busy_by_clock[i] = True
        self.bookings = tuple(np.array(booked, dtype=np.int64).reshape(-1, 3).T)  # owner, start, end
        self.conflicted = np.fromiter((bool(v.conflicts) for v in self.volunteers), dtype=bool, count=n)
        self.dated = [i for i, v in enumerate(self.volunteers) if v.exceptions or v.blocked]

        homes: dict[tuple[float, float], int] = {}
        self.home = np.fromiter(
            (0 if v.home is None else homes.setdefault(v.home, len(homes) + 1) for v in self.volunteers),
            dtype=np.intp,
            count=n,
        )
        self.homes = list(homes)
        self.home_angles = angles(self.homes)

        # Per weekday, each volunteer's slots as a row of starts and a row of ends (minutes), padded with
        # slots that cover nothing: a request's pool is checked against its own rows only.
        # All slots as columns first (weekday, volunteer, start, end), then each weekday's rows in one go:
        # setting 100,000 cells one by one took most of a second.
        slot_rows = [
            (s.weekday, i, s.start_minute, s.end_minute) for i, v in enumerate(self.volunteers) for s in v.weekly_slots
        ]
        weekday, owner, start_minute, end_minute = (
            np.array(column, dtype=np.int64).reshape(-1)
            for column in (zip(*slot_rows, strict=True) if slot_rows else ((),) * 4)
        )
        self.slots: list[tuple[np.ndarray, np.ndarray]] = []
        for day in range(7):
            mine = np.flatnonzero(weekday == day)  # in volunteer order, each one's slots as listed
            who = owner[mine]
            first = np.searchsorted(who, who, side="left")
            column = np.arange(len(who)) - first  # k-th slot of that volunteer that day
            width = max(1, int(column.max()) + 1 if len(column) else 1)
            starts = np.full((n, width), _NO_MINUTE, dtype=np.int64)
            ends = np.full((n, width), -_NO_MINUTE, dtype=np.int64)
            starts[who, column], ends[who, column] = start_minute[mine], end_minute[mine]
            self.slots.append((starts, ends))

        self._bases: dict[_VettingKey, tuple[np.ndarray, np.ndarray]] = {}
        self._classes: dict[tuple[_VettingKey, date, date], _Class] = {}
        self._reaches: dict[tuple, _Reach] = {}
        self._unusual_days: dict[date, tuple[np.ndarray, np.ndarray]] = {}
        self._slotted_by_window: dict[tuple[int, int, int], np.ndarray] = {}
        self._levels: dict[frozenset[str], np.ndarray] = {}
        self.ids = np.array([v.id for v in self.volunteers], dtype=np.int64)
        self._served_by: dict[int, list[int]] = defaultdict(list)
        self._preferring: dict[str, list[int]] = defaultdict(list)
        for i, v in enumerate(self.volunteers):
            for ward in v.served_wards:
                self._served_by[ward].append(i)
            for code in v.preferred_task_types:
                self._preferring[code].append(i)
        self._served_masks: dict[int | None, np.ndarray] = {}
        self._prefer_masks: dict[str, np.ndarray] = {}

    # ---- one request

    def funnel(self, request: RequestFacts) -> FunnelResult:
        window = DeploymentWindow(request.start, request.end)
        vetting = self._vetting(request, window)
        counts, pool = vetting.counts, vetting.passing
        left = self.size
        if request.excluded_volunteers or request.group_members is not None:
            out = self._left_out(request)
            if out.size:
                left -= out.size
                counts = counts - np.bincount(vetting.stage[out], minlength=_STAGES)
                pool = pool[~np.isin(pool, out)]
        remaining = [left]
        remaining.append(remaining[-1] - int(counts[_NO_SKILLS]))
        remaining.append(remaining[-1] - int(counts[_NOT_CLEARED]) - int(counts[_NEEDS_CHECK]))
        if request.warranted_only:
            pool = pool[self.warranted[pool]]
        remaining.append(pool.size)

        reach, minutes = self._reach(request), request.minutes
        pool = pool[self._free(request, pool, reach)]
        remaining.append(pool.size)

        nearest: tuple[float, float] | None = None
        if not request.remote:
            km = reach.km_array[self.home[pool]]
            near = km <= self.limit[pool]
            if not near.all():
                far = pool[~near]
                i = int(far[np.argmin(km[~near])])  # argmin takes the first of equals, as min() does
                nearest = (reach.km[self.home[i]], self.volunteers[i].travel_limit_km)
            pool = pool[near]
            remaining.append(pool.size)

        load = minutes + reach.travel_array[self.home[pool]]
        pool = pool[self.booked[pool] + load <= self.cap[pool]]
        remaining.append(pool.size)

        declared = np.flatnonzero(self.conflicted[pool])
        if declared.size:
            clear = np.ones(pool.size, dtype=bool)
            for k in declared.tolist():
                clear[k] = not _conflicted(self.volunteers[pool[k]], request)
            pool = pool[clear]
        remaining.append(pool.size)

        stages = [Stage("all", "volunteers", remaining[0])]
        stages += [
            Stage(key, label, count) for (key, label), count in zip(_stage_labels(request), remaining[1:], strict=True)
        ]
        home = self.home[pool]
        columns = CandidateColumns(
            volunteer_id=self.ids[pool],
            km=reach.rounded_km_array[home],
            load_minutes=minutes + reach.travel_array[home],
            skill_level=self._levels_of(frozenset(_wanted_skills(request)), pool),
            served_ward=self._served(request.ward_id)[pool],
            preferred_task=self._prefer(request.task.code)[pool],
            requested=(
                np.zeros(pool.size, dtype=bool)
                if request.preferred_volunteer_id is None
                else self.ids[pool] == request.preferred_volunteer_id
            ),
        )
        suggestion = (
            None
            if pool.size >= request.people_needed
            else _suggest(stages, nearest, request, int(counts[_NEEDS_CHECK]))
        )
        return FunnelResult(stages=tuple(stages), columns=columns, suggestion=suggestion)

    def _left_out(self, request: RequestFacts) -> np.ndarray:
        """Positions of those left out before any rule: offered this request before, or (a request aimed at a
        specialist group) not a current member of the group."""
        out = {i for vid in request.excluded_volunteers for i in self.positions.get(vid, ())}
        if request.group_members is not None:
            members = {i for vid in request.group_members for i in self.positions.get(vid, ())}
            out |= set(range(self.size)) - members
        return np.array(sorted(out), dtype=np.intp)

    # ---- what the goals need to know of each candidate (cached: a volunteer is a candidate many times)

    def _levels_of(self, wanted: frozenset[str], pool: np.ndarray) -> np.ndarray:
        """The best level among ``wanted`` skills of each of ``pool``, worked out once per volunteer."""
        levels = self._levels.get(wanted)
        if levels is None:
            levels = self._levels[wanted] = np.full(self.size, -1, dtype=np.int64)
        missing = pool[levels[pool] < 0]
        for i in missing.tolist():
            levels[i] = _best_level(self.volunteers[i].person, wanted)
        return levels[pool]

    def _served(self, ward_id: int | None) -> np.ndarray:
        found = self._served_masks.get(ward_id)
        if found is None:
            found = self._served_masks[ward_id] = np.zeros(self.size, dtype=bool)
            found[self._served_by.get(ward_id, [])] = True
        return found

    def _prefer(self, code: str) -> np.ndarray:
        found = self._prefer_masks.get(code)
        if found is None:
            found = self._prefer_masks[code] = np.zeros(self.size, dtype=bool)
            found[self._preferring.get(code, [])] = True
        return found

    # ---- vetting: skills, clearances, status

    def _vetting(self, request: RequestFacts, window: DeploymentWindow) -> _Class:
        key = _vetting_key(request)
        first, last = window.local_dates()
        found = self._classes.get((key, first, last))
        if found is None:
            base, changing = self._base(key, window)
            stage = base
            if changing.size:
                stage = base.copy()
                for i in changing.tolist():
                    stage[i] = self._verdict(i, key, window)
            found = _Class(stage, np.bincount(stage, minlength=_STAGES), np.flatnonzero(stage == _PASSES))
            self._classes[(key, first, last)] = found
        return found

    def _base(self, key: _VettingKey, window: DeploymentWindow) -> tuple[np.ndarray, np.ndarray]:
        """Stages for the volunteers whose verdict holds on every date of the run, and the indices of the
        others (decided per class). Anyone without the skills is left at _NO_SKILLS unasked."""
        found = self._bases.get(key)
        if found is None:
            task, _, _, extra = key
            base = np.full(self.size, _NO_SKILLS, dtype=np.int8)
            holders = self._holders((*task.required_skills, *extra))
            steady = self.steady[holders]
            for i in holders[steady].tolist():
                base[i] = self._verdict(i, key, window)
            found = self._bases[key] = (base, holders[~steady])
        return found

    def _verdict(self, i: int, key: _VettingKey, window: DeploymentWindow) -> int:
        task, supervised, remote, extra = key
        return _vetting_stage(
            check_eligibility(self.persons[i], task, window, supervised=supervised, remote=remote, extra_skills=extra)
        )

    def _holders(self, requirements: tuple[SkillRequirement, ...]) -> np.ndarray:
        """Volunteers who hold some alternative of every requirement (at any level or evidence)."""
        held = np.arange(self.size, dtype=np.intp)
        empty = np.empty(0, dtype=np.intp)
        for requirement in requirements:
            either = np.unique(np.concatenate([self.holding.get(code, empty) for code in requirement.alternatives]))
            held = np.intersect1d(held, either, assume_unique=True)
        return held

    # ---- time and place

    def _free(self, request: RequestFacts, pool: np.ndarray, reach: _Reach) -> np.ndarray:
        """``is_free`` for each of ``pool``: from the weekly slots alone where nothing else can change it."""
        parts = _wall_clock(request.start, request.end)
        if parts is None:
            return np.zeros(pool.size, dtype=bool)
        if len(parts) > 1:
            # Night work across midnight is rare: each of the pool through is_free itself (both days' hours).
            return np.fromiter(
                (is_free(self.volunteers[i], request.start, request.end, reach.buffer[self.home[i]]) for i in pool),
                dtype=bool,
                count=pool.size,
            )
        ((day, first, last),) = parts
        slotted = self._slotted(day.weekday(), first, last)[pool]
        off, unusual = self._unusual_on(day)
        in_slot, unusual, busy = slotted & ~off[pool], unusual[pool], self.busy[pool]
        free = in_slot & ~unusual & ~busy
        for k in np.flatnonzero(unusual).tolist():
            i = pool[k]
            free[k] = is_free(self.volunteers[i], request.start, request.end, reach.buffer[self.home[i]])
        # An ordinary day and a weekly slot that covers the deployment: only the bookings can say no.
        to_check = in_slot & busy & ~unusual
        if _fixed_offset(request.start) and _fixed_offset(request.end):
            by_clock = self.busy_by_clock[pool]
            free[to_check & ~by_clock] = ~self._clashes(request, pool[to_check & ~by_clock], reach)
            to_check &= by_clock
        for k in np.flatnonzero(to_check).tolist():
            i = pool[k]
            free[k] = _clear_of_bookings(self.volunteers[i], request.start, request.end, reach.buffer[self.home[i]])
        return free

    def _slotted(self, weekday: int, first: int, last: int) -> np.ndarray:
        """Whose weekly slots on ``weekday`` cover the minutes ``first`` to ``last``, for everyone, kept per
        window: a London week has 20,000 requests but fewer than 400 distinct windows."""
        found = self._slotted_by_window.get((weekday, first, last))
        if found is None:
            starts, ends = self.slots[weekday]
            found = self._slotted_by_window[(weekday, first, last)] = ((starts <= first) & (last <= ends)).any(axis=1)
        return found

    def _clashes(self, request: RequestFacts, who: np.ndarray, reach: _Reach) -> np.ndarray:
        """For each of ``who``: a booking within the journey's length of the request (as _clear_of_bookings)."""
        owner, starts, ends = self.bookings
        chosen = np.zeros(self.size, dtype=bool)
        chosen[who] = True
        rows = np.flatnonzero(chosen[owner])
        gap = reach.buffer_array[self.home[owner[rows]]] * 60_000_000
        start, end = _microseconds(request.start), _microseconds(request.end)
        meets = (starts[rows] < end + gap) & (start < ends[rows] + gap)
        clashing = np.zeros(self.size, dtype=bool)
        clashing[owner[rows[meets]]] = True
        return clashing[who]

    def _unusual_on(self, day: date) -> tuple[np.ndarray, np.ndarray]:
        """Who is off all ``day`` (blocked, or an exception says unavailable), and who has other hours
        that day than their weekly slots (an exception saying available): ``is_free`` decides for them."""
        found = self._unusual_days.get(day)
        if found is None:
            off, other_hours = np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=bool)
            for i in self.dated:
                v = self.volunteers[i]
                off[i] = _day_off(v, day)
                other_hours[i] = not off[i] and any(e.on_date == day for e in v.exceptions)
            found = self._unusual_days[day] = (off, other_hours)
        return found

    def _reach(self, request: RequestFacts) -> _Reach:
        where = _REMOTE if request.remote else _NOWHERE if request.location is None else tuple(request.location)
        found = self._reaches.get(where)
        if found is None:
            if where is _REMOTE:
                km = [0.0] * (len(self.homes) + 1)
            elif where is _NOWHERE:
                km = [math.inf] * (len(self.homes) + 1)
            else:
                km = [math.inf, *distances_km(self.home_angles, request.location)]
            travel = [0 if request.remote or d == math.inf else 2 * travel_minutes(d) for d in km]
            buffer = [_buffer(d) for d in km]
            found = _Reach(
                km,
                np.array(km, dtype=float),
                np.array([round(d, 1) for d in km], dtype=float),
                buffer,
                np.array(buffer, dtype=np.int64),
                np.array(travel, dtype=np.int64),
            )
            self._reaches[where] = found
        return found


def explain(
    candidate: Candidate, request: RequestFacts, skill_names: dict[str, str], volunteer: VolunteerCandidate
) -> str:
    """Why this volunteer, in a sergeant's words: skill and level, distance, continuity, preference."""
    parts = []
    wanted = [code for req in (*request.task.required_skills, *request.extra_skills) for code in req.alternatives]
    held = {s.code: s for s in volunteer.person.skills}
    for code in dict.fromkeys(wanted):
        if code in held:
            parts.append(f"{skill_names.get(code, code).lower()}, {held[code].level.value}")
            break
    parts.append("works remotely" if request.remote else f"{candidate.km:.1f} km away")
    # Who was asked first (issue #23): the specialist group the request is aimed at, or the ward's own panel.
    if request.group_members is not None and request.group_name:
        group = request.group_name
        parts.insert(0, f"in the {group}" if group.lower().endswith("group") else f"in the {group} specialist group")
    if request.ward_id in volunteer.panel_wards and request.ward_name:
        parts.insert(0, f"on your {request.ward_name} panel")
    if candidate.requested:
        parts.append("the volunteer you asked for")
    elif candidate.served_ward:
        parts.append("has served this ward before")
    if candidate.preferred_task:
        parts.append("asked for this kind of task")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def funnel_sentence(stages: Iterable[Stage]) -> str:
    """'14 have the skills → 6 cleared for this task on 3 December 2026 → …'."""
    return " → ".join(f"{s.remaining} {s.label}" for s in list(stages)[1:])
