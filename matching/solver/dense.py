"""Dense components: few volunteers, each a candidate for most of many requests, each a knapsack.

Pure module. The London week is thousands of small, sparse components, and the two lexicographic
phases of ``cpsat.solve_cpsat`` prove them within deterministic budgets. A borough whose few
specialists could each take most of its many requests is the opposite shape: one component of a few
thousand pairs in which every volunteer is a knapsack. There phase 1 maximised coverage with no regard
for the hours a place costs, stopped at its deterministic budget without a proof, and the solver
returned after 2–10 s of a 25 s limit with plans up to 3.5% worse than a plain weighted CP-SAT model
given the whole time (issue #22; bench/RESULTS.md, "Session 10 — dense instances").

``solve_dense`` gives such a component its whole wall budget, until the optimum is proven:

1. **Quick plans**: the greedy plans, the caller's hint and short moves (``augment``), as the two phases
   start from.
2. **Coverage first**: the two phases' phase 1 exactly — the same hint, model, interleaved workers and
   deterministic share (``PHASE_ONE_SHARE`` of the component's) — capped at ``COVERAGE_SHARE`` of the
   wall budget, and stopped at once at a plan worth its bound (``_StopAtBound``). On few volunteers it
   finds more places than the weighted model (5x100-corr-tight: 358, proven, where the weighted one
   mostly stayed at 356–357), and its plan is among ours, so the dense path is not worse than the two
   phases were wherever the clock did not cut their phase 1 short. Then ``improve``.
3. Either, **a.** phase 1 proved its coverage: the two phases' phase 2 (the most score among the plans
   with that coverage, hinted, the rest of the deterministic budget) for ``SCORE_SHARE`` of the wall
   time left; or **b.** it did not: **one weighted model**, coverage × BIG + score, BIG = Σ |score| + 1
   (above the widest gap in score between two plans, so the weighted optimum is exactly the
   lexicographic one) — the model the reference (bench/dense/reference.py) solves, with the same
   CP-SAT portfolio and workers — plus "coverage ≥ the coverage found", which every better plan meets and
   which cuts the search, for ``MODEL_SHARE`` of the wall time left. Either gives the proven bound and
   stops at once if it proves the optimum. The weighted model is not hinted, and has the wide BIG: on
   these shapes a hint drew the search to the greedy plan's corner, and a tighter BIG let the score
   steer it; both found fewer places (measured in session 10, bench/RESULTS.md).
4. **Neighbourhoods** for the rest of the budget, from the best plan so far (a large neighbourhood
   search): free ``NEIGHBOURHOOD_VOLUNTEERS`` volunteers drawn at random (seeded by ``budget.seed``) —
   every place they hold, and their pairs to a sample of the other requests with room — keep everyone
   else's places fixed, and re-solve that small weighted model, hinted with the current plan, for at
   most ``NEIGHBOURHOOD_WALL`` seconds; keep the result only if it is better, so the plan never gets
   worse. Each small model trades hours between a few knapsacks at once, which the whole model's search
   does too slowly; the sample's size adapts to how fast they are proven.

Only the two phases' models use the deterministic budget (as their own cap, beside the wall one): an
unproven plan keeps improving until the time limit, so it may differ between runs (counted as a wall
limit hit); a proven one never does.
"""

from __future__ import annotations

import math
import random
import time

from ortools.sat.python import cp_model

from matching.solver.components import Component, Outcome, trivial_bounds, value
from matching.solver.cpsat import (
    LARGE_PAIRS,
    PHASE_ONE_SHARE,
    Budget,
    _add_rules,
    _checked,
    _chosen,
    _hint,
    _maximize,
    _rounded,
)
from matching.solver.cpsat import _solver as _cpsat_solver
from matching.solver.heuristics import augment, better, greedy, improve

# A component is dense with at least DENSE_PAIRS pairs and at least DENSE_SHARE of its volunteer ×
# request couples paired. The London week's components are small or sparse (a request's shortlist is
# 8 + 12 × places of thousands), so they keep the two phases and their reproducible deterministic
# budgets. Below DENSE_PAIRS the two phases prove the optimum at once.
DENSE_PAIRS = 400
DENSE_SHARE = 0.5

