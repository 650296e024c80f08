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

from matching.components import Component, Outcome, trivial_bounds, value

# Phase 1 (coverage) decides most of the plan, so it gets most of the time; phase 2
# (score) gets the rest plus whatever phase 1 did not use.
PHASE_ONE_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for one CP-SAT component: deterministic time binds; `wall` seconds (from the
    call, model building included) are a backstop."""

    deterministic: float
    wall: float
    workers: int = 1
    seed: int = 0


def solve_cpsat(component: Component, budget: Budget) -> Outcome:
    """Solve one component (or a merged batch) lexicographically with CP-SAT.

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
    score = cp_model.LinearExpr.weighted_sum(x, component.score)
    trivial_coverage, trivial_score = trivial_bounds(component)

    # The greedy plan hints phase 1 and stays a candidate: phase 1 returns *a* plan of best
    # coverage with an arbitrary score, and when phase 2 runs out of time the greedy plan,
    # which picks high scores first, is often the better of the two.
    best = _greedy(component)
    _hint(model, x, teams, component, best)
    model.maximize(coverage)
    det_one = budget.deterministic * PHASE_ONE_SHARE
    wall_one = max(deadline - time.perf_counter(), 0.0) * PHASE_ONE_SHARE
    first = _solver(budget, det_one, wall_one)
    status = _checked(first, first.solve(model))
    used_det = _rounded(first.deterministic_time)
    wall_hit = _wall_stopped(first, status, wall_one)
    proven = status == cp_model.OPTIMAL
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = _better(component, best, _chosen(first, x))
        coverage_bound = min(_floor(first.best_objective_bound, trivial_coverage), trivial_coverage)
    else:
        coverage_bound = trivial_coverage  # UNKNOWN: CP-SAT's bound field means nothing then
    found_coverage, _ = value(component, best)

    model.add(coverage >= found_coverage)
    model.maximize(score)
    model.clear_hints()
    _hint(model, x, teams, component, best)
    det_two, wall_two = max(budget.deterministic - used_det, 0.0), max(deadline - time.perf_counter(), 0.0)
    second = _solver(budget, det_two, wall_two)
    status = _checked(second, second.solve(model))
    used_det += _rounded(second.deterministic_time)
    wall_hit = wall_hit or _wall_stopped(second, status, wall_two)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = _better(component, best, _chosen(second, x))
        # Phase 2 ranged over every plan with coverage >= found_coverage, which includes the
        # optimal plan even when phase 1 was not proven: its bound bounds the optimal score.
        score_bound = min(_floor(second.best_objective_bound, trivial_score), trivial_score)
    else:
        score_bound = trivial_score
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


def _greedy(component: Component) -> list[int]:
    """A feasible starting plan: best pairs first, whole teams at once, every rule checked.

    Gives CP-SAT a good first solution on big components, where finding one can otherwise
    take a noticeable share of the budget.
    """
    pair_priority = [component.priority[r] for r in component.pair_request]
    by_request: list[list[int]] = [[] for _ in component.request_ids]
    for p, r in enumerate(component.pair_request):
        by_request[r].append(p)
    clash_with: dict[int, list[int]] = {}
    for a, b in component.clashes:
        clash_with.setdefault(a, []).append(b)
        clash_with.setdefault(b, []).append(a)
    taken = [False] * component.num_pairs
    room = list(component.capacity)
    filled = [0] * len(component.request_ids)
    tried = [False] * len(component.request_ids)

    def fits(p: int) -> bool:
        return component.load[p] <= room[component.pair_volunteer[p]] and not any(
            taken[q] for q in clash_with.get(p, ())
        )

    def take(p: int) -> None:
        taken[p] = True
        room[component.pair_volunteer[p]] -= component.load[p]
        filled[component.pair_request[p]] += 1

    order = sorted(range(component.num_pairs), key=lambda p: (-pair_priority[p], -component.score[p], p))
    for p in order:
        r = component.pair_request[p]
        if component.all_or_nothing[r]:
            if tried[r]:
                continue
            tried[r] = True
            # Pairs of one request have distinct volunteers and never clash with each other.
            team = sorted((q for q in by_request[r] if fits(q)), key=lambda q: (-component.score[q], q))
            team = team[: component.needed[r]]
            if len(team) == component.needed[r] and (
                component.priority[r] > 0 or sum(component.score[q] for q in team) > 0
            ):
                for q in team:
                    take(q)
        elif filled[r] < component.needed[r] and (pair_priority[p] > 0 or component.score[p] > 0) and fits(p):
            take(p)
    return [p for p in range(component.num_pairs) if taken[p]]


def _better(component: Component, incumbent: list[int], challenger: list[int]) -> list[int]:
    """The lexicographically better plan; the incumbent on a tie (keeps runs reproducible)."""
    return challenger if value(component, challenger) > value(component, incumbent) else incumbent


def _hint(
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    teams: dict[int, cp_model.IntVar],
    component: Component,
    chosen: list[int],
) -> None:
    on = set(chosen)
    for p, var in enumerate(x):
        model.add_hint(var, p in on)
    staffed = {component.pair_request[p] for p in chosen}
    for r, var in teams.items():
        model.add_hint(var, r in staffed)


def _solver(budget: Budget, deterministic: float, wall: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = max(1, min(budget.workers, 2))  # the hosts have 2 cores
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
