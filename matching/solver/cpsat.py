"""The CP-SAT path: any component, with knapsacks, clashes and all-or-nothing teams.

Pure module. One boolean per pair; the rules as constraints; two solves in a row for the
lexicographic goal:

1. maximise coverage (sum of request priority over chosen pairs);
2. add "coverage >= the phase-1 value" and maximise score, hinted with the phase-1 plan.

Why two phases rather than one weighted objective (priority × BIG + score): the weighted
form is exact too, but its coefficients grow with the number of pairs (BIG must exceed
the whole score range), which weakens CP-SAT's LP relaxation and its bound reasoning and
can overflow at city scale. Two phases keep each objective small and make the bound
honest: phase 2's bound covers every plan with at least the phase-1 coverage, and that
includes the optimal plan even when phase 1 was not proven.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matching.solver.components import Component, Outcome, trivial_bounds, value
from matching.solver.heuristics import augment, better, greedy, improve
from matching.solver.relaxation import relaxation_bounds

# Phase 1 (coverage) decides most of the plan, so it gets most of the time; phase 2
# (score) gets the rest plus whatever phase 1 did not use. On large models phase 2 barely
# moves from its hint (the local search does that work), and a tenth of the budget does not even
# cover its presolve, so it stops with no bound: there phase 1 gets it all, and phase 2 runs only on
# what a proven phase 1 leaves.
PHASE_ONE_SHARE = 0.7
PHASE_ONE_SHARE_LARGE = 1.0

# From this many pairs, phase 1 runs one CP-SAT worker with linearization level 2 (cuts on the
# knapsack and team rows). On components of tens of thousands of pairs the default linearisation's
# bound stalls, and two interleaved workers do not close the gap in any time a run has; level 2 adds
# the cuts that close it. One worker is also deterministic. Smaller models prove fast either way and
# keep the portfolio.
LARGE_PAIRS = 5_000


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for one CP-SAT component: deterministic time binds; `wall` seconds (from the
    call, model building included) are a backstop."""

    deterministic: float
    wall: float
    workers: int = 1
    seed: int = 0


