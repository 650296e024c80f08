"""Huge components (a whole city in one): improve a good plan part by part, bound it by a flow.

Pure module. A city week is one connected component of hundreds of thousands of pairs: every
volunteer links a few nearby requests, and the links chain across London. One CP-SAT model of that
spends longer than a run has on its presolve alone and finds nothing better than its starting plan,
so such a component is solved as a large neighbourhood search:

1. **Start** from a greedy plan (urgent first, scarcest first, the volunteers least needed elsewhere
   first: ``heuristics.greedy``), or from the caller's hint (e.g. the plan already proposed, or a quick
   heuristic's) with its free places filled the same way, when that is at least as good.
2. **Parts.** The component is split into parts of about `part_pairs` pairs, grown breadth-first
   over requests that share volunteers (compact, like neighbourhoods). Each part is re-solved by
   CP-SAT for coverage (its share of the budget; usually proven) with everything outside it
   fixed: its volunteers keep only the capacity and the times the rest of the plan leaves them.
   The part's current plan is the hint, so the plan never gets worse. Two parts far apart are
   solved at the same time (in two forked worker processes for a city: ``_PartPool``); a volunteer
   in both is moved only by the first (see ``lanes``).
3. **Fill** the places still free by short moves over the whole plan (`heuristics.augment`: a candidate
   takes a place once one of their own is handed on to someone free, or given up for a more valuable
   one): the parts, each solved with everything around it fixed, cannot make moves across a border.
   Steps 2 and 3 run three times (``PASSES``): then over smaller parts grown from the requests in
   shuffled orders, whose borders cross the first parts' (``_splits``), with the rest of the budget.
4. **Polish** the score with the local search of `heuristics.improve`.

The bound comes from a relaxation solved by flows (matching/solver/relaxation.py): true, but looser than
CP-SAT's. It is computed meanwhile in a forked process at the lowest priority (the same
numbers; in place where no process can be forked). The plan is valid and never claimed optimal.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import numpy as np

from matching.solver.components import Component, ComponentArrays, Outcome, value
from matching.solver.cpsat import Budget, solve_cpsat
from matching.solver.forked import Beside
from matching.solver.heuristics import augment, better, greedy, improve
from matching.solver.relaxation import relaxation_bounds

log = logging.getLogger(__name__)

# The local search over a whole huge component does this many checks per pair at most. The parts do
# no local search of their own: one search over the whole plan after them scores better in the same
# time (its moves cross the parts' borders).
HUGE_IMPROVE_WORK = 4
# Passes of parts, each followed by `augment`: the first over parts grown in request order with 0.6 of
# the deterministic budget, then two over parts 0.4 the size, each grown from the requests in an order
# shuffled anew, with 0.2 each. A later pass's borders cross the earlier ones', so it makes the moves no
# part of those could (a part keeps everything outside it fixed), and small parts are cheap to prove.
# The first pass does most of the work, so it has most of the budget; what a later pass gains comes
# from its new borders rather than from more time, so small parts and small shares are enough. Other
# sizes and shares gave the same coverage within the noise (see bench/RESULTS.md).
# Each pass: (its parts' size, as a share of `part_pairs`; its share of the deterministic budget; grown
# from the requests in a shuffled order).
PASSES = ((1.0, 0.6, False), (0.4, 0.2, True), (0.4, 0.2, True))
# A part's wall backstop, so that deterministic time binds first: seconds per unit of its deterministic
# budget, well above the wall time a unit of search takes on the 2-core hosts (DETERMINISTIC_PER_SECOND
# in matching/solver/plan.py), plus seconds per pair of its model for the work deterministic time barely
# counts (building the model and CP-SAT's presolve), which grows with the model, not with its budget.
# A small part's budget is a tiny fraction of a unit, so without the per-pair term the clock, not its
# budget, would stop some parts on a loaded machine, a different one each run, and the same week would
# give different plans.
PART_WALL_PER_DETERMINISTIC = 6.0
PART_WALL_PER_PAIR = 1e-3
# From this many pairs, the parts are solved in forked worker processes rather than threads, and the split
# is made in a forked process while the greedy start is built. A part's model is built in Python, which
# holds the GIL, so two threads use well under the 2 cores, while two processes use the whole machine:
# the same parts with the same budgets, so the same plan, sooner (see
# docs/decisions/0007-process-pool-for-city-parts.md). Smaller components are not worth the forks.
PROCESS_PAIRS = 50_000
# Seconds beyond a round's longest wall budget to wait for a worker process before solving the round here.
PROCESS_GRACE = 30.0


def split(component: Component, part_pairs: int, seeds: Iterable[int] | None = None) -> list[np.ndarray]:
    """Requests grouped into parts of about `part_pairs` pairs, each grown breadth-first from the
    first request of `seeds` (default: in index order) not yet placed, through volunteers the requests
    share. Parts much smaller than asked (pockets left between others) join the neighbouring part they
    share most volunteers with. Returns sorted pair indices per part. Deterministic."""
    num_r = len(component.request_ids)
    pairs_of_request: list[list[int]] = [[] for _ in range(num_r)]
    requests_of_volunteer: list[list[int]] = [[] for _ in component.volunteer_ids]
    for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True)):
        pairs_of_request[r].append(p)
        requests_of_volunteer[v].append(r)
    part = [-1] * num_r
    sizes: list[int] = []
    # The part whose growth last looked at each volunteer's requests: once is enough per part (a city
    # volunteer is reached through each of their requests, and rescanning them all cost seconds).
    scanned = [-1] * len(component.volunteer_ids)
    for seed in range(num_r) if seeds is None else seeds:
        if part[seed] >= 0:
            continue
        label, size = len(sizes), 0
        queue = deque([seed])
        part[seed] = label
        while queue and size < part_pairs:
            r = queue.popleft()
            size += len(pairs_of_request[r])
            for p in pairs_of_request[r]:
                v = component.pair_volunteer[p]
                if scanned[v] == label:
                    continue
                scanned[v] = label
                for other in requests_of_volunteer[v]:
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


def lanes(num_parts: int, threads: int) -> list[list[int]]:
    """The parts in `threads` lanes of consecutive parts in the split's order: lane j starts at part
    j · step (step = ⌈parts ÷ threads⌉). ``_pass`` takes each round's parts from the lanes' heads, so the
    parts of a round lie far apart and share few volunteers. Parts of one round that do share volunteers
    are kept apart in ``_pass``: only the round's first part holding a volunteer may move them.

    Why not only parts that share no volunteer: in a city week almost every part shares someone
    with almost every other (remote triage reaches volunteers across the city), so a colouring
    leaves nearly one group per part and the second worker idle."""
    step = max(-(-num_parts // max(threads, 1)), 1)
    return [list(range(start, min(start + step, num_parts))) for start in range(0, num_parts, step)]


def solve_huge(
    component: Component, budget: Budget, *, part_pairs: int, hint: list[int] | None = None
) -> tuple[Outcome, dict[str, int]]:
    """Solve a component too big for one CP-SAT model (see the module docstring).

    Each part's deterministic budget is fixed in advance, in proportion to its pairs, and parts
    solved at the same time start from the same plan and never move the same volunteer, so the plan
    does not depend on which thread finishes first (one CP-SAT worker per thread, `budget.workers`
    threads; CP-SAT releases the GIL while it searches).
    """
    started = time.perf_counter()
    # The bound is a pure function of the component, computed in a process of its own at the lowest
    # priority: it takes the core that the greedy plan, the split and the local search leave idle
    # (all single-threaded), and yields to the parts' searches. In a thread of its own it starved
    # them (it holds the GIL); computed after them, the run would wait for it.
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
    """Steps 1–4 of the module docstring: (plan, deterministic time, wall limit hit, counts of parts: in
    all, improved, skipped as already full, stopped by the clock)."""
    arrays = ComponentArrays(component)
    forking = component.num_pairs >= PROCESS_PAIRS
    # The splits do not depend on the plan: made beside the greedy start (both single-threaded Python).
    splits = partial(_splits, component, part_pairs, budget.seed)
    parts_beside = Beside(splits, timeout=BOUNDS_PROCESS_TIMEOUT) if forking else None
    # The greedy plan, or the caller's hint (the plan already proposed, or a quick heuristic's) with its
    # free places filled greedily, whichever is better; the hint's on a tie, so a re-plan keeps what it can.
    try:
        current = greedy(component)
        if hint:
            current = better(component, greedy(component, keep=sorted(hint)), current)
    except BaseException:
        if parts_beside is not None:
            parts_beside.cancel()
        raise
    on = np.zeros(component.num_pairs, dtype=bool)
    on[current] = True
    threads = max(1, min(budget.workers, 2))
    counts = {"parts": 0, "parts_improved": 0, "parts_full": 0, "parts_stopped_by_clock": 0}
    passes = parts_beside.result() if parts_beside is not None else splits()
    deterministic, wall_hit = 0.0, False
    with _PartPool(threads, processes=forking and threads > 1) as pool:
        for position, (parts, (_, share, _)) in enumerate(zip(passes, PASSES, strict=True)):
            later_pairs = sum(len(pairs) for later in passes[position + 1 :] for pairs in later)
            share_budget = Budget(budget.deterministic * share, budget.wall, budget.workers, budget.seed)
            used, hit = _pass(arrays, on, parts, share_budget, pool, threads, started, counts, later_pairs)
            deterministic, wall_hit = deterministic + used, wall_hit or hit
            # Each part was solved with everything around it fixed: a place whose candidates are busy just
            # across a border, or were freed by a later part, is still empty. Short moves over the whole
            # plan fill them: after the first pass this adds more coverage than that pass's parts did, in
            # less time.
            filled = augment(component, np.flatnonzero(on).tolist())
            on[:] = False
            on[filled] = True
    chosen = improve(component, np.flatnonzero(on).tolist(), work=HUGE_IMPROVE_WORK)
    return chosen, deterministic, wall_hit, counts


def _pass(
    arrays: ComponentArrays,
    on: np.ndarray,
    parts: list[np.ndarray],
    budget: Budget,
    pool: _PartPool,
    threads: int,
    started: float,
    counts: dict[str, int],
    later_pairs: int = 0,
) -> tuple[float, bool]:
    """Re-solve each part with the rest of the plan `on` fixed, updating `on` (step 2 of the module
    docstring) and `counts`; returns the deterministic time used and whether the clock stopped a part.
    `later_pairs` are the pairs of passes still to come, which share the wall clock left."""
    n = len(arrays.pv)
    counts["parts"] += len(parts)
    # Numbers of up to 16 bits: numpy sorts them stably by radix, much faster than 64-bit ones on a city.
    part_of = np.empty(n, dtype=np.int16 if len(parts) < 2**15 else np.int64)
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
    deterministic, wall_hit = 0.0, False
    # One array of each for the pass, not one per part (a city's flags, one per pair, made afresh each
    # time cost more than a small part's own work): a part only sets and reads the flags of its own pairs,
    # and a pass's parts share no pair.
    blocked = np.zeros(n, dtype=bool)
    fixed = np.ones(n, dtype=bool)

    def prepare(
        k: int, used: np.ndarray, held: np.ndarray, wall_left: float, pairs_left: int
    ) -> tuple[np.ndarray, Component, list[int], Budget] | None:
        """Part k's model with the plan around it fixed, or None when it has nothing to gain."""
        pairs = parts[k]
        # The pairs of volunteers `held` by a part earlier in the round stay as the plan has them. The
        # places they fill are taken: a request keeps the rest of its places, and a team with a fixed
        # member, or a request they fill, stays as it is.
        mine = ~held[arrays.pv[pairs]]
        fixed_on = pairs[~mine & on[pairs]]
        needed = arrays.needed.copy()
        if len(fixed_on):
            np.subtract.at(needed, arrays.pr[fixed_on], 1)
            settled = (needed < arrays.needed) & (arrays.strict | (needed <= 0))
            mine &= ~settled[arrays.pr[pairs]]
        free = pairs[mine]
        inside_on = free[on[free]]
        inside_used = np.bincount(arrays.pv[inside_on], weights=arrays.load[inside_on], minlength=len(arrays.capacity))
        room = (arrays.capacity - np.rint(used - inside_used)).astype(np.int64)
        inner, outer = crossing[k]
        blocked[inner[on[outer]]] = True
        if len(free) < len(pairs) and inside[k] is not None:
            # Pairs of the part left as they are count as outside for its clashes too.
            fixed[free] = False
            first, second = arrays.clashes[inside[k], 0], arrays.clashes[inside[k], 1]
            blocked[first[fixed[second] & on[second]]] = True
            blocked[second[fixed[first] & on[first]]] = True
        keep = free[(arrays.load[free] <= room[arrays.pv[free]]) & ~blocked[free]]
        if not len(keep):
            return None
        # A part whose requests already have every place they could have (as many as they need,
        # or as many candidates as are left to them) cannot gain coverage: not worth a model.
        # Its score is still polished by the local search at the end.
        requests, candidates = np.unique(arrays.pr[keep], return_counts=True)
        ceiling = int((np.minimum(candidates, needed[requests]) * arrays.priority[requests]).sum())
        if int(arrays.priority[arrays.pr[keep[on[keep]]]].sum()) >= ceiling:
            counts["parts_full"] += 1
            return None
        held[arrays.pv[pairs]] = True
        local_hint = np.flatnonzero(on[keep]).tolist()
        part_deterministic = budget.deterministic * len(pairs) / n
        part_budget = Budget(
            deterministic=part_deterministic,
            # The wall clock stays a backstop for a loaded machine, never the usual stop: the
            # greedy plan and the split before the parts use most of the run's time limit, and a
            # part stopped by the clock makes the plan differ between runs of the same week.
            wall=max(
                wall_left * len(pairs) / pairs_left * threads,
                part_deterministic * PART_WALL_PER_DETERMINISTIC + len(keep) * PART_WALL_PER_PAIR,
            ),
            workers=1,
            seed=budget.seed,
        )
        sub = arrays.sub(keep, capacity=room, needed=needed, clash_rows=inside[k])
        return keep, sub, local_hint, part_budget

    # Each round takes from each lane (``lanes``) its next part that needs a model, and a lane run dry
    # takes from the far end of the longest, so that no worker waits while parts are left (otherwise a
    # round whose other part is already full leaves a worker idle). Which parts share a round
    # depends on the plan only, never on the clock: the plan is the same.
    queues = [deque(lane) for lane in lanes(len(parts), threads)]
    # Each volunteer's load in the plan, kept up to date as parts change it.
    used = np.bincount(arrays.pv[on], weights=arrays.load[on], minlength=len(arrays.capacity))
    while any(queues):
        wall_left = max(budget.wall - (time.perf_counter() - started), 0.0)
        pairs_left = later_pairs + sum(len(parts[k]) for queue in queues for k in queue)
        # A volunteer in two parts of this round is moved only by the first: in the others their
        # pairs stay as the plan has them, outside the model, like pairs of parts not in the round.
        # The parts' plans then fit together whatever each finds.
        held = np.zeros(len(arrays.capacity), dtype=bool)
        jobs = []
        for own in queues:
            while True:
                queue = own if own else max(queues, key=len)
                if not queue:
                    break
                found = prepare(queue.popleft() if queue is own else queue.pop(), used, held, wall_left, pairs_left)
                if found is not None:
                    jobs.append(found)
                    break
        outcomes = pool.solve([(sub, hint, part_budget) for _, sub, hint, part_budget in jobs])
        for (keep, sub, local_hint, _), outcome in zip(jobs, outcomes, strict=True):
            deterministic += outcome.deterministic_time
            wall_hit = wall_hit or outcome.wall_limit_hit
            counts["parts_stopped_by_clock"] += outcome.wall_limit_hit
            if value(sub, outcome.chosen) > value(sub, local_hint):
                before = keep[on[keep]]
                on[keep] = False  # every pair of the part in the plan is in keep (it fits, as it is)
                after = keep[np.array(outcome.chosen, dtype=np.int64)]
                on[after] = True
                np.subtract.at(used, arrays.pv[before], arrays.load[before])
                np.add.at(used, arrays.pv[after], arrays.load[after])
                counts["parts_improved"] += 1
    return deterministic, wall_hit


