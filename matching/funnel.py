"""Who can take a request, rule by rule — and, when nobody can, what would change that.

For each request the volunteers pass through the hard rules in a fixed order; the counts after
each rule are the funnel a sergeant sees ("14 have the skill → 6 cleared for this task on 3 Dec →
2 free 2pm to 4pm → 0 within their travel limit"), and the nearest miss at the stage that emptied
it becomes the suggestion ("the nearest eligible volunteer is 9 km away with a 5 km limit").
Pure: no Flask, no ORM. The solver only ever sees pairs that passed every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from matching.domain import RequestFacts, VolunteerCandidate, distance_km, travel_minutes
from vetting.rules import DeploymentWindow, ReasonCode, check_eligibility, format_date

LONDON = ZoneInfo("Europe/London")

SKILL_CODES = {ReasonCode.SKILL_MISSING, ReasonCode.SKILL_LEVEL_TOO_LOW, ReasonCode.EVIDENCE_UNVERIFIED,
               ReasonCode.EVIDENCE_EXPIRED}
CLEARANCE_CODES = {ReasonCode.NO_CLEARANCE, ReasonCode.NO_UNSUPERVISED_CLEARANCE}
STATUS_CODES = {ReasonCode.NOT_WARRANTED, ReasonCode.PATROL_STATUS_TOO_LOW, ReasonCode.DESK_ONLY,
                ReasonCode.REMOTE_ONLY, ReasonCode.MOBILISED}


@dataclass(frozen=True)
class Stage:
    key: str
    label: str  # "have the skills", "cleared for this task on 3 December 2026", …
    remaining: int


@dataclass(frozen=True)
class Candidate:
    """A volunteer who passed every rule for a request, with what the goals need to know."""

    volunteer_id: int
    km: float
    load_minutes: int  # the deployment plus travel there and back
    skill_level: int  # 0 aware, 1 practitioner, 2 expert: the best level among the request's skills
    served_ward: bool
    preferred_task: bool
    requested: bool  # the sergeant asked for this person (continuity)


@dataclass(frozen=True)
class FunnelResult:
    stages: tuple[Stage, ...]
    candidates: tuple[Candidate, ...]
    suggestion: str | None


def _clock(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def is_free(volunteer: VolunteerCandidate, start: datetime, end: datetime, buffer_minutes: int = 0) -> bool:
    """Available for the whole of [start, end) in London wall-clock terms, not blocked, not booked."""
    local_start, local_end = start.astimezone(LONDON), end.astimezone(LONDON)
    if local_start.date() != (local_end - timedelta(microseconds=1)).date():
        return False  # overnight deployments need an explicit exception; not offered from weekly slots
    day = local_start.date()
    if any(block.first <= day <= block.last for block in volunteer.blocked):
        return False
    first = local_start.hour * 60 + local_start.minute
    last = first + int((end - start).total_seconds() // 60)
    exceptions = [e for e in volunteer.exceptions if e.on_date == day]
    if any(not e.available for e in exceptions):
        return False
    windows = [(e.start_minute, e.end_minute) for e in exceptions if e.available and e.start_minute is not None]
    windows += [(s.start_minute, s.end_minute) for s in volunteer.weekly_slots if s.weekday == day.weekday()]
    if not any(lo <= first and last <= hi for lo, hi in windows):
        return False
    gap = timedelta(minutes=buffer_minutes)
    return not any(b_start < end + gap and start < b_end + gap for b_start, b_end in volunteer.busy)


def _conflicted(volunteer: VolunteerCandidate, request: RequestFacts) -> bool:
    organisation = request.organisation.strip().lower()
    for conflict in volunteer.conflicts:
        if conflict.ward_id is not None and conflict.ward_id == request.ward_id:
            return True
        declared = conflict.organisation.strip().lower()
        if organisation and declared and (declared in organisation or organisation in declared):
            return True
    return False


_LEVELS = {"aware": 0, "practitioner": 1, "expert": 2}


def _skill_level(volunteer: VolunteerCandidate, request: RequestFacts) -> int:
    wanted = {code for req in (*request.task.required_skills, *request.extra_skills) for code in req.alternatives}
    levels = [_LEVELS[s.level.value] for s in volunteer.person.skills if s.code in wanted]
    return max(levels, default=0)


def funnel(request: RequestFacts, volunteers: Sequence[VolunteerCandidate]) -> FunnelResult:
    """Apply the hard rules in order; return the counts, the surviving candidates and a suggestion."""
    window = DeploymentWindow(request.start, request.end)
    day = format_date(request.start.astimezone(LONDON).date())
    pool = list(volunteers)
    stages: list[Stage] = [Stage("all", "volunteers", len(pool))]
    misses: dict[str, list[tuple[float, VolunteerCandidate]]] = {}

    extra = tuple(request.extra_skills)
    verdicts = {v.id: check_eligibility(v.person, request.task, window, supervised=request.supervised,
                                        extra_skills=extra) for v in pool}

    def keep(key: str, label: str, passes) -> None:
        nonlocal pool
        kept, dropped = [], []
        for volunteer in pool:
            (kept if passes(volunteer) else dropped).append(volunteer)
        misses[key] = [(_km(v, request), v) for v in dropped]
        pool = kept
        stages.append(Stage(key, label, len(pool)))

    keep("skills", "have the skills", lambda v: not (set(verdicts[v.id].codes) & SKILL_CODES))
    keep("cleared", f"cleared for this task on {day}",
         lambda v: not (set(verdicts[v.id].codes) & CLEARANCE_CODES))
    keep("status", "can do this kind of task",
         lambda v: not (set(verdicts[v.id].codes) & STATUS_CODES)
         and (v.person.warranted or not request.warranted_only))
    keep("free", f"free {_clock(request.start)} to {_clock(request.end)}",
         lambda v: is_free(v, request.start, request.end, buffer_minutes=travel_minutes(_km(v, request))))
    if not request.remote:
        keep("travel", "within their travel limit", lambda v: _km(v, request) <= v.travel_limit_km)
    keep("hours", "within their weekly hours",
         lambda v: v.booked_minutes_in_week + _load(v, request) <= v.weekly_cap_minutes)
    keep("conflicts", "with no conflict of interest", lambda v: not _conflicted(v, request))

    candidates = tuple(Candidate(
        volunteer_id=v.id, km=round(_km(v, request), 1), load_minutes=_load(v, request),
        skill_level=_skill_level(v, request), served_ward=request.ward_id in v.served_wards,
        preferred_task=request.task.code in v.preferred_task_types, requested=v.id == request.preferred_volunteer_id,
    ) for v in pool)
    suggestion = None if len(candidates) >= request.people_needed else _suggest(stages, misses, request)
    return FunnelResult(stages=tuple(stages), candidates=candidates, suggestion=suggestion)


def _km(volunteer: VolunteerCandidate, request: RequestFacts) -> float:
    if request.remote or request.location is None or volunteer.home is None:
        return 0.0 if request.remote else float("inf")
    return distance_km(volunteer.home, request.location)


def _load(volunteer: VolunteerCandidate, request: RequestFacts) -> int:
    km = _km(volunteer, request)
    return request.minutes + (0 if request.remote or km == float("inf") else 2 * travel_minutes(km))


def _suggest(stages: list[Stage], misses: dict[str, list[tuple[float, VolunteerCandidate]]],
             request: RequestFacts) -> str:
    """What would fill the request, from the rule that removed the most people it still needed."""
    for stage in stages[1:]:
        if stage.remaining >= request.people_needed:
            continue
        dropped = sorted(misses.get(stage.key, []), key=lambda pair: pair[0])
        if not dropped:
            continue
        km, nearest = dropped[0]
        if stage.key == "travel":
            return (f"The nearest eligible volunteer is {km:.1f} km away with a {nearest.travel_limit_km:g} km limit: "
                    "a volunteer willing to travel further, or a remote task, would fill it")
        if stage.key == "free":
            return (f"{len(dropped)} cleared volunteer{'s are' if len(dropped) != 1 else ' is'} not free then: "
                    "another time or day may fill it")
        if stage.key == "hours":
            return f"{len(dropped)} would go but have reached their weekly hours: a later week may fill it"
        if stage.key == "cleared":
            return (f"{len(dropped)} with the skills {'are' if len(dropped) != 1 else 'is'} not cleared for this task "
                    "on that date: the vetting team can say when clearances are due")
        if stage.key == "skills":
            return "No volunteer has the skills this task needs: ask the coordinator to recruit for them"
        if stage.key == "status":
            return f"{len(dropped)} cannot do this kind of task (warranted status, patrol status or adjustments)"
        if stage.key == "conflicts":
            return f"{len(dropped)} declared a conflict of interest with this organisation or ward"
        return "Nobody passes every rule"
    return "Nobody passes every rule"


def explain(candidate: Candidate, request: RequestFacts, skill_names: dict[str, str],
            volunteer: VolunteerCandidate) -> str:
    """Why this volunteer, in a sergeant's words: skill and level, distance, continuity, preference."""
    parts = []
    wanted = [code for req in (*request.task.required_skills, *request.extra_skills) for code in req.alternatives]
    held = {s.code: s for s in volunteer.person.skills}
    for code in dict.fromkeys(wanted):
        if code in held:
            parts.append(f"{skill_names.get(code, code).lower()}, {held[code].level.value}")
            break
    parts.append("works remotely" if request.remote else f"{candidate.km:.1f} km away")
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
