"""Fast candidate pairs for a Week: who may go where, at what load and score, and which requests clash.

Pure module (numpy). Calling `vetting.rules.check_eligibility` for each of 50,000 × 20,000 pairs is far
too slow, and so was a Python loop per request (20-40 s). This module computes the same answer in
two vectorised steps:

1. **Vetting, per request class.** Eligibility under the vetting rules depends on the request only
   through its class: task type, whether the unsupervised clearances are needed, an extra language,
   and the first and last London dates it touches. A week has a few hundred classes. For each, one
   boolean per volunteer is computed over the whole population with numpy: clearances as bitmasks of
   the week's days they are valid and active on (so several clearances of an accepted type can cover
   the dates between them), skills as the last day their evidence holds, warrant and patrol status,
   desk/remote adjustments and mobilisation. Same semantics as `check_eligibility` (checked by
   tests/unit/test_bench_smoke.py on every pair of a small week).
2. **Place and time, per class × eligible volunteers.** A dense block (requests of the class ×
   volunteers eligible for it), in chunks: travel distance between ward centroids (haversine, looked
   up in a ward × ward table) within the volunteer's limit, no declared conflict with the ward, and the
   volunteer's weekly availability covering the whole window (bitmask test on half-hours).

Beyond `check_eligibility`: a remote-only volunteer takes only requests done remotely, and remote
requests need no travel.

Pair figures: load = duration + round-trip travel time (minutes, the unit of the weekly hours cap);
score (thousandths) = proximity (up to 1.000) + skill level (0, 0.300, 0.600) + 0.400 when the volunteer
prefers the task type. Clashes are pairs of requests whose windows overlap and that share a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.generator import (
    DAY,
    NO_DATE,
    PSV,
    SKILL_INDEX,
    SLOT,
    STATE_INDEX,
    TYPE_INDEX,
    URGENT,
    WEEK,
    Week,
)
from matching.solver.components import lexorder, ragged
from matching.solver.instance import Instance, Pair, Request, Volunteer
from vetting.catalogue import SKILLS, TASK_POLICIES, SkillLevel, SkillRequirement, TaskPolicy
from vetting.lifecycle import ACTIVE_STATES

EARTH_RADIUS_KM = 6371.0088
PROXIMITY_KM = 20.0  # proximity score falls from 1 at the same ward to 0 at this distance
MINUTES_PER_KM = 4.0  # door to door across London by bus, tube or on foot (~15 km/h)
SKILL_LEVEL_SCORE = 300  # thousandths per level above aware
PREFERENCE_SCORE = 400
CHUNK = 4_000_000  # dense block cells per step (bounds the temporary memory to ~100 MB)
_ALL_DAYS = 0x7F


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate pairs, sorted by request then distance then volunteer (indices into the Week)."""

    volunteer: np.ndarray  # int32
    request: np.ndarray  # int32
    distance_km: np.ndarray  # float32 (0 for remote requests)
    load: np.ndarray  # int32 minutes
    score: np.ndarray  # int32 thousandths

    def __len__(self) -> int:
        return len(self.volunteer)

    def subset(self, keep: np.ndarray) -> Candidates:
        return Candidates(*(column[keep] for column in self._columns()))

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.volunteer, self.request, self.distance_km, self.load, self.score)


def ward_distances(week: Week) -> np.ndarray:
    """Great-circle distance (km) between every two ward centroids, float32 (W × W)."""
    lat, lon = np.radians(week.ward_lat), np.radians(week.ward_lon)
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return (2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))).astype(np.float32)


def request_days(week: Week) -> tuple[np.ndarray, np.ndarray]:
    """The first and last London dates (day offsets) each request touches: [start, end) half-open."""
    return week.start // DAY, (week.end - 1) // DAY