# Phase 1's cap, as a share of the wall budget. A compromise measured on the dense suite (bench/RESULTS.md,
# session 10): phase 1 finds its places in bursts (5x100-corr-tight: 333 at 1.8 s, 357 at 2.5 s, 358 = its
# bound at 3.4 s, under a load of 6.5), so the more it has the likelier it wins where it is strong (few
# volunteers); but on 20 volunteers it stays far below the weighted model, which then needs the time
# (0.35–0.4 left it enough on 20x200; the two phases' own 0.7 did not, session 9's table).
COVERAGE_SHARE = 0.5
# The share of the wall time left after phase 1 that the weighted model (phase 1 unproven) or the score
# phase (proven) gets; the neighbourhoods get the rest. The model's bound is the plan's proof, so it comes
# before them with most of the time; the neighbourhoods add places in the rest.
MODEL_SHARE = 0.75
SCORE_SHARE = 0.75
# Volunteers freed per neighbourhood, and the wall limit of each small model (seconds).
NEIGHBOURHOOD_VOLUNTEERS = 3
NEIGHBOURHOOD_WALL = 0.5
# Of the requests with room that the freed volunteers do not hold, how many a neighbourhood may give them.
# It adapts, as large neighbourhood searches do: a neighbourhood proven in time lets the next take
# OPEN_STEP more, one stopped by the clock the next OPEN_STEP fewer, between OPEN_FEWEST and OPEN_MOST.
OPEN_REQUESTS = 30
OPEN_STEP = 5
OPEN_FEWEST, OPEN_MOST = 10, 200
# The largest sum of |weight| over a model's pairs the weighted objective may reach: well inside
# CP-SAT's 64-bit integers, which it checks (MODEL_INVALID, "possible integer overflow", beyond).
WEIGHTED_LIMIT = 2**60


def is_dense(component: Component) -> bool:
    """Whether ``solve_dense`` should solve this component. Two multiplications first: the thousands of
    small components of a London week pay nothing for the question; only a dense one is summed."""
    pairs = component.num_pairs
    if pairs < DENSE_PAIRS or pairs < DENSE_SHARE * len(component.volunteer_ids) * len(component.request_ids):
        return False
    # The one weighted objective must fit CP-SAT's 64-bit arithmetic; with priorities and scores near
    # their limits it does not, and the two phases (each objective small) solve the component instead.
    big = sum(abs(s) for s in component.score) + 1
    return sum(component.priority[r] for r in component.pair_request) * big + big < WEIGHTED_LIMIT