def _splits(component: Component, part_pairs: int, seed: int) -> list[list[np.ndarray]]:
    """The parts of each pass of PASSES: grown from the requests in index order, or in an order shuffled
    anew for each pass from `seed` (deterministic), so that a later pass's borders cross the earlier ones'."""
    shuffle = np.random.default_rng(seed)
    return [
        split(
            component,
            max(1, round(part_pairs * size)),
            shuffle.permutation(len(component.request_ids)).tolist() if shuffled else None,
        )
        for size, _, shuffled in PASSES
    ]


def _solve_part(job: tuple[Component, list[int], Budget]) -> Outcome:
    """A part for coverage, from the plan around it (its hint): no greedy plans of its own."""
    sub, local_hint, part_budget = job
    return solve_cpsat(sub, part_budget, score_phase=False, hint=local_hint, quick_starts=False)


class _PartPool:
    """Solves a round's parts at the same time: in forked worker processes (``processes``), or in threads
    (CP-SAT releases the GIL while it searches, but not while its model is built). The workers are forked
    once, after the greedy start, so they share the component copy-on-write; each part goes to them as
    its own small component. Where no process can be forked, or one fails or hangs (a child forked from a
    threaded process, the Huey worker, can rarely inherit a lock another thread held), that round and the
    rest are solved in threads instead: the same parts with the same budgets, so the same plan."""

    def __init__(self, threads: int, *, processes: bool) -> None:
        self.processes: ProcessPoolExecutor | None = None
        if processes and "fork" in multiprocessing.get_all_start_methods():
            self.processes = ProcessPoolExecutor(threads, mp_context=multiprocessing.get_context("fork"))
        self.pool: Executor = ThreadPoolExecutor(max_workers=threads)

    def solve(self, jobs: list[tuple[Component, list[int], Budget]]) -> list[Outcome]:
        if self.processes is not None and jobs:
            wait = max(job[2].wall for job in jobs) + PROCESS_GRACE
            try:
                return list(self.processes.map(_solve_part, jobs, timeout=wait))
            except Exception:  # noqa: BLE001 - a dead, hung or refused worker; a part's own error recurs below
                log.warning("solving parts in worker processes failed; in threads instead", exc_info=True)
                self._stop_processes()
        return list(self.pool.map(_solve_part, jobs))

    def _stop_processes(self) -> None:
        if self.processes is None:
            return
        # A hung worker never ends by itself: shutdown() cannot stop it, so it is killed. Python 3.11 has no
        # public way to reach the workers (3.14 adds terminate_workers()): the executor's own table is read.
        workers = list((getattr(self.processes, "_processes", None) or {}).values())
        self.processes.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.kill()
        self.processes = None

    def __enter__(self) -> _PartPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.processes is not None:
            if exc[0] is None:
                self.processes.shutdown()
            else:
                self._stop_processes()
        self.pool.shutdown()


# Seconds to wait for the bound's process before computing the bound here instead.
BOUNDS_PROCESS_TIMEOUT = 120.0


def bounds_beside(component: Component) -> Beside[tuple[int, int]]:
    """``relaxation_bounds(component)`` in a forked process at the lowest priority (see solve_huge)."""
    return Beside(partial(relaxation_bounds, component), timeout=BOUNDS_PROCESS_TIMEOUT, nice=19)
