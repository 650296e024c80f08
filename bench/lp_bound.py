"""A tighter proven bound on coverage than the solver's flow relaxation, for the benchmark only.

    python -m bench.lp_bound INSTANCE.json [--coverage C]

INSTANCE.json is an instance as `python -m bench.matching ... --write-instance FILE` writes it. For
each component of the presolved instance (matching.solver.components.decompose) this solves the linear
relaxation of the coverage problem with GLOP, with every rule as a row:

- a request takes at most `needed` people (an all-or-nothing team is relaxed to "at most");
- a volunteer's loads add up to at most their capacity, and they take at most as many places as
  their smallest loads fit (a count that the fractional knapsack alone would not give);
- of pairs that pairwise clash, at most one: one row per clique of an *edge clique cover* (every
  effective clash lies in at least one clique, cliques grown greedily from each uncovered clash).

Every plan is a 0/1 point of these rows, so the LP optimum bounds the best plan's coverage: a
proven bound, tighter than the flow relaxation's (matching/relaxation.py), whose cliques must
partition the pairs (a pair in one clique only, so many clashes are not represented) and whose
capacities are counts. It is far too slow for a run (on London's week: about a minute for the cover
and half a minute for GLOP, beside a solve of ~20 s), which is why the product reports the flow
bound and the benchmark measures this one.

A tighter bound still comes from the same LP's prices (``lagrangian_bound``). Give each request the
dual value of its row as a price per place; then drop the requests' rows and let each volunteer take
their best set of pairs, each worth its request's priority less that price, **exactly**: within their
capacity and with no two clashing pairs, where the LP could take fractions of both. For any prices
that are not negative, the prices × places plus the volunteers' best sets bound every plan's coverage
(a plan is one such set per volunteer, and keeps each request's row). On the small weeks whose optimum
is proven it removes most of the LP's slack (2,000 × 500: 933 → 923, optimum 920); on city weeks less
(London's: 76,581 → 76,489). What it cannot see is in the requests' rows (a team filled by halves of
four people). Prints both bounds and, with --coverage, the gaps.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from matching.solver.components import Component, ComponentArrays, decompose
from matching.solver.instance import parse_instance
from matching.solver.relaxation import most_places


def edge_clique_cover(component: Component) -> list[list[int]]:
    """Cliques (pair indices, two or more) that together contain every effective clash. Greedy: from
    each clash not yet covered, add the common partner with the most common partners, and so on."""
    partners: list[set[int]] = [set() for _ in range(component.num_pairs)]
    for a, b in component.clashes:
        partners[a].add(b)
        partners[b].add(a)
    covered: set[tuple[int, int]] = set()
    cliques = []
    for p in sorted(range(component.num_pairs), key=lambda p: (-len(partners[p]), p)):
        for q in sorted(partners[p], key=lambda q: (-len(partners[q]), q)):
            if (min(p, q), max(p, q)) in covered:
                continue
            members, common = [p, q], partners[p] & partners[q]
            while common:
                r = max(common, key=lambda r: (len(partners[r] & common), -r))
                members.append(r)
                common &= partners[r]
            covered.update((min(a, b), max(a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
            cliques.append(members)
    return cliques


def lp_bound(component: Component) -> float:
    """The LP relaxation's optimal coverage for one component (see the module docstring)."""
    return relaxation(component)[0]


def relaxation(component: Component) -> tuple[float, np.ndarray]:
    """The LP relaxation's optimal coverage, and each request's price: the dual value of its row."""
    arrays = ComponentArrays(component)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    x = [solver.NumVar(0, 1, "") for _ in range(component.num_pairs)]
    objective = solver.Objective()
    for p, var in enumerate(x):
        objective.SetCoefficient(var, float(arrays.priority[arrays.pr[p]]))
    objective.SetMaximization()

    def rows(group: np.ndarray, limit: np.ndarray, weight: np.ndarray | None = None) -> dict[int, pywraplp.Constraint]:
        made = {}
        order = np.argsort(group, kind="stable")
        for members in np.split(order, np.flatnonzero(np.diff(group[order])) + 1):
            if not len(members):
                continue
            made[int(group[members[0]])] = row = solver.Constraint(-solver.infinity(), float(limit[group[members[0]]]))
            for p in members.tolist():
                row.SetCoefficient(x[p], 1.0 if weight is None else float(weight[p]))
        return made

    request_rows = rows(arrays.pr, arrays.needed)
    rows(arrays.pv, arrays.capacity, arrays.load)
    rows(arrays.pv, most_places(arrays))
    for clique in edge_clique_cover(component):
        row = solver.Constraint(-solver.infinity(), 1.0)
        for p in clique:
            row.SetCoefficient(x[p], 1.0)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SystemExit("GLOP did not solve the relaxation")
    prices = np.zeros(len(component.request_ids))
    for r, row in request_rows.items():
        prices[r] = row.dual_value()
    return objective.Value(), prices


# A volunteer's best set is searched exactly, depth first, for at most this many nodes; beyond it
# (a remote volunteer with hundreds of pairs and a loose knapsack) CP-SAT bounds it instead.
BEST_SET_NODES = 20_000
# CP-SAT needs whole numbers: a pair's worth is scaled by this and rounded up (so still a bound).
WORTH_SCALE = 10**6