def solve_dense(component: Component, budget: Budget, *, hint: list[int] | None = None) -> Outcome:
    """The best plan found in ``budget.wall`` seconds (see the module's docstring), and its bounds."""
    deadline = time.perf_counter() + budget.wall
    best = sorted(hint) if hint is not None else []
    best = better(component, better(component, greedy(component, best_scores_first=True), greedy(component)), best)
    best = better(component, best, augment(component, best))
    trivial_coverage, trivial_score = trivial_bounds(component)
    lowest = _lowest_score(component)
    # Any BIG above the widest gap in score between two plans is exact; this wide one (the reference's)
    # keeps the search on coverage. A tight one (Σ best positive − Σ worst negative) let the score steer
    # it and found fewer places in quick trials (bench/RESULTS.md, session 10).
    big = sum(abs(s) for s in component.score) + 1
    pair_priority = [component.priority[r] for r in component.pair_request]

    # 2. Coverage first, hinted with the quick plans, interleaved as the two phases run it.
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(component.num_pairs)]
    teams = _add_rules(model, component, x)
    _hint(model, x, teams, component, best)
    _maximize(model, x, pair_priority)
    # The old phase 1 exactly (its hint, its deterministic share), so that its plan is among ours: capped
    # at COVERAGE_SHARE of the wall budget, so the weighted model keeps the rest.
    large = component.num_pairs >= LARGE_PAIRS
    wall = max(deadline - time.perf_counter(), 0.0) * COVERAGE_SHARE
    first = _cpsat_solver(budget, budget.deterministic * PHASE_ONE_SHARE, wall, large=large)
    status = _checked(first, first.solve(model, _StopAtBound()))
    used = _rounded(first.deterministic_time)
    coverage_proven = status == cp_model.OPTIMAL or (
        status == cp_model.FEASIBLE and first.objective_value >= math.floor(first.best_objective_bound + 1e-6)
    )
    coverage_bound = trivial_coverage
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = better(component, best, _chosen(first, x))
        coverage_bound = min(coverage_bound, math.floor(first.best_objective_bound + 1e-6))
    best = better(component, best, improve(component, best))
    found, _ = value(component, best)
    coverage = cp_model.LinearExpr.weighted_sum(x, pair_priority)

    top = math.inf
    score_bound = trivial_score
    proven = False
    model.clear_hints()
    if coverage_proven:
        # 3a. The coverage is the optimum's: only the score is left, among the plans that keep it.
        model.add(coverage >= found)
        _hint(model, x, teams, component, best)
        _maximize(model, x, component.score)
        # The old phase 2: the rest of the deterministic budget, and SCORE_SHARE of the wall time left.
        second = _cpsat_solver(
            budget, max(budget.deterministic - used, 0.0), max(deadline - time.perf_counter(), 0.0) * SCORE_SHARE
        )
        status = _checked(second, second.solve(model, _StopAtBound()))
        used = _rounded(used + second.deterministic_time)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = better(component, best, _chosen(second, x))
            score_bound = min(score_bound, math.floor(second.best_objective_bound + 1e-6))
            proven = second.objective_value >= score_bound
        if math.isfinite(score_bound):
            top = found * big + score_bound
    else:
        # 3b. The weighted model over the plans with at least the coverage found: the reference's, with
        # the coverage phase's lower bound as a constraint that cuts the search.
        model.add(coverage >= found)
        _maximize(model, x, _weights(component, big))
        second = _solver(budget.workers, budget.seed, max(deadline - time.perf_counter(), 0.0) * MODEL_SHARE)
        status = _checked(second, second.solve(model))
        used = _rounded(used + second.deterministic_time)
        proven = status == cp_model.OPTIMAL
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = better(component, best, _chosen(second, x))
            top = second.best_objective_bound
    if not proven:
        # A plan worth the bound is optimal: the neighbourhoods stop there.
        enough = None
        if math.isfinite(top):
            most = min((math.floor(top + 1e-6) - lowest) // big, coverage_bound)
            enough = (most, math.floor(top + 1e-6) - most * big)
        best, used = _neighbourhoods(component, best, big, budget, deadline, used, enough)
        best = better(component, best, improve(component, best))
    final_coverage, final_score = value(component, best)
    if math.isfinite(top):
        top = math.floor(top + 1e-6)
        # Every plan's score lies in [lowest, trivial_score], so the optimum's coverage is at most
        # (top - lowest) // big; it has at least this plan's coverage, so its score is at most
        # top - coverage × big. (Both models ranged over plans with at least ``found`` coverage, which
        # include the optimum, so their bound is the optimum's.)
        coverage_bound = min(coverage_bound, (top - lowest) // big)
        score_bound = min(score_bound, top - final_coverage * big)
    proven = proven or (final_coverage, final_score) == (coverage_bound, score_bound)
    return Outcome(best, max(coverage_bound, final_coverage), max(score_bound, final_score), proven, used, not proven)


def _neighbourhoods(
    component: Component,
    best: list[int],
    big: int,
    budget: Budget,
    deadline: float,
    used: float,
    enough: tuple[int, int] | None = None,
) -> tuple[list[int], float]:
    """Re-solve a few volunteers at a time, everyone else fixed, until the deadline or a plan worth
    ``enough`` (coverage, score), the optimum (see the module's docstring). Returns the plan and the
    deterministic time used, the small models' added to ``used``."""
    volunteers = len(component.volunteer_ids)
    freed = min(NEIGHBOURHOOD_VOLUNTEERS, volunteers)
    rng = random.Random(budget.seed)
    opening = OPEN_REQUESTS
    by_volunteer: list[list[int]] = [[] for _ in range(volunteers)]
    for p, v in enumerate(component.pair_volunteer):
        by_volunteer[v].append(p)
    partners: list[list[int]] = [[] for _ in range(component.num_pairs)]
    for a, b in component.clashes:
        partners[a].append(b)
        partners[b].append(a)
    while deadline - time.perf_counter() > 0.05 and (enough is None or value(component, best) < enough):
        free = set(rng.sample(range(volunteers), freed))
        sub, pairs, fixed = _neighbourhood(component, best, free, by_volunteer, partners, rng, opening)
        if not pairs:
            continue
        model = cp_model.CpModel()
        x = [model.new_bool_var("") for _ in pairs]
        teams = _add_rules(model, sub, x)
        _maximize(model, x, _weights(sub, big))
        chosen = set(best)
        _hint(model, x, teams, sub, [i for i, p in enumerate(pairs) if p in chosen])
        solver = _solver(budget.workers, budget.seed, min(NEIGHBOURHOOD_WALL, deadline - time.perf_counter()))
        # Proven once no plan of the neighbourhood could add a place (coverage first): closing the
        # score as well took most small models past their limit, and shrank the neighbourhoods.
        solver.parameters.absolute_gap_limit = big * 0.5
        status = _checked(solver, solver.solve(model))
        used = _rounded(used + solver.deterministic_time)
        proven_here = status == cp_model.OPTIMAL
        opening = min(opening + OPEN_STEP, OPEN_MOST) if proven_here else max(opening - OPEN_STEP, OPEN_FEWEST)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = better(component, best, sorted(fixed + [pairs[i] for i in _chosen(solver, x)]))
    return best, used


def _neighbourhood(
    component: Component,
    best: list[int],
    free: set[int],
    by_volunteer: list[list[int]],
    partners: list[list[int]],
    rng: random.Random,
    opening: int,
) -> tuple[Component, list[int], list[int]]:
    """The small model where the ``free`` volunteers' places are open and everyone else's fixed: the
    sub-component, its pairs' indices in ``component``, and the fixed pairs of the plan.

    A request keeps the places the fixed volunteers hold; an all-or-nothing team with any fixed member
    stays as it is (its free members too); a free volunteer's capacity is what that leaves them, and a
    pair clashing with a fixed place is left out."""
    request, load = component.pair_request, component.load
    frozen_teams = {
        request[p] for p in best if component.all_or_nothing[request[p]] and component.pair_volunteer[p] not in free
    }
    fixed = [p for p in best if component.pair_volunteer[p] not in free or request[p] in frozen_teams]
    taken = set(fixed)
    held = [0] * len(component.request_ids)
    for p in fixed:
        held[request[p]] += 1
    # Requests with room that none of the freed volunteers holds: a sample of them, so the small model is
    # proven in a fraction of a second (all of them made it as hard as the whole one on tight weeks).
    own = {request[p] for p in best if component.pair_volunteer[p] in free}
    open_requests = sorted({request[p] for v in free for p in by_volunteer[v]} - own - frozen_teams)
    room = [r for r in open_requests if held[r] < component.needed[r]]
    allowed = own | set(rng.sample(room, min(opening, len(room))))
    pairs: list[int] = []
    capacity: dict[int, int] = {}
    for v in sorted(free):
        capacity[v] = component.capacity[v] - sum(load[p] for p in by_volunteer[v] if p in taken)
        for p in by_volunteer[v]:
            r = request[p]
            if p in taken or r not in allowed or held[r] >= component.needed[r] or load[p] > capacity[v]:
                continue
            if any(q in taken for q in partners[p]):
                continue
            pairs.append(p)
    requests = sorted({request[p] for p in pairs})
    volunteers = sorted({component.pair_volunteer[p] for p in pairs})
    r_at = {r: i for i, r in enumerate(requests)}
    v_at = {v: i for i, v in enumerate(volunteers)}
    at = {p: i for i, p in enumerate(pairs)}
    sub = Component(
        volunteer_ids=[component.volunteer_ids[v] for v in volunteers],
        request_ids=[component.request_ids[r] for r in requests],
        capacity=[capacity[v] for v in volunteers],
        needed=[component.needed[r] - held[r] for r in requests],
        priority=[component.priority[r] for r in requests],
        all_or_nothing=[component.all_or_nothing[r] for r in requests],
        pair_volunteer=[v_at[component.pair_volunteer[p]] for p in pairs],
        pair_request=[r_at[request[p]] for p in pairs],
        load=[load[p] for p in pairs],
        score=[component.score[p] for p in pairs],
        clashes=[(at[a], at[b]) for a, b in component.clashes if a in at and b in at],
    )
    return sub, pairs, fixed


class _StopAtBound(cp_model.CpSolverSolutionCallback):
    """Stops a search at a plan worth its bound. The interleaved two-worker search of the coverage phase
    went on for seconds after it had found a plan at its bound (5x100-corr-tight: 358 = the bound at
    3.4 s, OPTIMAL reported at the 8 s limit), time the next model needs."""

    def on_solution_callback(self) -> None:
        if self.objective_value >= math.floor(self.best_objective_bound + 1e-6):
            self.stop_search()


def _weights(component: Component, big: int) -> list[int]:
    return [component.priority[r] * big + s for r, s in zip(component.pair_request, component.score, strict=True)]


def _solver(workers: int, seed: int, wall: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = workers
    parameters.random_seed = seed
    parameters.max_time_in_seconds = max(wall, 1e-3)
    return solver


def _lowest_score(component: Component) -> int:
    """A lower bound on any plan's score: each request given its `needed` most negative pairs."""
    negative: list[list[int]] = [[] for _ in component.request_ids]
    for request, score in zip(component.pair_request, component.score, strict=True):
        if score < 0:
            negative[request].append(score)
    return sum(sum(sorted(options)[: component.needed[r]]) for r, options in enumerate(negative))