def solve_cpsat(
    component: Component,
    budget: Budget,
    *,
    score_phase: bool = True,
    hint: list[int] | None = None,
    quick_starts: bool = True,
) -> Outcome:
    """Solve one component (or a merged batch) lexicographically with CP-SAT.

    `hint` is a valid plan (local pair indices) to start from; the result is never worse.
    `score_phase=False` skips phase 2 and the local search before it (the parts of a huge component:
    one local search over the whole plan does the score there); the score bound is then the trivial
    one and the outcome is not optimal.

    Always returns a feasible plan: the best of a greedy plan and what each phase found.
    Bounds are CP-SAT's when it reports a usable one, otherwise the trivial bounds, which
    hold for every plan.
    """
    # The wall backstop counts from now: building the model is part of the component's time.
    deadline = time.perf_counter() + budget.wall
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(component.num_pairs)]
    teams = _add_rules(model, component, x)
    pair_priority = [component.priority[r] for r in component.pair_request]
    coverage = cp_model.LinearExpr.weighted_sum(x, pair_priority)
    trivial_coverage, trivial_score = trivial_bounds(component)

    # The greedy plans hint phase 1 and stay candidates: phase 1 returns *a* plan of best coverage
    # with an arbitrary score, and when phase 2 runs out of time a greedy plan is often the better.
    # Two of them: the volunteers least needed elsewhere first (more coverage where people are
    # scarce) and the best scores first (often the same coverage at a higher score, from which
    # phase 2 proves its optimum sooner). A part of a huge
    # component (``quick_starts=False``) starts from its hint alone: the plan around it.
    best = sorted(hint) if hint is not None else []
    if quick_starts or hint is None:
        best = better(component, better(component, greedy(component, best_scores_first=True), greedy(component)), best)
        best = better(component, best, augment(component, best))  # and its free places filled by short moves
    _hint(model, x, teams, component, best)
    _maximize(model, x, pair_priority)
    large = component.num_pairs >= LARGE_PAIRS
    phase_one_share = (PHASE_ONE_SHARE_LARGE if large else PHASE_ONE_SHARE) if score_phase else 1.0
    det_one = budget.deterministic * phase_one_share
    wall_one = max(deadline - time.perf_counter(), 0.0) * phase_one_share
    first = _solver(budget, det_one, wall_one, large=large)
    status = _checked(first, first.solve(model))
    used_det = _rounded(first.deterministic_time)
    wall_hit = _wall_stopped(first, status, wall_one)
    proven = status == cp_model.OPTIMAL
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = better(component, best, _chosen(first, x))
        coverage_bound = min(_floor(first.best_objective_bound, trivial_coverage), trivial_coverage)
    else:
        coverage_bound = trivial_coverage  # UNKNOWN: CP-SAT's bound field means nothing then
    if large and not proven:  # the search stopped early: short moves may still fill a place or two
        best = better(component, best, augment(component, best))
    found_coverage, _ = value(component, best)
    if not score_phase:  # the caller's local search, over the whole plan, does the score
        final_coverage, final_score = value(component, best)
        return Outcome(
            best, max(coverage_bound, final_coverage), max(trivial_score, final_score), False, used_det, wall_hit
        )

    # Phase 1's plan has the best coverage but an arbitrary score: move people to better-scoring
    # places of the same requests first, so that phase 2 starts from a good plan.
    best = better(component, best, improve(component, best))
    if large and not proven:  # phase 1 had the whole budget: nothing is left for phase 2
        final_coverage, final_score = value(component, best)
        score_bound = min(trivial_score, relaxation_bounds(component)[1])
        return Outcome(
            best, max(coverage_bound, final_coverage), max(score_bound, final_score), False, used_det, wall_hit
        )
    model.add(coverage >= found_coverage)
    _maximize(model, x, component.score)
    model.clear_hints()
    _hint(model, x, teams, component, best)
    det_two, wall_two = max(budget.deterministic - used_det, 0.0), max(deadline - time.perf_counter(), 0.0)
    second = _solver(budget, det_two, wall_two)
    status = _checked(second, second.solve(model))
    used_det += _rounded(second.deterministic_time)
    wall_hit = wall_hit or _wall_stopped(second, status, wall_two)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = better(component, best, _chosen(second, x))
        # Phase 2 ranged over every plan with coverage >= found_coverage, which includes the
        # optimal plan even when phase 1 was not proven: its bound bounds the optimal score.
        score_bound = min(_floor(second.best_objective_bound, trivial_score), trivial_score)
    else:
        score_bound = trivial_score
    if status != cp_model.OPTIMAL:
        best = better(component, best, improve(component, best))
        if large and score_bound == trivial_score:
            # No bound from phase 2 in time: a flow relaxation's is far tighter than the trivial one.
            score_bound = min(score_bound, relaxation_bounds(component)[1])
    final_coverage, final_score = value(component, best)
    return Outcome(
        best,
        max(coverage_bound, final_coverage),
        max(score_bound, final_score),
        proven and status == cp_model.OPTIMAL,
        used_det,
        wall_hit,
    )


