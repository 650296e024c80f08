"""The baseline, how a sign-up sheet fills (first come, first served), and a better quick plan.

Requests are taken in priority order (urgent first), then by start time; each takes the nearest
eligible volunteer who is still free (enough of their weekly hours left and no overlapping
deployment), until it has the people it needs. A team that must be complete (all-or-nothing) is
staffed only if enough free people are found at once. Equal distances go to a fixed pseudo-random
order (see `eligibility._shuffle`), like whoever happened to sign first.

`warm_start` is the same kind of plan with two changes a coordinator would make by hand: within a
priority the scarcest requests (fewest candidates per place) go first, and each takes its
best-scoring free volunteers rather than the nearest. The solver starts from the better of the
two plans (see bench/matching.py).
"""

from __future__ import annotations

import numpy as np

from bench.eligibility import Candidates
from bench.generator import Week


def greedy_plan(week: Week, candidates: Candidates) -> np.ndarray:
    """Indices into `candidates` of the pairs the sign-up sheet ends with (sorted)."""
    order = np.lexsort((np.arange(week.num_requests), week.start, -week.level.astype(np.int64)))
    return _fill(week, candidates, order, np.arange(len(candidates)))  # candidates come nearest first


def warm_start(
    week: Week, candidates: Candidates, *, keep: np.ndarray | None = None, score: np.ndarray | None = None
) -> np.ndarray:
    """Indices into `candidates` of a quick plan: urgent first, scarcest first, best score first.

    `keep` (a valid plan) is kept and only the places it leaves open are filled: a calm re-plan
    starts that way from what is left of the previous plan. `score` overrides the pairs' scores.
    """
    score = candidates.score if score is None else score
    per_place = np.bincount(candidates.request, minlength=week.num_requests) / week.needed
    order = np.lexsort((np.arange(week.num_requests), per_place, -week.level.astype(np.int64)))
    by_score = np.lexsort((np.arange(len(candidates)), -score, candidates.request))
    return _fill(week, candidates, order, by_score, keep=keep)


def _fill(
    week: Week, candidates: Candidates, requests: np.ndarray, pairs: np.ndarray, *, keep: np.ndarray | None = None
) -> np.ndarray:
    """Requests in the given order take the free candidates in the given order (`pairs` lists
    candidate indices grouped by request, as `candidates` is), after the pairs in `keep`."""
    room = week.cap_minutes.astype(np.int64).tolist()
    busy: list[list[tuple[int, int]]] = [[] for _ in range(week.num_volunteers)]
    kept = [] if keep is None else keep.tolist()
    filled = [0] * week.num_requests
    for p in kept:
        v, r = int(candidates.volunteer[p]), int(candidates.request[p])
        room[v] -= int(candidates.load[p])
        busy[v].append((int(week.start[r]), int(week.end[r])))
        filled[r] += 1
    bounds = np.searchsorted(candidates.request[pairs], np.arange(week.num_requests + 1)).tolist()
    pairs_list = pairs.tolist()
    volunteer, load = candidates.volunteer.tolist(), candidates.load.tolist()
    start, end = week.start.tolist(), week.end.tolist()
    needed, strict = week.needed.tolist(), week.all_or_nothing.tolist()
    chosen: list[int] = list(kept)
    taken = set(kept)
    for r in requests.tolist():
        s, e = start[r], end[r]
        open_places = needed[r] - filled[r]
        if open_places <= 0 or (strict[r] and filled[r]):
            continue
        team: list[int] = []
        for p in pairs_list[bounds[r] : bounds[r + 1]]:
            v = volunteer[p]
            if p not in taken and load[p] <= room[v] and all(e <= bs or be <= s for bs, be in busy[v]):
                team.append(p)
                if len(team) == open_places:
                    break
        if strict[r] and needed[r] > 1 and len(team) < needed[r]:
            continue
        for p in team:
            v = volunteer[p]
            room[v] -= load[p]
            busy[v].append((s, e))
        chosen += team
    return np.array(sorted(chosen), dtype=np.int64)
