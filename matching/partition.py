"""Huge components (a whole city in one): improve a good plan part by part, bound it by a flow.

Pure module. A city week is one connected component of ~300k pairs: every volunteer links a few
nearby requests, and the links chain across London. CP-SAT cannot even load that in the time a
sergeant waits (measured: no solution after 200 s), so such a component is solved as a large
neighbourhood search:

1. **Start** from a greedy plan (urgent first, scarcest first, the volunteers least needed elsewhere
   first: ``cpsat.greedy``), or from the caller's hint (e.g. the plan already proposed, or a quick
   heuristic's) with its free places filled the same way, when that is at least as good.
2. **Parts.** The component is split into parts of about `part_pairs` pairs, grown breadth-first
   over requests that share volunteers (compact, like neighbourhoods). Each part is re-solved by
   CP-SAT for coverage (its share of the budget; usually proven) with everything outside it
   fixed: its volunteers keep only the capacity and the times the rest of the plan leaves them.
   The part's current plan is the hint, so the plan never gets worse. Parts that share no
   volunteer are solved at the same time.
3. **Polish** the score with the local search of `cpsat.improve`.

The bound comes from a relaxation solved by min-cost flow (matching/relaxation.py): true, but
looser than CP-SAT's. It is computed meanwhile in a forked process at the lowest priority (the same
numbers; in place where no process can be forked). The plan is valid and never claimed optimal.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from matching.components import Component, ComponentArrays, Outcome, value
from matching.cpsat import Budget, better, greedy, improve, solve_cpsat
from matching.forked import Beside
from matching.relaxation import relaxation_bounds

# The local search over a whole huge component does this many checks per pair at most.
HUGE_IMPROVE_WORK = 3
# A part's wall backstop, so that deterministic time binds first: seconds per unit of its deterministic
# budget, well above the ~0.7–2 s a unit of search takes on the 2-core machine (matching/solver.py), plus
# seconds per pair of its model for the work deterministic time barely counts (building the model and
# CP-SAT's presolve), which grows with the model, not with its budget. Measured on London's week, loaded:
# a part took up to 0.55 s (2,389 pairs, 0.019 units), where 6 s per unit alone allowed 0.22 s and the
# clock stopped one part in four to one in ten, a different one on each run: the plans differed.
PART_WALL_PER_DETERMINISTIC = 6.0
PART_WALL_PER_PAIR = 1e-3


def split(component: Component, part_pairs: int) -> list[np.ndarray]:
    """Requests grouped into parts of about `part_pairs` pairs, each grown breadth-first from the
    lowest-numbered request not yet placed, through volunteers the requests share. Parts much
    smaller than asked (pockets left between others) join the neighbouring part they share most
    volunteers with. Returns sorted pair indices per part. Deterministic."""
    num_r = len(component.request_ids)
    pairs_of_request: list[list[int]] = [[] for _ in range(num_r)]
    requests_of_volunteer: list[list[int]] = [[] for _ in component.volunteer_ids]
    for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True)):
        pairs_of_request[r].append(p)
        requests_of_volunteer[v].append(r)
    part = [-1] * num_r
    sizes: list[int] = []
    for seed in range(num_r):
        if part[seed] >= 0:
            continue
        label, size = len(sizes), 0
        queue = deque([seed])
        part[seed] = label
        while queue and size < part_pairs:
            r = queue.popleft()
            size += len(pairs_of_request[r])
            for p in pairs_of_request[r]:
                for other in requests_of_volunteer[component.pair_volunteer[p]]:
                    if part[other] < 0:
                        part[other] = label
                        queue.append(other)
        for r in queue:  # reached but not expanded: left for a later part
            part[r] = -1
        sizes.append(size)
    # Fold small parts into the neighbour they share most volunteers with (largest label on a tie).
    members: list[list[int]] = [[] for _ in sizes]  # the requests of each part, kept up to date
    for r, label in enumerate(part):
        members[label].append(r)
    for label in sorted(range(len(sizes)), key=lambda k: (sizes[k], k)):
        if sizes[label] >= part_pairs // 4 or len(sizes) == 1:
            continue
        shared: dict[int, int] = {}
        for r in members[label]:
            for p in pairs_of_request[r]:
                for other in requests_of_volunteer[component.pair_volunteer[p]]:
                    if part[other] != label:
                        shared[part[other]] = shared.get(part[other], 0) + 1
        if not shared:
            continue  # an island of its own: stays a (small) part
        target = max(shared, key=lambda k: (shared[k], k))
        for r in members[label]:
            part[r] = target
        members[target] += members[label]
        members[label] = []
        sizes[target] += sizes[label]
        sizes[label] = 0
    labels = np.array([part[r] for r in component.pair_request], dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(sizes) + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(len(sizes)) if bounds[k + 1] > bounds[k]]


def colour(parts: list[np.ndarray], arrays: ComponentArrays) -> list[list[int]]:
    """Groups of parts that share no volunteer (greedy colouring in part order): the parts of one
    group can be solved at the same time, each group after the ones before it."""
    owner: dict[int, set[int]] = {}
    volunteers = [np.unique(arrays.pv[pairs]).tolist() for pairs in parts]
    for k, vs in enumerate(volunteers):
        for v in vs:
            owner.setdefault(v, set()).add(k)
    colour_of: list[int] = []
    for k, vs in enumerate(volunteers):
        taken = {colour_of[other] for v in vs for other in owner[v] if other < k}
        colour_of.append(next(c for c in range(len(parts) + 1) if c not in taken))
    groups: list[list[int]] = [[] for _ in range(max(colour_of, default=-1) + 1)]
    for k, c in enumerate(colour_of):
        groups[c].append(k)
    return groups


def solve_huge(
    component: Component, budget: Budget, *, part_pairs: int, hint: list[int] | None = None
) -> tuple[Outcome, dict[str, int]]:
    """Solve a component too big for one CP-SAT model (see the module docstring).

    Each part's deterministic budget is fixed in advance, in proportion to its pairs, and parts
    solved at the same time share no volunteer, so the plan does not depend on which thread
    finishes first (one CP-SAT worker per thread, `budget.workers` threads; CP-SAT releases the
    GIL while it searches).
    """
    started = time.perf_counter()
    # The bound is a pure function of the component, computed in a process of its own at the lowest
    # priority: it takes the core that the greedy plan, the split and the local search leave idle
    # (all single-threaded), and yields to the parts' searches. In a thread of its own it starved
    # them (it holds the GIL); computed after them, it added ~12 s to a city week.
    bounds = bounds_beside(component)
    try:
        chosen, deterministic, wall_hit, counts = _improve(component, budget, part_pairs, hint, started)
    except BaseException:
        bounds.cancel()
        raise
    coverage, score = value(component, chosen)
    bound_coverage, bound_score = bounds.result()
    outcome = Outcome(
        chosen, max(bound_coverage, coverage), max(bound_score, score), False, round(deterministic, 6), wall_hit
    )
    return outcome, counts


def _improve(
    component: Component, budget: Budget, part_pairs: int, hint: list[int] | None, started: float
) -> tuple[list[int], float, bool, dict[str, int]]:
    """Steps 1–3 of the module docstring: (plan, deterministic time, wall limit hit, counts of parts: in
    all, improved, skipped as already full, stopped by the clock)."""
    arrays = ComponentArrays(component)
    n = component.num_pairs
    # The greedy plan, or the caller's hint (the plan already proposed, or a quick heuristic's) with its
    # free places filled greedily, whichever is better; the hint's on a tie, so a re-plan keeps what it can.
    current = greedy(component)
    if hint:
        current = better(component, greedy(component, keep=sorted(hint)), current)
    on = np.zeros(n, dtype=bool)
    on[current] = True
    parts = split(component, part_pairs)
    groups = colour(parts, arrays)
    part_of = np.empty(n, dtype=np.int64)
    for k, pairs in enumerate(parts):
        part_of[pairs] = k
    # Clashes that cross a part's border: (pair inside, partner outside), per part.
    crossing: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0, np.int64))] * len(parts)
    # Clashes inside each part (rows of arrays.clashes): a part's sub-problem looks at those only.
    inside: list[np.ndarray | None] = [None] * len(parts)
    if len(arrays.clashes):
        a, b = arrays.clashes[:, 0], arrays.clashes[:, 1]
        cross = part_of[a] != part_of[b]
        rows = np.flatnonzero(~cross)
        rows = rows[np.argsort(part_of[a[rows]], kind="stable")]
        edges = np.searchsorted(part_of[a[rows]], np.arange(len(parts) + 1))
        inside = [rows[edges[k] : edges[k + 1]] for k in range(len(parts))]
        inner = np.concatenate([a[cross], b[cross]])
        outer = np.concatenate([b[cross], a[cross]])
        order = np.argsort(part_of[inner], kind="stable")
        inner, outer = inner[order], outer[order]
        edges = np.searchsorted(part_of[inner], np.arange(len(parts) + 1))
        crossing = [(inner[edges[k] : edges[k + 1]], outer[edges[k] : edges[k + 1]]) for k in range(len(parts))]
    deterministic, wall_hit, improved_parts, full_parts, clock_stops = 0.0, False, 0, 0, 0
    threads = max(1, min(budget.workers, 2))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for position, group in enumerate(groups):
            used = np.bincount(arrays.pv[on], weights=arrays.load[on], minlength=len(arrays.capacity))
            wall_left = max(budget.wall - (time.perf_counter() - started), 0.0)
            pairs_left = sum(len(parts[k]) for later in groups[position:] for k in later)
            jobs = []
            for k in group:
                pairs = parts[k]
                inside_on = pairs[on[pairs]]
                inside_used = np.bincount(
                    arrays.pv[inside_on], weights=arrays.load[inside_on], minlength=len(arrays.capacity)
                )
                room = (arrays.capacity - np.rint(used - inside_used)).astype(np.int64)
                inner, outer = crossing[k]
                blocked = np.zeros(n, dtype=bool)
                blocked[inner[on[outer]]] = True
                keep = pairs[(arrays.load[pairs] <= room[arrays.pv[pairs]]) & ~blocked[pairs]]
                if not len(keep):
                    continue
                # A part whose requests already have every place they could have (as many as they need,
                # or as many candidates as are left to them) cannot gain coverage: not worth a model.
                # Its score is still polished by the local search at the end.
                requests, candidates = np.unique(arrays.pr[keep], return_counts=True)
                ceiling = int((np.minimum(candidates, arrays.needed[requests]) * arrays.priority[requests]).sum())
                if int(arrays.priority[arrays.pr[keep[on[keep]]]].sum()) >= ceiling:
                    full_parts += 1
                    continue
                local_hint = np.flatnonzero(on[keep]).tolist()
                part_deterministic = budget.deterministic * len(pairs) / n
                part_budget = Budget(
                    deterministic=part_deterministic,
                    # The wall clock stays a backstop for a loaded machine, never the usual stop: the
                    # greedy plan and the split before the parts use most of the run's time limit, and a
                    # part stopped by the clock makes the plan differ between runs of the same week.
                    wall=max(wall_left * len(pairs) / pairs_left * threads,
                             part_deterministic * PART_WALL_PER_DETERMINISTIC + len(keep) * PART_WALL_PER_PAIR),
                    workers=1,
                    seed=budget.seed,
                )
                sub = arrays.sub(keep, capacity=room, clash_rows=inside[k])
                jobs.append((pairs, keep, sub, local_hint, part_budget))
            outcomes = list(pool.map(_solve_part, jobs))
            for (pairs, keep, sub, local_hint, _), outcome in zip(jobs, outcomes, strict=True):
                deterministic += outcome.deterministic_time
                wall_hit = wall_hit or outcome.wall_limit_hit
                clock_stops += outcome.wall_limit_hit
                if value(sub, outcome.chosen) > value(sub, local_hint):
                    on[pairs] = False
                    on[keep[np.array(outcome.chosen, dtype=np.int64)]] = True
                    improved_parts += 1
    chosen = improve(component, np.flatnonzero(on).tolist(), work=HUGE_IMPROVE_WORK)
    counts = {"parts": len(parts), "parts_improved": improved_parts, "parts_full": full_parts,
              "parts_stopped_by_clock": clock_stops}
    return chosen, deterministic, wall_hit, counts


def _solve_part(job: tuple) -> Outcome:
    """A part for coverage, from the plan around it (its hint): no greedy plans of its own."""
    _, _, sub, local_hint, part_budget = job
    return solve_cpsat(sub, part_budget, score_phase=False, hint=local_hint, quick_starts=False)


# Seconds to wait for the bound's process before computing the bound here instead.
BOUNDS_PROCESS_TIMEOUT = 120.0


def bounds_beside(component: Component) -> Beside[tuple[int, int]]:
    """``relaxation_bounds(component)`` in a forked process at the lowest priority (see solve_huge)."""
    return Beside(partial(relaxation_bounds, component), timeout=BOUNDS_PROCESS_TIMEOUT, nice=19)