def lagrangian_bound(component: Component, prices: np.ndarray) -> float:
    """Σ price × needed over the requests, plus each volunteer's best set of pairs worth priority less
    price (see the module docstring). A bound on every plan's coverage for any prices ≥ 0."""
    arrays = ComponentArrays(component)
    prices = np.maximum(np.asarray(prices, dtype=np.float64), 0.0)
    worth = arrays.priority[arrays.pr] - prices[arrays.pr]
    total = float(prices @ arrays.needed)
    # Pairs worth nothing are never in a best set: every volunteer rule is an "at most" rule.
    useful = worth > 0
    partners: dict[int, set[int]] = {int(p): set() for p in np.flatnonzero(useful)}
    if len(arrays.clashes):
        both = arrays.clashes[useful[arrays.clashes[:, 0]] & useful[arrays.clashes[:, 1]]]
        for a, b in both.tolist():
            partners[a].add(b)
            partners[b].add(a)
    pairs = np.flatnonzero(useful)
    pairs = pairs[np.argsort(arrays.pv[pairs], kind="stable")]
    edges = np.flatnonzero(np.diff(arrays.pv[pairs])) + 1
    worth_list, load_list = worth.tolist(), arrays.load.tolist()
    for items in np.split(pairs, edges):
        if len(items):
            room = int(arrays.capacity[arrays.pv[items[0]]])
            total += best_set(items.tolist(), worth_list, load_list, room, partners)
    return total


def best_set(items: list[int], worth: list[float], load: list[int], room: int, partners: dict[int, set[int]]) -> float:
    """The most worth a set of `items` (one volunteer's pairs, each worth > 0) can add up to with their
    loads within `room` and no two of them clashing; or, past BEST_SET_NODES, an upper bound on it.
    Depth first, best worth per load first, pruned by the fractional knapsack (clashes ignored)."""
    items = sorted(items, key=lambda p: (-worth[p] / load[p] if load[p] else -math.inf, p))
    values, loads = [worth[p] for p in items], [load[p] for p in items]
    best, nodes = 0.0, 0

    def fractional(i: int, left: int) -> float:
        total = 0.0
        for j in range(i, len(items)):
            if loads[j] <= left:
                left -= loads[j]
                total += values[j]
            else:
                return total + values[j] * left / loads[j]
        return total

    def search(i: int, left: int, total: float, chosen: list[int]) -> None:
        nonlocal best, nodes
        nodes += 1
        best = max(best, total)
        if i == len(items) or nodes > BEST_SET_NODES or total + fractional(i, left) <= best:
            return
        p = items[i]
        if loads[i] <= left and not any(q in partners[p] for q in chosen):
            chosen.append(p)
            search(i + 1, left - loads[i], total + values[i], chosen)
            chosen.pop()
        search(i + 1, left, total, chosen)

    search(0, room, 0.0, [])
    if nodes <= BEST_SET_NODES:
        return best
    return _best_set_bound(items, worth, load, room, partners, fallback=fractional(0, room))


def _best_set_bound(
    items: list[int], worth: list[float], load: list[int], room: int, partners: dict[int, set[int]], fallback: float
) -> float:
    """CP-SAT's upper bound on best_set's answer; `fallback` (a bound too) if it proves none."""
    model = cp_model.CpModel()
    x = {p: model.new_bool_var("") for p in items}
    model.add(cp_model.LinearExpr.weighted_sum([x[p] for p in items], [load[p] for p in items]) <= room)
    for p in items:
        for q in partners[p]:
            if p < q and q in x:
                model.add_at_most_one(x[p], x[q])
    model.maximize(
        cp_model.LinearExpr.weighted_sum([x[p] for p in items], [math.ceil(worth[p] * WORTH_SCALE) for p in items])
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30.0
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return fallback
    return min(solver.best_objective_bound / WORTH_SCALE, fallback)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("--coverage", type=int, help="a plan's coverage, to print its gap to the bound")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    instance = parse_instance(json.loads(args.instance.read_text(encoding="utf-8")))
    components = decompose(instance).components
    # Coverage is a whole number, so each component's bound rounds down; GLOP's answer is exact only to
    # its tolerances (~1e-6 relative), so half a unit of slack is kept rather than trusting the last digit.
    # The Lagrangian bound is summed here from its exact parts (any prices give a bound), so a hundredth
    # is ample for the sums' rounding; per component, the lower of the two bounds counts.
    lp_total = lagrangian_total = 0
    for component in components:
        lp, prices = relaxation(component)
        lp_total += math.floor(lp + 0.5)
        lagrangian_total += min(math.floor(lp + 0.5), math.floor(lagrangian_bound(component, prices) + 0.01))
    seconds = time.perf_counter() - started
    print(f"LP bound on coverage: {lp_total:,} ({len(components)} components, {seconds:.0f} s in all)")
    print(f"Lagrangian bound on coverage: {lagrangian_total:,}")
    if args.coverage is not None:
        for name, bound in (("LP", lp_total), ("Lagrangian", lagrangian_total)):
            gap = 100 * (bound - args.coverage) / bound
            print(f"plan's coverage {args.coverage:,}: {gap:.2f}% below the {name} bound")


if __name__ == "__main__":
    main()