class VettingTable:
    """Per-volunteer arrays that answer 'eligible for this class of request?' with a few numpy ops.

    Built once per week (population); `eligible(...)` is then cheap per class.
    """

    def __init__(self, week: Week, volunteers: np.ndarray | None = None) -> None:
        self.week = week
        count = week.num_volunteers
        self.present = np.ones(count, dtype=bool) if volunteers is None else volunteers
        self.clr_holder = np.repeat(np.arange(count, dtype=np.int32), np.diff(week.clr_start))
        self.sk_holder = np.repeat(np.arange(count, dtype=np.int32), np.diff(week.sk_start))
        active = np.zeros(len(STATE_INDEX), dtype=bool)
        active[[STATE_INDEX[s] for s in ACTIVE_STATES]] = True
        self.clr_active = active[week.clr_state]
        self.clr_days = _day_bits(week.clr_from, week.clr_until)
        mobilised = week.mobilised_first != NO_DATE
        self.mobilised_days = np.where(mobilised, _day_bits(week.mobilised_first, week.mobilised_last), 0)
        self._groups: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}
        self._skills: dict[SkillRequirement, np.ndarray] = {}
        self._status: dict[int, np.ndarray] = {}

    def group_days(self, t: int, group: tuple[str, ...]) -> np.ndarray:
        """uint8 per volunteer: the week's days on which some clearance of `group` counts for task t."""
        key = (t, group)
        if key not in self._groups:
            week = self.week
            types = np.zeros(len(TYPE_INDEX), dtype=bool)
            types[[TYPE_INDEX[code] for code in group]] = True
            counts = types[week.clr_type] & self.clr_active & ((week.clr_restricted >> np.uint16(t)) & 1 == 0)
            days = np.zeros(week.num_volunteers, dtype=np.uint8)
            np.bitwise_or.at(days, self.clr_holder[counts], self.clr_days[counts])
            self._groups[key] = days
        return self._groups[key]

    def skill_until(self, requirement: SkillRequirement) -> np.ndarray:
        """int32 per volunteer: the last day on which some alternative is held at the level with valid
        evidence (NO_EXPIRY when no evidence is needed or it never expires; below any day when none)."""
        if requirement not in self._skills:
            week = self.week
            codes = np.zeros(len(SKILLS), dtype=bool)
            codes[[SKILL_INDEX[code] for code in requirement.alternatives]] = True
            minimum = list(SkillLevel).index(requirement.minimum_level)
            holds = codes[week.sk_skill] & (week.sk_level >= minimum)
            until = np.where(~week.sk_required, np.int32(2**30), week.sk_until)
            until = np.where(week.sk_required & ~week.sk_verified, np.int32(-(2**30)), until)
            best = np.full(week.num_volunteers, -(2**31), dtype=np.int32)
            np.maximum.at(best, self.sk_holder[holds], until[holds])
            self._skills[requirement] = best
        return self._skills[requirement]

    def status(self, t: int) -> np.ndarray:
        """Warrant, patrol status and adjustments (date-independent), for task t."""
        if t not in self._status:
            week, task = self.week, TASK_POLICIES[t]
            ok = self.present.copy()
            if task.warranted_only:
                ok &= week.warranted
            if task.minimum_patrol_status is not None:
                minimum = task.minimum_patrol_status.rank
                ok &= (week.kind == PSV) | (week.patrol >= minimum)
            if task.street_duty:
                ok &= week.adjustment != 1  # desk only
            if not task.remote_possible:
                ok &= week.adjustment != 2  # remote only
            self._status[t] = ok
        return self._status[t]

    def eligible(self, t: int, unsupervised: bool, extra: int, first: int, last: int) -> np.ndarray:
        """Bool per volunteer: may do task t on days first..last (offsets 0..6), under the vetting rules."""
        task: TaskPolicy = TASK_POLICIES[t]
        need = np.uint8(_ALL_DAYS & (((1 << (last + 1)) - 1) ^ ((1 << first) - 1)))
        ok = self.status(t) & ((self.mobilised_days & need) == 0)
        groups = task.clearance_groups + (task.unsupervised_clearance_groups if unsupervised else ())
        for group in groups:
            ok &= (self.group_days(t, group) & need) == need
        requirements = task.required_skills
        if extra >= 0:
            requirements += (SkillRequirement((SKILLS[extra].code,), SkillLevel.PRACTITIONER),)
        for requirement in requirements:
            ok &= self.skill_until(requirement) >= last
        return ok

    def best_level(self, t: int) -> np.ndarray:
        """int8 per volunteer: the best level held in the task's main skill (0 if it needs none)."""
        task = TASK_POLICIES[t]
        best = np.zeros(self.week.num_volunteers, dtype=np.int8)
        if task.required_skills:
            codes = np.zeros(len(SKILLS), dtype=bool)
            codes[[SKILL_INDEX[c] for c in task.required_skills[0].alternatives]] = True
            holds = codes[self.week.sk_skill]
            np.maximum.at(best, self.sk_holder[holds], self.week.sk_level[holds])
        return best


