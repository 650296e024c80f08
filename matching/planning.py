"""From funnels to a solver instance, and from the solver's plan back to proposals. Pure.

Objective (the solver core optimises coverage strictly before score):
1. coverage — each place filled counts its request's priority weight (urgent 9, priority 3,
   routine 1), so one urgent place outweighs any number of routine ones up to 8;
2. quality, the score of each (volunteer, request) pair, to 3 decimals:
   the ward's own panel (+2.0 for a current member of the panel of a panel-first request's ward: more than
   every other term together can differ, so a plan never prefers someone else's panel member on a tie),
   continuity (the volunteer the sergeant asked for +1.0, served the ward before +0.5),
   skill level (+0.1 per level), proximity (+0.5 × the share of their travel limit left),
   the volunteer's preference for the task type (+0.2), stability (+0.05 to keep a pair proposed
   in the previous run), and fair spread (−0.01 per hour the volunteer is already booked that week);
3. less the recent concerns (−0.5 each, at most two counted: a recent deployment they missed without
   notice, or whose sergeant would not ask for them again; issue #20).
Fair spread and stability are folded into the score, below every quality term in size, so they
only decide between otherwise equal plans (see docs/matching.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple

import numpy as np

from matching.domain import RequestFacts, travel_minutes
from matching.funnel import FunnelResult
from matching.solver.components import lexorder
from matching.solver.instance import (
    MAX_ABS_SCORE,
    MAX_AMOUNT,
    SCALE,
    ClashColumns,
    Instance,
    InstanceError,
    PairColumns,
    Request,
    Volunteer,
)

PRIORITY_WEIGHTS = {"routine": 1, "priority": 3, "urgent": 9}
# A panel member on a panel-first request of their ward (issue #23): above the most the other terms can add
# up to (1.0 + 0.2 + 0.5 + 0.2 + 0.05), so that on a tie of coverage the plan keeps panels local.
PANEL_BONUS = 2.0
# A recent concern (issue #20) costs as much as having served the ward before is worth, so the volunteer with
# one ranks below an otherwise equal one; at most two count, so the penalty (1.0) stays below PANEL_BONUS and a
# panel member on their own ward's request still comes first. A score, never a rule: when nobody else can
# go, coverage comes first and they are offered the place.
CONCERN_PENALTY, CONCERNS_COUNTED = 0.5, 2
# Each request's candidates given to the solver (see build_instance): as in bench/ (8 + 12 per place).
SHORTLIST_BASE, SHORTLIST_PER_PLACE = 8, 12


def pair_score(
    candidate, *, booked_minutes: int, limit_km: float, previous: bool, panel: bool = False, concerns: int = 0
) -> float:
    proximity = 0.0 if limit_km <= 0 else max(0.0, 1 - candidate.km / limit_km)
    score = (PANEL_BONUS if panel else 0.0) + (1.0 if candidate.requested else 0.5 if candidate.served_ward else 0.0)
    score += 0.1 * candidate.skill_level + 0.5 * proximity + (0.2 if candidate.preferred_task else 0.0)
    score += 0.05 if previous else 0.0
    score -= 0.01 * (booked_minutes / 60)
    score -= CONCERN_PENALTY * min(concerns, CONCERNS_COUNTED)
    return round(score, 3)


def build_instance(
    requests: Sequence[RequestFacts],
    funnels: Mapping[int, FunnelResult],
    capacity_minutes: Mapping[int, int],
    booked_minutes: Mapping[int, int],
    travel_limits: Mapping[int, float],
    previous: Iterable[tuple[int, int]] = (),
    panel_wards: Mapping[int, frozenset[int]] | None = None,
    ring_fenced: frozenset[int] = frozenset(),
    concerns: Mapping[int, int] | None = None,
) -> Instance:
    """The solver instance: for each request its best candidates (the shortlist, below); clashes where
    two requests overlap in time (with travel between them) and share a candidate.

    The shortlist keeps each request's ``SHORTLIST_BASE + SHORTLIST_PER_PLACE × places`` best-scoring
    candidates, and always the volunteer the sergeant asked for and last run's pairs. A ward's run has
    fewer candidates than that, so nothing is cut; a city's week has millions of eligible pairs, and a
    volunteer 30th in line for a request almost never fills it in an optimal plan (bench/RESULTS.md
    measures what it costs). The plan's proven bound is then the bound of the shortlisted instance.

    Two shortlisted requests of one volunteer clash when one starts before the other ends plus the
    journey (the longer of the volunteer's two trips); the clash then binds everyone shortlisted for
    both. Everything is done on arrays (a London week: two million candidates, over a million clashes),
    with the same answers, exact to the microsecond and the thousandth, as checking pair by pair
    (tests/unit/matching/test_planning.py keeps that plain version as the reference).

    Local first (issue #23): ``panel_wards`` gives each volunteer's panel wards (current memberships); a
    member scores ``PANEL_BONUS`` more on a panel-first request of one of them, and the instance carries
    the panels, each request's ward and urgency, and the ``ring_fenced`` wards, for the solver's rule
    (matching/solver/local_first.py). Ward ``w`` is ``"w<id>"`` in the instance.

    ``concerns`` gives each volunteer's recent concerns (``VolunteerCandidate.recent_concerns``), which lower
    their score (``CONCERN_PENALTY``).
    """
    panel_wards = panel_wards or {}
    columns = _candidate_columns(requests, funnels)
    previous_pair = _is_previous(columns, np.array([r.id for r in requests], dtype=np.int64), previous)
    on_panel = _on_panel(columns, requests, panel_wards)
    score_milli = _scores_milli(columns, booked_minutes, travel_limits, previous_pair, on_panel, concerns)
    rows = _shortlist(
        columns, score_milli, np.array([r.people_needed for r in requests], dtype=np.int64), previous_pair
    )

    volunteer_id, request_at = columns.volunteer_id[rows], columns.request_at[rows]
    loads, scores = columns.load[rows], score_milli[rows]
    if len(rows) and (loads.min() < 0 or loads.max() > MAX_AMOUNT or np.abs(scores).max() > MAX_ABS_SCORE * SCALE):
        raise InstanceError("a pair's load or score is out of range")  # never with the product's own rules
    request_names = [f"r{r.id}" for r in requests]
    if len(rows):  # the one check of Instance's that the arrays do not make true by construction
        keys = np.sort(request_at * (int(volunteer_id.max()) + 1) + volunteer_id)
        twice = np.flatnonzero(keys[1:] == keys[:-1])
        if len(twice):
            span = int(volunteer_id.max()) + 1
            key = int(keys[twice[0]])
            raise InstanceError(f"pair ('v{key % span}', {request_names[key // span]!r}) is listed twice")
    people, volunteer_at = np.unique(volunteer_id, return_inverse=True)
    volunteers = tuple(
        Volunteer(
            id=f"v{v}",
            capacity=max(0, capacity_minutes.get(v, 0)),
            panel_wards=frozenset(f"w{w}" for w in panel_wards.get(v, ())),
        )
        for v in people.tolist()
    )
    instance_requests = tuple(
        Request(
            id=name,
            needed=r.people_needed,
            priority=r.priority,
            all_or_nothing=r.all_or_nothing and r.people_needed > 1,
            ward=None if r.ward_id is None else f"w{r.ward_id}",
            urgent=r.priority >= PRIORITY_WEIGHTS["urgent"],
        )
        for name, r in zip(request_names, requests, strict=True)
    )
    first_at, second_at = _clashes(requests, volunteer_id, request_at, columns.km[rows])
    # Columns, not objects: a city week has hundreds of thousands of pairs and over a million clashes.
    return Instance.trusted(
        volunteers=volunteers,
        requests=instance_requests,
        pairs=PairColumns(volunteers, instance_requests, volunteer_at.reshape(-1), request_at, loads, scores),
        clashes=ClashColumns(instance_requests, first_at, second_at),
        ring_fenced=frozenset(f"w{w}" for w in ring_fenced),
    )


class _Columns(NamedTuple):
    """Every candidate of every request, in funnel order, as columns."""

    request_at: np.ndarray  # position of the request in ``requests``
    volunteer_id: np.ndarray
    km: np.ndarray
    load: np.ndarray
    skill_level: np.ndarray
    served_ward: np.ndarray
    preferred_task: np.ndarray
    requested: np.ndarray


def _candidate_columns(requests: Sequence[RequestFacts], funnels: Mapping[int, FunnelResult]) -> _Columns:
    found = [funnels[r.id].columns for r in requests]
    counts = np.fromiter((len(f.volunteer_id) for f in found), dtype=np.int64, count=len(found))

    def column(name: str, dtype: type) -> np.ndarray:
        if not found:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([getattr(f, name) for f in found]).astype(dtype, copy=False)

    return _Columns(
        request_at=np.repeat(np.arange(len(requests), dtype=np.int64), counts),
        volunteer_id=column("volunteer_id", np.int64),
        km=column("km", np.float64),
        load=column("load_minutes", np.int64),
        skill_level=column("skill_level", np.int64),
        served_ward=column("served_ward", bool),
        preferred_task=column("preferred_task", bool),
        requested=column("requested", bool),
    )


def _is_previous(columns: _Columns, request_ids: np.ndarray, previous: Iterable[tuple[int, int]]) -> np.ndarray:
    """Whether each candidate's (request id, volunteer id) is one of last run's pairs."""
    kept = np.array(sorted({(int(r), int(v)) for r, v in previous}), dtype=np.int64).reshape(-1, 2)
    if not len(kept) or not len(columns.volunteer_id):
        return np.zeros(len(columns.volunteer_id), dtype=bool)
    return _pairs_in(request_ids[columns.request_at], columns.volunteer_id, kept)


def _on_panel(
    columns: _Columns, requests: Sequence[RequestFacts], panel_wards: Mapping[int, frozenset[int]]
) -> np.ndarray:
    """Whether each candidate is a current member of the panel of their request's ward, on a panel-first request."""
    members = np.array(sorted((v, w) for v, wards in panel_wards.items() for w in wards), dtype=np.int64).reshape(-1, 2)
    if not len(members) or not len(columns.volunteer_id):
        return np.zeros(len(columns.volunteer_id), dtype=bool)
    ward = np.array([-1 if r.ward_id is None or not r.panel_first else r.ward_id for r in requests], dtype=np.int64)
    request_ward = ward[columns.request_at]
    known = request_ward >= 0
    found = np.zeros(len(columns.volunteer_id), dtype=bool)
    if known.any():
        found[known] = _pairs_in(columns.volunteer_id[known], request_ward[known], members)
    return found


def _pairs_in(first: np.ndarray, second: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each (first[i], second[i]) is a row of ``wanted`` (sorted, distinct rows)."""
    span = int(max(second.max(), wanted[:, 1].max())) + 1
    keys = wanted[:, 0] * span + wanted[:, 1]
    return np.isin(first * span + second, keys)


def _scores_milli(
    columns: _Columns,
    booked_minutes: Mapping[int, int],
    travel_limits: Mapping[int, float],
    previous: np.ndarray,
    on_panel: np.ndarray | None = None,
    concerns: Mapping[int, int] | None = None,
) -> np.ndarray:
    """``pair_score`` of every candidate, in thousandths: the same float operations in the same order,
    then rounded as ``round(score, 3)`` rounds (values next to a half go through ``round`` itself)."""
    if not len(columns.volunteer_id):
        return np.zeros(0, dtype=np.int64)
    booked, limit = _per_volunteer(columns.volunteer_id, booked_minutes, travel_limits)
    positive = limit > 0
    proximity = np.zeros(len(limit))
    proximity[positive] = np.maximum(0.0, 1 - columns.km[positive] / limit[positive])
    score = np.where(columns.requested, 1.0, np.where(columns.served_ward, 0.5, 0.0))
    if on_panel is not None and on_panel.any():
        score = np.where(on_panel, PANEL_BONUS, 0.0) + score  # as pair_score adds them
    score = score + (0.1 * columns.skill_level + 0.5 * proximity + np.where(columns.preferred_task, 0.2, 0.0))
    score = score + np.where(previous, 0.05, 0.0)
    score = score - 0.01 * (booked / 60)
    concerned = sorted(v for v, n in (concerns or {}).items() if n > 0)
    if concerned:  # a few volunteers among a city's two million candidates: looked up by binary search
        ids = np.array(concerned, dtype=np.int64)
        counts = np.array([min(concerns[v], CONCERNS_COUNTED) for v in concerned], dtype=np.int64)
        at = np.minimum(np.searchsorted(ids, columns.volunteer_id), len(ids) - 1)
        counted = np.where(ids[at] == columns.volunteer_id, counts[at], 0)
        score = score - CONCERN_PENALTY * counted
    scaled = score * SCALE
    milli = np.rint(scaled)
    doubtful = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for k in doubtful.tolist():
        milli[k] = round(round(float(score[k]), 3) * SCALE)
    return milli.astype(np.int64)


def _per_volunteer(
    volunteer_id: np.ndarray, booked_minutes: Mapping[int, int], travel_limits: Mapping[int, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's booked minutes and travel limit (0 where not given), read from a table indexed by
    volunteer id when the ids are small enough (a city's two million candidates: no sort), else by the
    distinct ids."""
    low, high = int(volunteer_id.min()), int(volunteer_id.max())
    if low >= 0 and high < 8 * len(volunteer_id) + 1024:
        ids = np.arange(high + 1)
        where = volunteer_id
    else:
        ids, where = np.unique(volunteer_id, return_inverse=True)
        where = where.reshape(-1)
    booked = np.array([booked_minutes.get(v, 0) for v in ids.tolist()], dtype=np.int64)
    limit = np.array([float(travel_limits.get(v, 0)) for v in ids.tolist()], dtype=np.float64)
    return booked[where], limit[where]


def _shortlist(columns: _Columns, score_milli: np.ndarray, needed: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Rows of the candidates given to the solver, in the order the solver is given them: per request,
    all its candidates in funnel order if they fit its room, else the best by score (then volunteer id),
    the one the sergeant asked for and last run's pairs."""
    request_at = columns.request_at
    if not len(request_at):
        return np.zeros(0, dtype=np.int64)
    room = SHORTLIST_BASE + SHORTLIST_PER_PLACE * needed
    per_request = np.bincount(request_at, minlength=len(needed))
    crowded = per_request > room
    by_score = lexorder(request_at, -score_milli, columns.volunteer_id)
    first = np.concatenate(([0], np.cumsum(per_request)[:-1]))
    rank = np.empty(len(request_at), dtype=np.int64)
    rank[by_score] = np.arange(len(by_score)) - first[request_at[by_score]]
    keep = ~crowded[request_at] | (rank < room[request_at]) | columns.requested | previous
    # Crowded requests list their shortlist best first; the others keep the funnel's order.
    within = np.where(crowded[request_at], rank, np.arange(len(request_at)) - first[request_at])
    rows = np.flatnonzero(keep)
    return rows[lexorder(request_at[rows], within[rows])]


_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clashes(
    requests: Sequence[RequestFacts], volunteer_id: np.ndarray, request_at: np.ndarray, km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The clashing request pairs, as the positions in ``requests`` of each one's two requests, in the
    order of their normalised ``(first, second)`` id tuples (``first < second``).

    Per volunteer, their shortlisted requests sorted by start (then by their order in ``requests``):
    ``a`` and a later ``b`` clash when ``b`` starts before ``a`` ends plus the journey, the longer of
    the volunteer's two trips. Only the requests that start before ``a`` ends plus the volunteer's
    longest trip are looked at, found by binary search, so the work is linear in what is looked at.
    """
    names = [f"r{r.id}" for r in requests]
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if not len(volunteer_id):
        return none
    times = _microsecond_windows(requests)
    if times is None:
        return _clashes_by_datetime(requests, names, volunteer_id, request_at, km)
    starts, ends = times
    distinct_km, which = np.unique(km, return_inverse=True)
    journey = np.array([travel_minutes(float(d)) for d in distinct_km.tolist()], dtype=np.int64)[which.reshape(-1)]
    journey *= 60_000_000
    people, person = np.unique(volunteer_id, return_inverse=True)
    person = person.reshape(-1)
    # By volunteer, start, request: starts as their ranks, so the three fit one sortable key (``lexorder``).
    start_rank = np.unique(starts, return_inverse=True)[1].reshape(-1)
    order = lexorder(person, start_rank[request_at], request_at)
    person, request, journey = person[order], request_at[order], journey[order]
    start, end = starts[request], ends[request]
    widest = np.zeros(len(people), dtype=np.int64)
    np.maximum.at(widest, person, journey)
    # One sortable key per row: the volunteer first, then the start (times are shifted to be >= 0).
    origin = int(starts.min())
    span = int(max(ends.max(), starts.max()) - origin) + int(widest.max()) + 1
    key = person * span + (start - origin)
    stop = np.searchsorted(key, person * span + (end - origin) + widest[person], side="left")
    counts = np.maximum(stop - np.arange(len(key)) - 1, 0)
    total = int(counts.sum())
    if total == 0:
        return none
    first = np.repeat(np.arange(len(key)), counts)
    second = first + 1 + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    clash = start[second] < end[first] + np.maximum(journey[first], journey[second])
    a, b = request[first[clash]], request[second[clash]]
    # Sorted as the ids are sorted (as strings), each pair once.
    by_name = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    low, high = np.minimum(rank[a], rank[b]), np.maximum(rank[a], rank[b])
    keys = low * len(names) + high
    # As 32-bit numbers where they fit (a city week: 20,036² < 2³²), which sort in ~60% of the time.
    keys = np.sort(keys.astype(np.uint32) if len(names) ** 2 <= 1 << 32 else keys).astype(np.int64)
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return by_name[keys // len(names)], by_name[keys % len(names)]


def _microsecond_windows(requests: Sequence[RequestFacts]) -> tuple[np.ndarray, np.ndarray] | None:
    """Starts and ends as microseconds since 1970, where those compare as the datetimes do: when every
    one has a fixed UTC offset (as read from the database). None otherwise."""
    moments = [m for r in requests for m in (r.start, r.end)]
    if not all(isinstance(m.tzinfo, timezone) for m in moments):
        return None
    micro = np.array([(m - _EPOCH) // _MICROSECOND for m in moments], dtype=np.int64)
    return micro[0::2], micro[1::2]


def _clashes_by_datetime(
    requests: Sequence[RequestFacts], names: list[str], volunteer_id: np.ndarray, request_at: np.ndarray, km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``_clashes`` with the datetimes themselves (times in a zone with summer time compare by wall clock)."""
    options: dict[int, list[tuple[int, float]]] = {}
    for v, r, d in zip(volunteer_id.tolist(), request_at.tolist(), km.tolist(), strict=True):
        options.setdefault(v, []).append((r, d))
    clashes = set()
    for own in options.values():
        ordered = sorted(own, key=lambda o: requests[o[0]].start)
        for i, (a, km_a) in enumerate(ordered):
            for b, km_b in ordered[i + 1 :]:
                if requests[b].start < requests[a].end + timedelta(minutes=travel_minutes(max(km_a, km_b))):
                    clashes.add((a, b) if names[a] < names[b] else (b, a))
    ordered = np.array(sorted(clashes, key=lambda pair: (names[pair[0]], names[pair[1]])), dtype=np.int64)
    return ordered.reshape(-1, 2)[:, 0], ordered.reshape(-1, 2)[:, 1]


def proposals(plan) -> list[tuple[int, int]]:
    """(request id, volunteer id) for every assignment in a solver plan."""
    return [(int(a.request[1:]), int(a.volunteer[1:])) for a in plan.assignments]