def _add_rules(model: cp_model.CpModel, component: Component, x: list[cp_model.IntVar]) -> dict[int, cp_model.IntVar]:
    """Post the hard rules; return the 'team is staffed' boolean of each all-or-nothing request."""
    by_request: list[list[int]] = [[] for _ in component.request_ids]
    by_volunteer: list[list[int]] = [[] for _ in component.volunteer_ids]
    for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True)):
        by_request[r].append(p)
        by_volunteer[v].append(p)
    teams = {}
    for r, pairs in enumerate(by_request):
        needed = component.needed[r]
        if component.all_or_nothing[r]:
            teams[r] = staffed = model.new_bool_var("")
            model.add(cp_model.LinearExpr.sum([x[p] for p in pairs]) == needed * staffed)
        elif needed == 1 and len(pairs) > 1:
            model.add_at_most_one(x[p] for p in pairs)
        elif len(pairs) > needed:
            model.add(cp_model.LinearExpr.sum([x[p] for p in pairs]) <= needed)
    units = component.unit_capacities()
    for v, pairs in enumerate(by_volunteer):
        paid = [p for p in pairs if component.load[p] > 0]
        if units[v] is None:
            model.add(
                cp_model.LinearExpr.weighted_sum([x[p] for p in paid], [component.load[p] for p in paid])
                <= component.capacity[v]
            )
        elif units[v] == 1 and len(paid) > 1:
            model.add_at_most_one(x[p] for p in paid)
        elif units[v] < len(paid):
            # All loads equal: a count is the same rule and gives CP-SAT a tighter relaxation.
            model.add(cp_model.LinearExpr.sum([x[p] for p in paid]) <= units[v])
    for a, b in component.clashes:
        model.add_at_most_one(x[a], x[b])
    return teams


def _hint(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    teams: dict[int, cp_model.IntVar],
    component: Component,
    chosen: list[int],
) -> None:
    # Written into the model's proto in bulk (what add_hint does one variable at a time): a city
    # part or a 30k-pair component has tens of thousands of variables, and this runs twice per model.
    on = [0] * len(x)
    for p in chosen:
        on[p] = 1
    staffed = {component.pair_request[p] for p in chosen}
    hint = model.proto.solution_hint
    hint.vars.extend([var.index for var in x] + [var.index for var in teams.values()])
    hint.values.extend(on + [int(r in staffed) for r in teams])


def _maximize(model: cp_model.CpModel, x: list[cp_model.IntVar], coefficients: list[int]) -> None:
    """``model.maximize(LinearExpr.weighted_sum(x, coefficients))``, written into the proto in bulk as
    ``maximize`` writes it (negated coefficients, scaling factor -1), without building and flattening
    an expression of one term per pair first."""
    model.clear_objective()
    objective = model.proto.objective
    objective.vars.extend([var.index for var in x])
    objective.coeffs.extend([-c for c in coefficients])
    objective.scaling_factor = -1.0


def _solver(budget: Budget, deterministic: float, wall: float, *, large: bool = False) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1 if large else max(1, min(budget.workers, 2))  # the hosts have 2 cores
    if large:
        parameters.linearization_level = 2
    parameters.random_seed = budget.seed
    if parameters.num_workers > 1:
        parameters.interleave_search = True  # parallel but deterministic (see docs/matching.md)
    # A spent budget means "stop almost at once", never a zero/negative (invalid) limit.
    parameters.max_deterministic_time = max(deterministic, 1e-3)
    parameters.max_time_in_seconds = max(wall, 1e-3)
    return solver


def _checked(solver: cp_model.CpSolver, status: int) -> int:
    # INFEASIBLE cannot happen (the hinted plan satisfies both phases); MODEL_INVALID is a bug.
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        raise RuntimeError(f"CP-SAT ended {solver.status_name(status)}: {solver.solution_info()}")
    return status


def _wall_stopped(solver: cp_model.CpSolver, status: int, wall_limit: float) -> bool:
    """Whether the wall clock ended an unproven search (then the plan may differ between runs)."""
    return status != cp_model.OPTIMAL and solver.wall_time >= 0.98 * wall_limit


def _chosen(solver: cp_model.CpSolver, x: list[cp_model.IntVar]) -> list[int]:
    return [p for p, var in enumerate(x) if solver.boolean_value(var)]


def _rounded(deterministic_time: float) -> float:
    # Parallel runs of the same search report deterministic time differing in the last bit;
    # rounding keeps the budgets passed on to later phases and components reproducible.
    return round(deterministic_time, 6)


def _floor(bound: float, fallback: int) -> int:
    """CP-SAT's bound as an int (objectives are integral); fallback if it has none."""
    if not math.isfinite(bound):
        return fallback
    return math.floor(bound + 1e-6)  # never round a true bound below itself