def _day_bits(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """uint8 bitmask of the week's days (0..6) inside [first, last] (inclusive day offsets)."""
    lo = np.clip(first, 0, 7).astype(np.int64)
    hi = np.clip(last + 1, 0, 7).astype(np.int64)
    bits = ((1 << hi) - 1) ^ ((1 << lo) - 1)
    return np.where(hi > lo, bits, 0).astype(np.uint8)


def request_classes(week: Week, requests: np.ndarray) -> tuple[np.ndarray, list[tuple[int, bool, int, int, int]]]:
    """Group requests by what vetting eligibility depends on. Returns (class index per request, keys)."""
    first, last = request_days(week)
    unsupervised = (
        np.array([task.unsupervised_allowed and bool(task.unsupervised_clearance_groups) for task in TASK_POLICIES])[
            week.task
        ]
        & ~week.supervised
    )
    table = np.stack(
        [week.task.astype(np.int64), unsupervised, week.extra_skill.astype(np.int64), first, last], axis=1
    )[requests]
    keys, inverse = np.unique(table, axis=0, return_inverse=True)
    classes = [(int(t), bool(u), int(x), int(f), int(la)) for t, u, x, f, la in keys]
    return inverse.reshape(-1), classes


def _window_masks(week: Week, requests: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per request: the first availability word its half-hours touch, and the masks on it and the next."""
    first = week.start[requests] // SLOT
    last = week.end[requests] // SLOT  # exclusive
    word = (first // 64).astype(np.int64)
    lo = first - word * 64
    hi = last - word * 64  # up to 128: windows are shorter than 32 hours
    full = np.uint64(0xFFFF_FFFF_FFFF_FFFF)

    def ones(n: np.ndarray) -> np.ndarray:  # n in 0..64 → low n bits set
        n = n.astype(np.uint64)
        return np.where(n >= 64, full, (np.uint64(1) << np.minimum(n, 63)) - np.uint64(1))

    m0 = ones(np.minimum(hi, 64)) & ~ones(lo)
    m1 = ones(np.clip(hi - 64, 0, 64))
    return word, m0, m1


def build_candidates(
    week: Week,
    requests: np.ndarray | None = None,
    volunteers: np.ndarray | None = None,
    table: VettingTable | None = None,
    distances: np.ndarray | None = None,
) -> Candidates:
    """Every eligible (volunteer, request) pair with its load and score.

    `requests` limits the requests (indices; default all); `volunteers` is a bool mask of who is
    still in the pool (default everyone). `table` and `distances` can be passed to reuse them.
    """
    requests = np.arange(week.num_requests) if requests is None else np.asarray(requests, dtype=np.int64)
    table = VettingTable(week, volunteers) if table is None else table
    distances = ward_distances(week) if distances is None else distances
    class_of, classes = request_classes(week, requests)
    word, m0, m1 = _window_masks(week, requests)
    duration = (week.end - week.start)[requests]
    parts: list[tuple[np.ndarray, ...]] = []
    levels: dict[int, np.ndarray] = {}
    order = np.argsort(class_of, kind="stable")
    bounds = np.searchsorted(class_of[order], np.arange(len(classes) + 1))
    for c, (t, unsupervised, extra, first, last) in enumerate(classes):
        rows = order[bounds[c] : bounds[c + 1]]  # positions in `requests`
        pool = np.flatnonzero(table.eligible(t, unsupervised, extra, first, last)).astype(np.int32)
        if not len(pool) or not len(rows):
            continue
        if t not in levels:
            levels[t] = table.best_level(t)
        step = max(1, CHUNK // len(pool))
        home = week.home_ward[pool]
        reach = week.travel_km[pool].astype(np.float32)
        remote_only = week.adjustment[pool] == 2
        conflict = week.conflict_ward[pool]
        avail = week.availability[pool]
        for lo in range(0, len(rows), step):
            chunk = rows[lo : lo + step]
            r = requests[chunk]
            wards = week.ward[r]
            remote = week.remote[r]
            dist = distances[wards][:, home]  # (chunk × pool)
            ok = (dist <= reach[None, :]) | remote[:, None]
            ok &= ~(remote_only[None, :] & ~remote[:, None])
            ok &= conflict[None, :] != wards[:, None]
            i, j = np.nonzero(ok)
            w = word[chunk][i]
            fits = (avail[j, w] & m0[chunk][i]) == m0[chunk][i]
            fits &= (avail[j, w + 1] & m1[chunk][i]) == m1[chunk][i]
            i, j = i[fits], j[fits]
            d = np.where(remote[i], np.float32(0), dist[i, j])
            parts.append((pool[j], r[i], d, duration[chunk][i], t))
    return _assemble(week, parts, levels)


def _assemble(week: Week, parts: list[tuple], levels: dict[int, np.ndarray]) -> Candidates:
    """The pairs found, with their loads and scores, sorted by request, distance, tie-break."""
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return Candidates(empty, empty, empty.astype(np.float32), empty, empty)
    volunteer = np.concatenate([p[0] for p in parts]).astype(np.int32)
    request = np.concatenate([p[1] for p in parts]).astype(np.int32)
    distance = np.concatenate([p[2] for p in parts]).astype(np.float32)
    duration = np.concatenate([p[3] for p in parts]).astype(np.int32)
    level = np.concatenate([levels[p[4]][p[0]] for p in parts]).astype(np.int32)
    travel = np.rint(2 * distance.astype(np.float64) * MINUTES_PER_KM).astype(np.int32)
    load = duration + travel
    proximity = np.maximum(0, np.rint(1000 * (1 - distance.astype(np.float64) / PROXIMITY_KM))).astype(np.int32)
    task = week.task[request]
    prefers = (week.preferences[volunteer] >> task.astype(np.uint16)) & 1
    score = proximity + SKILL_LEVEL_SCORE * level + PREFERENCE_SCORE * prefers.astype(np.int32)
    order = np.lexsort((volunteer, _shuffle(volunteer, request), distance, request))
    return Candidates(volunteer[order], request[order], distance[order], load[order], score[order].astype(np.int32))


def _shuffle(volunteer: np.ndarray, request: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random tie-break per pair, so that equal distances or scores do not always
    favour the volunteers listed first."""
    mixed = volunteer.astype(np.uint64) * np.uint64(2654435761) + request.astype(np.uint64) * np.uint64(40503)
    return (mixed ^ (mixed >> np.uint64(13))) & np.uint64(0xFFFF_FFFF)


def shortlist(candidates: Candidates, needed: np.ndarray, *, base: int = 8, per_place: int = 12) -> np.ndarray:
    """Indices of the pairs the solver is given: per request, the `base + per_place × needed` best by
    score (ties broken by `_shuffle`). Sorted, so the result keeps the candidates' order.

    Why: at city scale a request has ~80 eligible people (events several hundred), and the solver
    only ever needs the best few unless they are all taken elsewhere. Rare skills have fewer
    candidates than the shortlist, so they lose nothing. (A cap per volunteer as well would cut
    far more pairs, but loses ~3% of coverage: the few holders of rare skills are needed widely.)
    Measured on a 10,000 × 3,000 week: the optimum over the shortlist is within 0.02% of the
    optimum over every eligible pair.
    """
    if not len(candidates):
        return np.zeros(0, dtype=np.int64)
    tie = _shuffle(candidates.volunteer, candidates.request)
    keep = _best(candidates.request, candidates.score, tie) < base + per_place * needed[candidates.request]
    return np.flatnonzero(keep)


def _best(group: np.ndarray, score: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Each pair's rank within its group (0 = best score), ties broken by `tie`."""
    order = lexorder(group, -score.astype(np.int64), tie.astype(np.int64))  # one combined key: see lexorder
    sorted_group = group[order]
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.searchsorted(sorted_group, sorted_group, side="left")
    return rank


def find_clashes(week: Week, candidates: Candidates) -> np.ndarray:
    """(n, 2) request index pairs, smaller first, unique: the windows overlap and some volunteer is a
    candidate for both and could fit both loads in their week (other overlaps can never matter).

    Per volunteer, candidates sorted by start: candidate i overlaps exactly the following ones that
    start before it ends, found with one binary search each (linear in the output).
    """
    span = np.int64(2 * WEEK)
    key = candidates.volunteer.astype(np.int64) * span + week.start[candidates.request]
    order = np.argsort(key, kind="stable")
    key = key[order]
    request = candidates.request[order].astype(np.int64)
    load = candidates.load[order].astype(np.int64)
    room = week.cap_minutes[candidates.volunteer[order]].astype(np.int64)
    ends = candidates.volunteer[order].astype(np.int64) * span + week.end[request]
    stop = np.searchsorted(key, ends, side="left")
    counts = stop - np.arange(len(key)) - 1
    total = int(counts.sum())
    if total == 0:
        return np.zeros((0, 2), dtype=np.int64)
    first, offset = ragged(counts)
    second = first + 1 + offset
    both = load[first] + load[second] <= room[first]
    a, b = request[first[both]], request[second[both]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = np.unique(lo * week.num_requests + hi)
    return np.stack([keys // week.num_requests, keys % week.num_requests], axis=1)


def to_instance(
    week: Week,
    candidates: Candidates,
    clashes: np.ndarray,
    *,
    volunteers: np.ndarray | None = None,
    requests: np.ndarray | None = None,
    score: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    needed: np.ndarray | None = None,
) -> Instance:
    """The solver's Instance. Coverage weights come from PRIORITY_WEIGHTS; loads and capacities are
    whole minutes; scores are thousandths written as 3-decimal numbers.

    `volunteers`/`requests` choose which rows to include (default all; a bool mask or indices);
    `score`, `capacity` and `needed` override the week's figures (e.g. a stability bonus, or what is
    left after accepted work).
    """
    vids, rids = week.volunteer_ids, week.request_ids
    volunteer_rows = np.arange(week.num_volunteers) if volunteers is None else _indices(volunteers)
    request_rows = np.arange(week.num_requests) if requests is None else _indices(requests)
    capacity = week.cap_minutes if capacity is None else capacity
    needed = week.needed if needed is None else needed
    weights = week.weights()
    score = candidates.score if score is None else score
    # Local first (issue #23): each volunteer's panel ward, each request's ward and urgency, the ring-fences.
    panel = week.panel_ward if week.panel_ward is not None else np.full(week.num_volunteers, -1)
    people = tuple(
        Volunteer(vids[v], int(capacity[v]), frozenset({f"w{panel[v]}"}) if panel[v] >= 0 else frozenset())
        for v in volunteer_rows.tolist()
    )
    urgent = week.level == URGENT
    asks = tuple(
        Request(
            rids[r],
            int(needed[r]),
            int(weights[r]),
            bool(week.all_or_nothing[r]),
            ward=f"w{week.ward[r]}",
            urgent=bool(urgent[r]),
        )
        for r in request_rows.tolist()
    )
    pairs = tuple(
        Pair(vids[v], rids[r], load, s / 1000 if s % 1000 else s // 1000)
        for v, r, load, s in zip(
            candidates.volunteer.tolist(),
            candidates.request.tolist(),
            candidates.load.tolist(),
            score.tolist(),
            strict=True,
        )
    )
    clash_ids = tuple((rids[a], rids[b]) for a, b in clashes.tolist())
    return Instance(people, asks, pairs, clash_ids, frozenset(f"w{w}" for w in week.ring_fenced))


def _indices(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows
